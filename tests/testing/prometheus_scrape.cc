#include "tests/testing/prometheus_scrape.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "tests/testing/test_mail.h"

namespace vmscan::testing {

absl::StatusOr<Scrape> ScrapeMetrics(const std::string& url, const std::string& tls_args) {
  CommandRun run = Shell(absl::StrCat(
      "/usr/bin/python3 ", SourcePath("tests/testing/scrape_metrics.py"), " ", url, " ", tls_args));
  if (run.exit_code != 0) {
    return absl::InternalError(absl::StrCat("scrape failed (", run.exit_code, "): ", run.err));
  }
  google::protobuf::Struct json;
  if (!google::protobuf::util::JsonStringToMessage(run.out, &json).ok()) {
    return absl::InternalError("scraper output is not JSON: " + run.out);
  }
  Scrape scrape;
  scrape.status = static_cast<int>(json.fields().at("status").number_value());
  scrape.content_type = json.fields().at("content_type").string_value();
  for (const auto& [name, type] : json.fields().at("families").struct_value().fields()) {
    scrape.types[name] = type.string_value();
  }
  for (const google::protobuf::Value& row : json.fields().at("samples").list_value().values()) {
    MetricSample sample;
    sample.name = row.list_value().values(0).string_value();
    for (const auto& [key, value] : row.list_value().values(1).struct_value().fields()) {
      sample.labels[key] = value.string_value();
    }
    sample.value = row.list_value().values(2).number_value();
    scrape.samples.push_back(std::move(sample));
  }
  return scrape;
}

}  // namespace vmscan::testing
