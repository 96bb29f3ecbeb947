// StateCollector: metrics read at scrape time from the parts that already keep the number — the
// engine's version and signature count, the Backup store's totals, the scan queue, the verdict
// cache's statistics — each through a callback given by the wiring (HostServer), so that those
// parts need no metrics code (docs/design.md §7, "Metrics").
//
//   StateCollector state;
//   state.AddGauge("vmscan_scan_queue_depth", "Scans waiting for a worker",
//                  [pool] { return std::vector<Sample>{{{}, double(pool->queued())}}; });
//   registry.Register(...)  // or: families = state.Collect();
//
// Thread-safe once the callbacks are added (before the first Collect); the callbacks run on the
// scraping thread and must be thread-safe themselves.
#ifndef VMSCAN_HOST_SERVER_METRICS_STATE_COLLECTOR_H_
#define VMSCAN_HOST_SERVER_METRICS_STATE_COLLECTOR_H_

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace vmscan {

class StateCollector : public prometheus::Collectable {
 public:
  struct Sample {
    std::map<std::string, std::string> labels;
    double value = 0;
  };
  using Source = std::function<std::vector<Sample>()>;

  // A gauge (a value now) or a counter (a total that only grows; `name` ends in _total).
  void AddGauge(std::string name, std::string help, Source source);
  void AddCounter(std::string name, std::string help, Source source);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  struct Entry {
    std::string name;
    std::string help;
    prometheus::MetricType type;
    Source source;
  };
  std::vector<Entry> entries_;
};

// One unlabelled sample: the common case.
inline std::vector<StateCollector::Sample> Value(double value) { return {{{}, value}}; }

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_METRICS_STATE_COLLECTOR_H_
