#include "host_server/control/group_path.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace vmscan {

absl::Status ValidateGroupName(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("a group name may not be empty");
  if (name.size() > 64) {
    return absl::InvalidArgumentError(absl::StrCat("group name '", name, "' is over 64 bytes"));
  }
  if (name != absl::StripAsciiWhitespace(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("group name '", name, "' starts or ends with white space"));
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f || c == '/') {
      return absl::InvalidArgumentError(
          absl::StrCat("group name '", name, "' holds '/' or a control character"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> SplitGroupPath(absl::string_view path) {
  if (path.empty()) return absl::InvalidArgumentError("empty group path");
  std::vector<std::string> names = absl::StrSplit(path, '/');
  for (const std::string& name : names) {
    absl::Status valid = ValidateGroupName(name);
    if (!valid.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad group path '", path, "': ", valid.message()));
    }
  }
  if (names.front() != kRootGroupName) names.insert(names.begin(), kRootGroupName);
  return names;
}

}  // namespace vmscan
