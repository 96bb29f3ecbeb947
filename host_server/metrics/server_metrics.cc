#include "host_server/metrics/server_metrics.h"

#include <prometheus/text_serializer.h>

#include <vector>

namespace vmscan {

ServerMetrics::ServerMetrics() : grpc_(registry_), scans_(registry_) {}

std::string ServerMetrics::Render() const {
  std::vector<prometheus::MetricFamily> families = registry_.Collect();
  std::vector<prometheus::MetricFamily> state = state_.Collect();
  families.insert(families.end(), state.begin(), state.end());
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace vmscan
