// Throughput of the SMTP proxy, for BENCHMARKS.md: a real SVM in-process (bundled signatures),
// an aiosmtpd sink, N client threads each sending M messages over one session. The same load
// straight to the sink gives the baseline, so the difference is what the proxy + scan cost.
//
//   smtp_proxy_bench [clients=4] [messages_per_client=50] [size_bytes=4096]
//   VMSCAN_BENCH_STEPS=1 smtp_proxy_bench ...   # also time each SMTP step of a few messages
#include <atomic>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "guest_agent/client/scan_client.h"
#include "guest_agent/config/agent_config.h"
#include "guest_agent/smtp_proxy/smtp_proxy.h"
#include "tests/integration/test_server.h"
#include "tests/smtp/smtp_peers.h"

namespace vmscan::testing {
namespace {

std::string Message(size_t size, int n) {
  std::string m =
      absl::StrCat("From: a@example.org\r\nTo: b@example.net\r\nSubject: bench ", n, "\r\n\r\n");
  const std::string line = std::string(76, 'x') + "\r\n";
  while (m.size() < size) m += line;
  return m;
}

// Messages per second over `clients` sessions against `port`.
double Run(int port, int clients, int per_client, size_t size, int* failures) {
  std::atomic<int> failed{0};
  absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      absl::StatusOr<std::unique_ptr<RawSmtpClient>> client = RawSmtpClient::Connect(port);
      if (!client.ok() || !(*client)->ReadReply().ok() || !(*client)->Command("EHLO b").ok()) {
        failed += per_client;
        return;
      }
      for (int i = 0; i < per_client; ++i) {
        bool ok =
            absl::StartsWith((*client)->Command("MAIL FROM:<a@example.org>").value_or(""), "250") &&
            absl::StartsWith((*client)->Command("RCPT TO:<b@example.net>").value_or(""), "250") &&
            absl::StartsWith((*client)->Command("DATA").value_or(""), "354") &&
            (*client)->Send(Message(size, c * per_client + i) + ".\r\n").ok() &&
            absl::StartsWith((*client)->ReadReply().value_or(""), "250");
        if (!ok) ++failed;
      }
      (*client)->Command("QUIT").IgnoreError();
    });
  }
  for (std::thread& t : threads) t.join();
  *failures = failed;
  return clients * per_client / absl::ToDoubleSeconds(absl::Now() - start);
}

int Main(int argc, char** argv) {
  const int clients = argc > 1 ? std::atoi(argv[1]) : 4;
  const int per_client = argc > 2 ? std::atoi(argv[2]) : 50;
  const size_t size = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 4096;
  absl::StatusOr<std::unique_ptr<HostServer>> server = StartTestServer({"log_level=error"});
  absl::StatusOr<std::unique_ptr<SmtpSink>> sink = SmtpSink::Start();
  if (!server.ok() || !sink.ok()) {
    std::cerr << "cannot start the SVM or the sink\n";
    return 1;
  }
  v1::AgentConfig config = DefaultAgentConfig();
  config.clear_servers();
  config.add_servers((*server)->address());
  config.mutable_smtp_proxy()->set_listen("127.0.0.1:0");
  config.mutable_smtp_proxy()->set_upstream(absl::StrCat("127.0.0.1:", (*sink)->port()));
  SetLogLevel(LogLevel::kWARNING);
  std::shared_ptr<const ScanClient> client = ScanClient::Create(config);
  auto proxy = SmtpProxy::Start(
      config, v1::VmIdentity(),
      [client](const v1::ScanMetadata& m, absl::string_view msg) { return client->Scan(m, msg); });
  if (!proxy.ok()) {
    std::cerr << proxy.status() << "\n";
    return 1;
  }
  // The scan call alone, one at a time: the floor of the proxy's per-message latency.
  v1::ScanMetadata metadata;
  metadata.set_channel(v1::SMTP);
  metadata.set_direction(v1::OUTGOING);
  const std::string sample = Message(size, 0);
  absl::Time scan_start = absl::Now();
  for (int i = 0; i < 20; ++i) (void)client->Scan(metadata, sample);
  const double scan_ms = absl::ToDoubleMilliseconds(absl::Now() - scan_start) / 20;
  if (getenv("VMSCAN_BENCH_STEPS")) {
    auto c = RawSmtpClient::Connect((*proxy)->port()).value();
    (void)c->ReadReply();
    (void)c->Command("EHLO x");
    for (int i = 0; i < 5; ++i) {
      absl::Time t0 = absl::Now();
      (void)c->Command("MAIL FROM:<a@example.org>");
      absl::Time t1 = absl::Now();
      (void)c->Command("RCPT TO:<b@example.net>");
      absl::Time t2 = absl::Now();
      (void)c->Command("DATA");
      absl::Time t3 = absl::Now();
      (void)c->Send(sample + ".\r\n");
      (void)c->ReadReply();
      absl::Time t4 = absl::Now();
      std::cout << absl::StrFormat(
          "mail %.2f rcpt %.2f data %.2f body %.2f ms\n", absl::ToDoubleMilliseconds(t1 - t0),
          absl::ToDoubleMilliseconds(t2 - t1), absl::ToDoubleMilliseconds(t3 - t2),
          absl::ToDoubleMilliseconds(t4 - t3));
    }
  }
  int direct_failures = 0, proxy_failures = 0;
  double direct = Run((*sink)->port(), clients, per_client, size, &direct_failures);
  double proxied = Run((*proxy)->port(), clients, per_client, size, &proxy_failures);
  std::cout << absl::StrFormat(
      "clients=%d messages=%d size=%d bytes\n"
      "  direct to aiosmtpd sink : %8.1f msg/s (%d failed)\n"
      "  through proxy + SVM scan: %8.1f msg/s (%d failed), %.2f MB/s\n"
      "  one scan call alone     : %8.2f ms\n",
      clients, clients * per_client, size, direct, direct_failures, proxied, proxy_failures,
      proxied * size / 1e6, scan_ms);
  (*proxy)->Stop(absl::Seconds(5));
  return direct_failures + proxy_failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace vmscan::testing

int main(int argc, char** argv) { return vmscan::testing::Main(argc, argv); }
