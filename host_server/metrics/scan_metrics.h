// ScanMetrics: the SVM's scans as Prometheus sees them (docs/design.md §7, "Metrics") — answers
// by verdict, action, channel, direction and the VM's group; how long the SVM took; and, per
// VM, the scans it holds now and their bytes (uploading, queued for a worker or being scanned).
// Fed by the gRPC interceptor (grpc_metrics.h), which watches ScanService/Scan streams, so the
// scan pipeline itself knows nothing of metrics.
//
//   ScanMetrics scans(registry);
//   scans.CallStarted("vm-1"); scans.BytesReceived("vm-1", 4096);
//   scans.Answered(metadata, "Managed devices/Finance", result, absl::Milliseconds(12));
//   scans.CallEnded("vm-1", 4096);
//
// Thread-safe.
#ifndef VMSCAN_HOST_SERVER_METRICS_SCAN_METRICS_H_
#define VMSCAN_HOST_SERVER_METRICS_SCAN_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "vmscan/v1/scan.pb.h"

namespace vmscan {

class ScanMetrics {
 public:
  explicit ScanMetrics(prometheus::Registry& registry);

  // A Scan stream of `vm` (its id; "" when the request names none) began.
  void CallStarted(const std::string& vm);
  // It received `bytes` more of its message.
  void BytesReceived(const std::string& vm, uint64_t bytes);
  // The SVM answered it, `elapsed` after the stream began; `group` is the VM's group path.
  void Answered(const v1::ScanMetadata& metadata, const std::string& group,
                const v1::ScanResult& result, absl::Duration elapsed);
  // The stream ended, however it did, after receiving `bytes_received` bytes in all.
  void CallEnded(const std::string& vm, uint64_t bytes_received);

 private:
  prometheus::Family<prometheus::Counter>& scans_;
  prometheus::Family<prometheus::Counter>& scanned_bytes_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Family<prometheus::Gauge>& in_flight_;
  prometheus::Family<prometheus::Gauge>& bytes_in_flight_;
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_METRICS_SCAN_METRICS_H_
