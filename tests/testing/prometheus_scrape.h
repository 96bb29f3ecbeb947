// A Prometheus endpoint scraped the way Prometheus reads it: tests/testing/scrape_metrics.py
// fetches it and parses it with Prometheus' own Python client parser (Debian's
// python3-prometheus-client); a text the parser refuses fails the scrape.
#ifndef VMSCAN_TESTS_TESTING_PROMETHEUS_SCRAPE_H_
#define VMSCAN_TESTS_TESTING_PROMETHEUS_SCRAPE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace vmscan::testing {

struct MetricSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Scrape {
  int status = 0;
  std::string content_type;
  std::map<std::string, std::string> types;  // family name → type, as the parser saw them
  std::vector<MetricSample> samples;

  // The samples named `name` whose labels include `labels`.
  std::vector<MetricSample> Find(const std::string& name,
                                 const std::map<std::string, std::string>& labels = {}) const {
    std::vector<MetricSample> found;
    for (const MetricSample& sample : samples) {
      if (sample.name != name) continue;
      bool match = true;
      for (const auto& [key, value] : labels) {
        auto it = sample.labels.find(key);
        match = match && it != sample.labels.end() && it->second == value;
      }
      if (match) found.push_back(sample);
    }
    return found;
  }
  // The sum of those samples' values.
  double Sum(const std::string& name, const std::map<std::string, std::string>& labels = {}) const {
    double sum = 0;
    for (const MetricSample& sample : Find(name, labels)) sum += sample.value;
    return sum;
  }
};

// Runs the parser on `url`; `tls_args` are its --cert/--key/--cacert. An HTTP error status is a
// Scrape with that status and no samples; no answer or a text that does not parse, an error.
absl::StatusOr<Scrape> ScrapeMetrics(const std::string& url, const std::string& tls_args = "");

}  // namespace vmscan::testing

#endif  // VMSCAN_TESTS_TESTING_PROMETHEUS_SCRAPE_H_
