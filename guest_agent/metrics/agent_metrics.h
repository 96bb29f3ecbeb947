// AgentMetrics: what a VM's agent did with the mail it intercepted, for Prometheus (docs/design.md
// §7, "Metrics"): messages the SVM answered, by channel, direction and action; scans that got no
// answer, by gRPC code; and of those, the ones the interceptor tempfails. Counted around the
// ScanFunction every interceptor calls (CountingScanFunction), so no interceptor counts anything.
// Rendered in Prometheus' text format by hand: the agent is linked statically and Debian ships
// no static prometheus-cpp.
//
//   AgentMetrics metrics(config.on_no_scanner());
//   ScanFunction scan = CountingScanFunction(client_scan, &metrics);
//   ... metrics.Render() ...
//
// Thread-safe.
#ifndef VMSCAN_GUEST_AGENT_METRICS_AGENT_METRICS_H_
#define VMSCAN_GUEST_AGENT_METRICS_AGENT_METRICS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "guest_agent/client/scan_client.h"
#include "vmscan/v1/config.pb.h"

namespace vmscan {

class AgentMetrics {
 public:
  explicit AgentMetrics(v1::OnNoScanner::Value on_no_scanner) : on_no_scanner_(on_no_scanner) {}

  // One scan an interceptor asked for, and what came of it.
  void Scanned(const v1::ScanMetadata& metadata, const absl::StatusOr<ScanResponse>& response);

  // Prometheus text format 0.0.4.
  std::string Render() const;

 private:
  using Labels = std::vector<std::pair<std::string, std::string>>;

  const v1::OnNoScanner::Value on_no_scanner_;
  mutable absl::Mutex mu_;
  std::map<Labels, uint64_t> messages_ ABSL_GUARDED_BY(mu_);   // channel, direction, action
  std::map<Labels, uint64_t> failures_ ABSL_GUARDED_BY(mu_);   // channel, code
  std::map<Labels, uint64_t> tempfails_ ABSL_GUARDED_BY(mu_);  // channel
  uint64_t uploaded_bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

// `scan`, counting each call in `metrics` (which must outlive the function).
ScanFunction CountingScanFunction(ScanFunction scan, AgentMetrics* metrics);

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_METRICS_AGENT_METRICS_H_
