// The agent's own Prometheus endpoint (metrics.listen of `vmscan-agent run`), scraped and parsed
// by Prometheus' Python client parser after mail through the real SMTP proxy: a relayed message
// counts as answered; with the SVM gone, the next one is tempfailed and counted so.
#include <sys/wait.h>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/test_server.h"
#include "tests/smtp/agent_process.h"
#include "tests/smtp/smtp_peers.h"
#include "tests/testing/prometheus_scrape.h"

namespace vmscan::testing {
namespace {

TEST(AgentMetricsEndpointTest, ProxiedAndTempfailedMessagesAreCounted) {
  absl::StatusOr<std::unique_ptr<HostServer>> server = StartTestServer();
  ASSERT_TRUE(server.ok()) << server.status();
  absl::StatusOr<std::unique_ptr<SmtpSink>> sink = SmtpSink::Start();
  ASSERT_TRUE(sink.ok()) << sink.status();
  absl::StatusOr<AgentProcess> agent =
      StartAgent({"servers=" + (*server)->address(), "smtp_proxy.listen=127.0.0.1:0",
                  absl::StrCat("smtp_proxy.upstream=127.0.0.1:", (*sink)->port()),
                  "vm.id=metrics-vm", "metrics.listen=127.0.0.1:0", "connect_timeout_ms=500"});
  ASSERT_TRUE(agent.ok()) << agent.status();
  ASSERT_EQ(agent->listening.count("metrics"), 1u);
  const std::string url = absl::StrCat("http://", agent->listening["metrics"], "/metrics");
  const std::string swaks = absl::StrCat("swaks -4 --server 127.0.0.1:", agent->proxy_port,
                                         " --from a@example.org --to b@example.net");

  absl::StatusOr<Scrape> empty = ScrapeMetrics(url);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->status, 200);
  EXPECT_EQ(empty->Sum("vmscan_agent_messages_total"), 0);

  CommandResult sent = RunShell(swaks + " --body metrics-body");
  ASSERT_EQ(sent.exit_code, 0) << sent.output;
  ASSERT_EQ((*sink)->WaitForMessages(1, absl::Seconds(10)).size(), 1u);
  absl::StatusOr<Scrape> relayed = ScrapeMetrics(url);
  ASSERT_TRUE(relayed.ok()) << relayed.status();
  EXPECT_EQ(relayed->types["vmscan_agent_messages"], "counter");
  EXPECT_EQ(relayed->Sum("vmscan_agent_messages_total",
                         {{"channel", "smtp"}, {"direction", "outgoing"}, {"action", "deliver"}}),
            1);
  EXPECT_GT(relayed->Sum("vmscan_agent_uploaded_bytes_total"), 0);
  EXPECT_EQ(relayed->Sum("vmscan_agent_tempfails_total"), 0);

  (*server)->Shutdown();
  server->reset();
  CommandResult refused = RunShell(swaks + " --body no-scanner-body");
  EXPECT_NE(refused.exit_code, 0) << refused.output;  // 451: nothing delivered unscanned
  absl::StatusOr<Scrape> tempfailed = ScrapeMetrics(url);
  ASSERT_TRUE(tempfailed.ok()) << tempfailed.status();
  EXPECT_EQ(tempfailed->Sum("vmscan_agent_tempfails_total", {{"channel", "smtp"}}), 1);
  EXPECT_EQ(tempfailed->Sum("vmscan_agent_scan_failures_total",
                            {{"channel", "smtp"}, {"code", "unavailable"}}),
            1);
  EXPECT_EQ(tempfailed->Sum("vmscan_agent_messages_total"), 1);
  const int status = agent->process->Stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace vmscan::testing
