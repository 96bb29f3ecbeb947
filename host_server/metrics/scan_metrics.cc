#include "host_server/metrics/scan_metrics.h"

#include <algorithm>

#include "absl/strings/ascii.h"

namespace vmscan {
namespace {

// From 1 ms (a verdict cache hit) to 5 min (scan_deadline_ms' default).
const prometheus::Histogram::BucketBoundaries& ScanBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
  return *buckets;
}

// "CLEAN" → "clean": label values in the usual Prometheus style.
std::string Lower(const std::string& name) { return absl::AsciiStrToLower(name); }

}  // namespace

ScanMetrics::ScanMetrics(prometheus::Registry& registry)
    : scans_(prometheus::BuildCounter()
                 .Name("vmscan_scans_total")
                 .Help("Messages the SVM answered, by verdict, action, channel, direction and "
                       "the VM's administration group")
                 .Register(registry)),
      scanned_bytes_(prometheus::BuildCounter()
                         .Name("vmscan_scanned_bytes_total")
                         .Help("Bytes of the messages the SVM answered, by channel")
                         .Register(registry)),
      duration_(prometheus::BuildHistogram()
                    .Name("vmscan_scan_duration_seconds")
                    .Help("Time from a scan's first request to its answer on the SVM (upload, "
                          "queue, scan, Backup), by channel and whether the verdict cache "
                          "answered")
                    .Register(registry)),
      in_flight_(prometheus::BuildGauge()
                     .Name("vmscan_vm_scans_in_flight")
                     .Help("Scans of a VM the SVM holds now: uploading, waiting for a worker, "
                           "being scanned or answered")
                     .Register(registry)),
      bytes_in_flight_(prometheus::BuildGauge()
                           .Name("vmscan_vm_bytes_in_flight")
                           .Help("Message bytes of a VM's scans in flight that the SVM holds")
                           .Register(registry)) {}

void ScanMetrics::CallStarted(const std::string& vm) { in_flight_.Add({{"vm", vm}}).Increment(); }

void ScanMetrics::BytesReceived(const std::string& vm, uint64_t bytes) {
  bytes_in_flight_.Add({{"vm", vm}}).Increment(static_cast<double>(bytes));
}

void ScanMetrics::Answered(const v1::ScanMetadata& metadata, const std::string& group,
                           const v1::ScanResult& result, absl::Duration elapsed) {
  const std::string channel = Lower(v1::Channel_Name(metadata.channel()));
  scans_
      .Add({{"verdict", Lower(v1::Verdict_Name(result.verdict()))},
            {"action", Lower(v1::Action_Name(result.action()))},
            {"channel", channel},
            {"direction", Lower(v1::Direction_Name(metadata.direction()))},
            {"group", group}})
      .Increment();
  scanned_bytes_.Add({{"channel", channel}}).Increment(static_cast<double>(result.size()));
  duration_
      .Add({{"channel", channel}, {"cache", result.cache_hit() ? "hit" : "miss"}}, ScanBuckets())
      .Observe(std::max(0.0, absl::ToDoubleSeconds(elapsed)));
}

void ScanMetrics::CallEnded(const std::string& vm, uint64_t bytes_received) {
  in_flight_.Add({{"vm", vm}}).Decrement();
  bytes_in_flight_.Add({{"vm", vm}}).Decrement(static_cast<double>(bytes_received));
}

}  // namespace vmscan
