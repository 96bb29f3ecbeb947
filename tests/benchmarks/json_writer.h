// JsonWriter: a streaming JSON writer for the benchmark's results file (no dependency beyond
// Abseil). Commas and nesting are tracked; keys and strings are escaped.
//
//   JsonWriter json;
//   json.BeginObject().Key("msgs_per_s").Number(812.5).Key("system").String("vmscan");
//   json.EndObject();
//   std::string text = json.str();
//
// Not thread-safe.
#ifndef VMSCAN_TESTS_BENCHMARKS_JSON_WRITER_H_
#define VMSCAN_TESTS_BENCHMARKS_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace vmscan::bench {

class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(absl::string_view key);
  JsonWriter& String(absl::string_view value);
  JsonWriter& Number(double value);  // non-finite numbers are written as null
  JsonWriter& Int(int64_t value);
  JsonWriter& Bool(bool value);
  const std::string& str() const { return out_; }

 private:
  void BeforeValue();
  void Newline();
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

}  // namespace vmscan::bench

#endif  // VMSCAN_TESTS_BENCHMARKS_JSON_WRITER_H_
