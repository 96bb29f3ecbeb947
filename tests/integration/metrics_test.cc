// Prometheus metrics of the real vmscan-server binary, scraped over HTTP(S) and parsed by
// Prometheus' own Python client parser (tests/testing/scrape_metrics.py) after real
// `vmscan-agent scan` runs: scans by verdict/action/channel/group, latency histograms, per-VM
// in-flight gauges, the grpc_server_* metrics from the interceptor, engine, cache and Backup
// state; and the endpoint's mutual TLS: an administrator's certificate scrapes, a VM's is
// refused, none fails the handshake (docs/design.md §7, "Metrics").
#include <map>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/server_process.h"
#include "tests/smtp/smtp_peers.h"
#include "tests/testing/prometheus_scrape.h"
#include "tests/testing/test_mail.h"

namespace vmscan::testing {
namespace {

class MetricsTest : public ::testing::Test {
 protected:
  CommandRun Agent(const ServerProcess& server, const std::string& sample) {
    return Shell(absl::StrCat(VMSCAN_AGENT_BIN, " scan --server ", server.address(),
                              " --set state_dir=", server.dir, "/agent --set vm.id=metrics-vm ",
                              SourcePath("deploy/samples/" + sample), " > /dev/null"));
  }
};

TEST_F(MetricsTest, ScrapedAndParsedAfterRealScans) {
  const int metrics_port = FreePort();
  absl::StatusOr<ServerProcess> server =
      StartServerProcess(VMSCAN_SERVER_BIN, "metrics-plain", 0,
                         {absl::StrCat("metrics.listen=127.0.0.1:", metrics_port)});
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string url = absl::StrCat("http://127.0.0.1:", metrics_port, "/metrics");

  absl::StatusOr<Scrape> before = ScrapeMetrics(url);
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(before->status, 200);
  EXPECT_TRUE(absl::StartsWith(before->content_type, "text/plain; version=0.0.4"))
      << before->content_type;
  EXPECT_EQ(before->Sum("vmscan_serving"), 1);
  EXPECT_GT(before->Sum("vmscan_engine_signatures"), 0);
  EXPECT_EQ(before->Find("vmscan_engine_info").size(), 1u);
  EXPECT_GT(before->Sum("vmscan_engine_load_seconds"), 0);
  EXPECT_EQ(before->Sum("vmscan_scans_total"), 0);
  EXPECT_EQ(before->Sum("vmscan_backup_records"), 0);

  EXPECT_EQ(Agent(*server, "clean.eml").exit_code, 0);
  EXPECT_EQ(Agent(*server, "clean.eml").exit_code, 0);  // the second from the verdict cache
  const int infected = Agent(*server, "infected-attachment.eml").exit_code;
  EXPECT_NE(infected, 0);

  absl::StatusOr<Scrape> after = ScrapeMetrics(url);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->types["vmscan_scans"], "counter");
  EXPECT_EQ(after->types["vmscan_scan_duration_seconds"], "histogram");
  EXPECT_EQ(after->types["grpc_server_handling_seconds"], "histogram");
  EXPECT_EQ(after->types["vmscan_vm_bytes_in_flight"], "gauge");

  const std::map<std::string, std::string> cli_clean = {{"verdict", "clean"},
                                                        {"action", "deliver"},
                                                        {"channel", "cli"},
                                                        {"direction", "incoming"},
                                                        {"group", "Managed devices"}};
  EXPECT_EQ(after->Sum("vmscan_scans_total", cli_clean), 2);
  EXPECT_EQ(after->Sum("vmscan_scans_total", {{"verdict", "infected"}, {"channel", "cli"}}), 1);
  EXPECT_EQ(after->Sum("vmscan_scans_total"), 3);
  EXPECT_EQ(after->Sum("vmscan_scan_duration_seconds_count"), 3);
  EXPECT_EQ(after->Sum("vmscan_scan_duration_seconds_count", {{"cache", "hit"}}), 1);
  EXPECT_EQ(after->Sum("vmscan_scan_duration_seconds_bucket", {{"le", "+Inf"}}), 3);
  EXPECT_GT(after->Sum("vmscan_scan_duration_seconds_sum"), 0);
  EXPECT_GT(after->Sum("vmscan_scanned_bytes_total", {{"channel", "cli"}}), 0);
  // Nothing in flight once the scans are answered; the VM's gauges exist.
  ASSERT_EQ(after->Find("vmscan_vm_scans_in_flight", {{"vm", "metrics-vm"}}).size(), 1u);
  EXPECT_EQ(after->Sum("vmscan_vm_scans_in_flight", {{"vm", "metrics-vm"}}), 0);
  EXPECT_EQ(after->Sum("vmscan_vm_bytes_in_flight", {{"vm", "metrics-vm"}}), 0);
  EXPECT_EQ(after->Sum("vmscan_scan_queue_depth"), 0);
  EXPECT_EQ(after->Sum("vmscan_verdict_cache_hits_total"), 1);
  EXPECT_GE(after->Sum("vmscan_verdict_cache_entries"), 1);
  // The infected sample is disinfected (action AUTO): its original is in Backup.
  EXPECT_EQ(after->Sum("vmscan_backup_records"), 1);
  EXPECT_GT(after->Sum("vmscan_backup_stored_bytes"), 0);

  const std::map<std::string, std::string> scan_rpc = {{"grpc_service", "vmscan.v1.ScanService"},
                                                       {"grpc_method", "Scan"},
                                                       {"grpc_type", "bidi_stream"}};
  EXPECT_EQ(after->Sum("grpc_server_started_total", scan_rpc), 3);
  std::map<std::string, std::string> scan_ok = scan_rpc;
  scan_ok["grpc_code"] = "OK";
  EXPECT_EQ(after->Sum("grpc_server_handled_total", scan_ok), 3);
  EXPECT_EQ(after->Sum("grpc_server_handling_seconds_count", scan_rpc), 3);
  EXPECT_GE(after->Sum("grpc_server_msg_received_total", scan_rpc), 3);
  EXPECT_GE(after->Sum("grpc_server_msg_sent_total", scan_rpc), 3);

  absl::StatusOr<Scrape> unknown_path =
      ScrapeMetrics(absl::StrCat("http://127.0.0.1:", metrics_port, "/nothing"));
  ASSERT_TRUE(unknown_path.ok());
  EXPECT_EQ(unknown_path->status, 404);
  EXPECT_EQ(ExitCode(server->process->Stop()), 0);
}

TEST_F(MetricsTest, MutualTlsAdministratorsOnly) {
  const std::string pki = TempDir("metrics-pki") + "/pki";
  const std::string ctl = VMSCANCTL_BIN;
  ASSERT_EQ(Shell(ctl + " pki init " + pki + " --svm-name svm-1").exit_code, 0);
  ASSERT_EQ(Shell(ctl + " pki issue-vm --id vm-a --name vm-a " + pki).exit_code, 0);
  ASSERT_EQ(Shell(ctl + " pki issue-admin --name eve " + pki).exit_code, 0);
  ASSERT_EQ(Shell(ctl + " pki revoke " + pki + " --admin eve").exit_code, 0);
  const int metrics_port = FreePort();
  absl::StatusOr<ServerProcess> server = StartServerProcess(
      VMSCAN_SERVER_BIN, "metrics-tls", 0,
      {absl::StrCat("metrics.listen=127.0.0.1:", metrics_port),
       "metrics.tls.cert_file=" + pki + "/svm/svm-1.pem",
       "metrics.tls.key_file=" + pki + "/svm/svm-1.key", "metrics.tls.ca_file=" + pki + "/ca.pem",
       "metrics.tls.crl_file=" + pki + "/crl.pem"});
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string url = absl::StrCat("https://127.0.0.1:", metrics_port, "/metrics");
  const std::string ca = " --cacert " + pki + "/ca.pem";

  absl::StatusOr<Scrape> admin = ScrapeMetrics(
      url, "--cert " + pki + "/admin/admin.pem --key " + pki + "/admin/admin.key" + ca);
  ASSERT_TRUE(admin.ok()) << admin.status();
  EXPECT_EQ(admin->status, 200);
  EXPECT_EQ(admin->Sum("vmscan_serving"), 1);

  absl::StatusOr<Scrape> vm =
      ScrapeMetrics(url, "--cert " + pki + "/vm/vm-a.pem --key " + pki + "/vm/vm-a.key" + ca);
  ASSERT_TRUE(vm.ok()) << vm.status();
  EXPECT_EQ(vm->status, 403);
  EXPECT_TRUE(vm->samples.empty());

  EXPECT_FALSE(ScrapeMetrics(url, ca).ok()) << "no client certificate: no handshake";
  EXPECT_FALSE(ScrapeMetrics(absl::StrCat("http://127.0.0.1:", metrics_port, "/metrics")).ok())
      << "plain HTTP to the HTTPS endpoint";

  EXPECT_FALSE(
      ScrapeMetrics(url, "--cert " + pki + "/admin/eve.pem --key " + pki + "/admin/eve.key" + ca)
          .ok())
      << "a revoked administrator: no handshake";
  EXPECT_EQ(ExitCode(server->process->Stop()), 0);
}

}  // namespace
}  // namespace vmscan::testing
