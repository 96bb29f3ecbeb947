#include "host_server/engine/sscanf_fast_path/fast_path_check.h"

#include <algorithm>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/logging.h"
#include "host_server/engine/sscanf_fast_path/dynamic_imports.h"
#include "host_server/engine/sscanf_fast_path/sscanf_fast_path.h"

namespace vmscan {

FastPathCheck CheckSscanfFastPath(const absl::StatusOr<std::vector<std::string>>& libclamav_imports,
                                  absl::FunctionRef<bool(absl::string_view symbol)> bound) {
  FastPathCheck check;
  if (!libclamav_imports.ok()) {
    check.warnings.push_back(
        absl::StrCat("sscanf fast path linked, but libclamav's imports cannot be read (",
                     libclamav_imports.status().message(), "): whether it is used is unknown"));
    return check;
  }
  std::vector<std::string> bound_names, unbound_names, missing_names;
  for (const std::string& name : *libclamav_imports) {
    if (!absl::EndsWith(name, "sscanf")) continue;  // scanf, fscanf: streams, not ours
    if (std::find(std::begin(kSscanfFastPathSymbols), std::end(kSscanfFastPathSymbols), name) ==
        std::end(kSscanfFastPathSymbols)) {
      missing_names.push_back(name);
    } else if (bound(name)) {
      bound_names.push_back(name);
    } else {
      unbound_names.push_back(name);
    }
  }
  if (!unbound_names.empty()) {
    check.warnings.push_back(
        absl::StrCat("sscanf fast path linked but NOT bound for libclamav's ",
                     absl::StrJoin(unbound_names, ", "),
                     " (the executable does not export it): those calls go to glibc"));
  }
  if (!missing_names.empty()) {
    check.warnings.push_back(
        absl::StrCat("libclamav calls ", absl::StrJoin(missing_names, ", "),
                     ", which the sscanf fast path does not define: those calls go to glibc"));
  }
  if (bound_names.empty() && unbound_names.empty() && missing_names.empty()) {
    check.warnings.push_back(
        "sscanf fast path linked, but libclamav imports no sscanf: it has nothing to answer");
  }
  if (!bound_names.empty()) {
    check.info.push_back(
        absl::StrCat("sscanf fast path bound for libclamav's ", absl::StrJoin(bound_names, ", ")));
  }
  return check;
}

void LogSscanfFastPathCheck() {
  const FastPathCheck check = CheckSscanfFastPath(
      DynamicImports("libclamav.so"),
      [](absl::string_view symbol) { return SscanfFastPathBound(std::string(symbol).c_str()); });
  for (const std::string& line : check.info) VMSCAN_LOG(INFO) << line;
  for (const std::string& line : check.warnings) VMSCAN_LOG(WARNING) << line;
}

}  // namespace vmscan
