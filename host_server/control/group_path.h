// Group paths (docs/design.md §4): "Managed devices/Finance/Desktops" — the names from the root
// down, joined by "/". The root's name may be left out: "Finance/Desktops" means the same group.
#ifndef VMSCAN_HOST_SERVER_CONTROL_GROUP_PATH_H_
#define VMSCAN_HOST_SERVER_CONTROL_GROUP_PATH_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vmscan {

inline constexpr char kRootGroupName[] = "Managed devices";
inline constexpr char kRootGroupId[] = "root";

// The names of `path` from the root down, the root's included. InvalidArgument naming the path
// for an empty path or name, a name over 64 bytes, or one with control characters.
absl::StatusOr<std::vector<std::string>> SplitGroupPath(absl::string_view path);

// InvalidArgument unless `name` may name a group.
absl::Status ValidateGroupName(absl::string_view name);

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_CONTROL_GROUP_PATH_H_
