// AgentMetrics: what each scan outcome counts as, in Prometheus' text format; MetricsServer:
// a real loopback socket answering GET /metrics, refusing other addresses (the scrape with
// Prometheus' parser against `vmscan-agent run` is tests/smtp/agent_metrics_test.cc).
#include "guest_agent/metrics/agent_metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "guest_agent/metrics/metrics_server.h"

namespace vmscan {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

v1::ScanMetadata Smtp() {
  v1::ScanMetadata metadata;
  metadata.set_channel(v1::SMTP);
  metadata.set_direction(v1::OUTGOING);
  return metadata;
}

ScanResponse Answer(v1::Action action, uint64_t size) {
  ScanResponse response;
  response.result.set_action(action);
  response.result.set_size(size);
  response.uploaded = true;
  return response;
}

TEST(AgentMetricsTest, AnswersFailuresAndTempfails) {
  AgentMetrics metrics(v1::OnNoScanner::TEMPFAIL);
  metrics.Scanned(Smtp(), Answer(v1::DELIVER, 100));
  metrics.Scanned(Smtp(), Answer(v1::DELIVER, 50));
  metrics.Scanned(Smtp(), Answer(v1::BLOCK, 10));
  metrics.Scanned(Smtp(), absl::UnavailableError("no scanner reachable"));
  metrics.Scanned(Smtp(), absl::ResourceExhaustedError("scan queue full"));
  metrics.Scanned(Smtp(), absl::ResourceExhaustedError("message over the limit"));  // 552
  const std::string text = metrics.Render();
  EXPECT_THAT(text, HasSubstr("# TYPE vmscan_agent_messages_total counter\n"));
  EXPECT_THAT(text, HasSubstr("vmscan_agent_messages_total{action=\"deliver\",channel=\"smtp\","
                              "direction=\"outgoing\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("vmscan_agent_messages_total{action=\"block\",channel=\"smtp\","
                              "direction=\"outgoing\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("vmscan_agent_scan_failures_total{channel=\"smtp\","
                              "code=\"unavailable\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("vmscan_agent_scan_failures_total{channel=\"smtp\","
                              "code=\"resource_exhausted\"} 2\n"));
  // No scanner and a full queue are tempfailed; a message too large is refused for good.
  EXPECT_THAT(text, HasSubstr("vmscan_agent_tempfails_total{channel=\"smtp\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("vmscan_agent_uploaded_bytes_total 160\n"));
}

TEST(AgentMetricsTest, NoScannerDeliveredUnscannedIsNoTempfail) {
  AgentMetrics metrics(v1::OnNoScanner::DELIVER_UNSCANNED);
  metrics.Scanned(Smtp(), absl::UnavailableError("no scanner reachable"));
  metrics.Scanned(Smtp(), absl::PermissionDeniedError("the SVM refused our certificate"));
  const std::string text = metrics.Render();
  EXPECT_THAT(text, HasSubstr("vmscan_agent_tempfails_total{channel=\"smtp\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("code=\"permission_denied\"} 1\n"));
}

TEST(AgentMetricsTest, CountingScanFunctionPassesTheAnswerThrough) {
  AgentMetrics metrics(v1::OnNoScanner::TEMPFAIL);
  ScanFunction scan = CountingScanFunction(
      [](const v1::ScanMetadata&, absl::string_view) -> absl::StatusOr<ScanResponse> {
        return Answer(v1::DELETE, 7);
      },
      &metrics);
  absl::StatusOr<ScanResponse> response = scan(Smtp(), "message");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->result.action(), v1::DELETE);
  EXPECT_THAT(metrics.Render(), HasSubstr("action=\"delete\""));
}

// One HTTP exchange with 127.0.0.1:port.
std::string Get(int port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  std::string reply;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size())) {
    char buffer[4096];
    ssize_t n;
    while ((n = recv(fd, buffer, sizeof(buffer), 0)) > 0) reply.append(buffer, n);
  }
  close(fd);
  return reply;
}

TEST(MetricsServerTest, ServesMetricsOnLoopbackOnly) {
  absl::StatusOr<std::unique_ptr<MetricsServer>> server =
      MetricsServer::Start("127.0.0.1:0", [] { return std::string("vmscan_up 1\n"); });
  ASSERT_TRUE(server.ok()) << server.status();
  int port = 0;
  ASSERT_TRUE(absl::SimpleAtoi((*server)->address().substr(10), &port)) << (*server)->address();
  std::string reply = Get(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(reply, HasSubstr("HTTP/1.0 200 OK\r\n"));
  EXPECT_THAT(reply, HasSubstr("Content-Type: text/plain; version=0.0.4"));
  EXPECT_THAT(reply, HasSubstr("\r\n\r\nvmscan_up 1\n"));
  EXPECT_THAT(Get(port, "GET / HTTP/1.0\r\n\r\n"), HasSubstr("404"));
  EXPECT_THAT(Get(port, "POST /metrics HTTP/1.0\r\n\r\n"), HasSubstr("405"));
  EXPECT_THAT(Get(port, "GET /metrics HTTP/1.0\r\n\r\n"), Not(HasSubstr("404")));

  EXPECT_FALSE(MetricsServer::Start("0.0.0.0:0", [] { return std::string(); }).ok());
  EXPECT_FALSE(MetricsServer::Start("10.1.2.3:0", [] { return std::string(); }).ok());
  EXPECT_FALSE(MetricsServer::Start("127.0.0.1", [] { return std::string(); }).ok());
}

}  // namespace
}  // namespace vmscan
