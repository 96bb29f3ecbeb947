// The metrics as text: names, labels and values that the scan and gRPC hooks and the scrape-time
// callbacks produce (the real scrape, parsed by Prometheus' own parser, is in
// tests/integration/metrics_test.cc).
#include "host_server/metrics/server_metrics.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "host_server/metrics/metrics_endpoint.h"

namespace vmscan {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ServerMetricsTest, ScansByVerdictActionChannelGroupAndPerVmInFlight) {
  ServerMetrics metrics;
  v1::ScanMetadata metadata;
  metadata.mutable_vm()->set_id("vm-1");
  metadata.set_channel(v1::SMTP);
  metadata.set_direction(v1::OUTGOING);
  metrics.scans().CallStarted("vm-1");
  metrics.scans().BytesReceived("vm-1", 1000);
  metrics.scans().BytesReceived("vm-1", 24);
  std::string during = metrics.Render();
  EXPECT_THAT(during, HasSubstr("vmscan_vm_scans_in_flight{vm=\"vm-1\"} 1\n"));
  EXPECT_THAT(during, HasSubstr("vmscan_vm_bytes_in_flight{vm=\"vm-1\"} 1024\n"));

  v1::ScanResult result;
  result.set_verdict(v1::INFECTED);
  result.set_action(v1::BLOCK);
  result.set_size(1024);
  metrics.scans().Answered(metadata, "Managed devices/Finance", result, absl::Milliseconds(30));
  metrics.scans().CallEnded("vm-1", 1024);
  std::string after = metrics.Render();
  EXPECT_THAT(after, HasSubstr("vmscan_scans_total{action=\"block\",channel=\"smtp\","
                               "direction=\"outgoing\",group=\"Managed devices/Finance\","
                               "verdict=\"infected\"} 1\n"));
  EXPECT_THAT(after, HasSubstr("vmscan_scanned_bytes_total{channel=\"smtp\"} 1024\n"));
  EXPECT_THAT(after, HasSubstr("vmscan_vm_scans_in_flight{vm=\"vm-1\"} 0\n"));
  EXPECT_THAT(after, HasSubstr("vmscan_vm_bytes_in_flight{vm=\"vm-1\"} 0\n"));
  // 30 ms: above the 25 ms bucket, within 50 ms.
  EXPECT_THAT(after, HasSubstr("vmscan_scan_duration_seconds_bucket{cache=\"miss\","
                               "channel=\"smtp\",le=\"0.025\"} 0\n"));
  EXPECT_THAT(after, HasSubstr("vmscan_scan_duration_seconds_bucket{cache=\"miss\","
                               "channel=\"smtp\",le=\"0.05\"} 1\n"));
  EXPECT_THAT(after, HasSubstr("vmscan_scan_duration_seconds_count{cache=\"miss\","
                               "channel=\"smtp\"} 1\n"));
}

TEST(ServerMetricsTest, GrpcServerMetricsInTheUsualNames) {
  ServerMetrics metrics;
  metrics.grpc().Started("/vmscan.v1.ScanService/Scan", "bidi_stream");
  metrics.grpc().MessageReceived("/vmscan.v1.ScanService/Scan", "bidi_stream");
  metrics.grpc().Handled("/vmscan.v1.ScanService/Scan", "bidi_stream",
                         grpc::StatusCode::RESOURCE_EXHAUSTED, absl::Milliseconds(2));
  const std::string text = metrics.Render();
  const std::string labels =
      "grpc_method=\"Scan\",grpc_service=\"vmscan.v1.ScanService\",grpc_type=\"bidi_stream\"";
  EXPECT_THAT(text, HasSubstr("grpc_server_started_total{" + labels + "} 1\n"));
  EXPECT_THAT(text, HasSubstr("grpc_server_msg_received_total{" + labels + "} 1\n"));
  EXPECT_THAT(text, HasSubstr("grpc_server_handled_total{grpc_code=\"ResourceExhausted\"," +
                              labels + "} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("grpc_server_handling_seconds_bucket{" + labels + ",le=\"0.005\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE grpc_server_handling_seconds histogram\n"));
}

TEST(ServerMetricsTest, GrpcCodeNamesAreGoStyle) {
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::OK), "OK");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::CANCELLED), "Canceled");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::UNAVAILABLE), "Unavailable");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::DEADLINE_EXCEEDED), "DeadlineExceeded");
}

TEST(ServerMetricsTest, StateIsReadAtEachScrape) {
  ServerMetrics metrics;
  double queued = 3;
  bool readable = true;
  metrics.state().AddGauge("vmscan_scan_queue_depth", "Scans waiting",
                           [&] { return Value(queued); });
  metrics.state().AddCounter("vmscan_verdict_cache_hits_total", "Hits", [&] { return Value(7); });
  metrics.state().AddGauge("vmscan_backup_records", "Records", [&] {
    return readable ? Value(2) : std::vector<StateCollector::Sample>();
  });
  metrics.state().AddGauge("vmscan_engine_info", "Version", [] {
    return std::vector<StateCollector::Sample>{{{{"version", "5-abc"}}, 1}};
  });
  std::string first = metrics.Render();
  EXPECT_THAT(first,
              HasSubstr("# TYPE vmscan_scan_queue_depth gauge\nvmscan_scan_queue_depth 3\n"));
  EXPECT_THAT(first, HasSubstr("# TYPE vmscan_verdict_cache_hits_total counter\n"
                               "vmscan_verdict_cache_hits_total 7\n"));
  EXPECT_THAT(first, HasSubstr("vmscan_backup_records 2\n"));
  EXPECT_THAT(first, HasSubstr("vmscan_engine_info{version=\"5-abc\"} 1\n"));
  queued = 0;
  readable = false;
  std::string second = metrics.Render();
  EXPECT_THAT(second, HasSubstr("vmscan_scan_queue_depth 0\n"));
  EXPECT_THAT(second, Not(HasSubstr("vmscan_backup_records 2")));  // unreadable: no sample
}

TEST(MetricsEndpointTest, StopsRightAfterStartAndRefusesAnUnusableAddress) {
  v1::MetricsConfig config;
  config.set_listen("127.0.0.1:0");
  config.mutable_tls()->set_insecure_loopback(true);
  // A start-up step after the endpoint may fail at once: the endpoint must stop, not hang.
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<std::unique_ptr<MetricsEndpoint>> endpoint =
        MetricsEndpoint::Start(config, [] { return std::string("up 1\n"); });
    ASSERT_TRUE(endpoint.ok()) << endpoint.status();
    EXPECT_GT((*endpoint)->port(), 0);
  }
  config.set_listen("127.0.0.1");
  EXPECT_EQ(MetricsEndpoint::Start(config, [] { return std::string(); }).status().code(),
            absl::StatusCode::kInvalidArgument);
  config.set_listen("192.0.2.1:0");  // not an address of this machine
  EXPECT_EQ(MetricsEndpoint::Start(config, [] { return std::string(); }).status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace vmscan
