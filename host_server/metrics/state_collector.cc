#include "host_server/metrics/state_collector.h"

#include <utility>

namespace vmscan {

void StateCollector::AddGauge(std::string name, std::string help, Source source) {
  entries_.push_back(
      {std::move(name), std::move(help), prometheus::MetricType::Gauge, std::move(source)});
}

void StateCollector::AddCounter(std::string name, std::string help, Source source) {
  entries_.push_back(
      {std::move(name), std::move(help), prometheus::MetricType::Counter, std::move(source)});
}

std::vector<prometheus::MetricFamily> StateCollector::Collect() const {
  std::vector<prometheus::MetricFamily> families;
  for (const Entry& entry : entries_) {
    prometheus::MetricFamily family;
    family.name = entry.name;
    family.help = entry.help;
    family.type = entry.type;
    for (const Sample& sample : entry.source()) {
      prometheus::ClientMetric metric;
      for (const auto& [name, value] : sample.labels) metric.label.push_back({name, value});
      if (entry.type == prometheus::MetricType::Counter) {
        metric.counter.value = sample.value;
      } else {
        metric.gauge.value = sample.value;
      }
      family.metric.push_back(std::move(metric));
    }
    families.push_back(std::move(family));
  }
  return families;
}

}  // namespace vmscan
