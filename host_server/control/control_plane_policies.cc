#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "host_server/control/control_plane.h"
#include "host_server/control/control_plane_internal.h"
#include "host_server/control/group_path.h"
#include "host_server/policy/effective_settings.h"
#include "host_server/policy/setting_changes.h"

namespace vmscan {

using control_internal::Key;
using control_internal::Micros;
using control_internal::NewId;

// ---- policies ----

absl::StatusOr<v1::Policy> ControlPlane::GetPolicy(absl::string_view group) const {
  std::shared_ptr<const ControlState> state = snapshot();
  VMSCAN_ASSIGN_OR_RETURN(std::string id, state->FindGroup(group));
  v1::Policy policy;
  if (auto it = state->policies.find(id); it != state->policies.end()) policy = it->second;
  policy.set_group(state->PathOf(id));
  return policy;
}

absl::StatusOr<v1::Policy> ControlPlane::UpdatePolicy(const v1::UpdatePolicyRequest& request) {
  return Mutate<v1::Policy>(
      "update the policy",
      [&](const ControlState& state, std::vector<Op>& ops) -> absl::StatusOr<v1::Policy> {
        VMSCAN_ASSIGN_OR_RETURN(std::string id, state.FindGroup(request.group()));
        v1::Policy current;
        if (auto it = state.policies.find(id); it != state.policies.end()) current = it->second;
        const std::string path = state.PathOf(id);
        if (request.expected_version() != 0 && request.expected_version() != current.version()) {
          return absl::AbortedError(absl::StrCat(
              "the policy of '", path, "' is at version ", current.version(), ", not ",
              request.expected_version(), ": someone changed it; re-read it and retry"));
        }
        v1::Policy next = current;
        VMSCAN_RETURN_IF_ERROR(ApplySettingChanges(request.changes(), SettingsTarget::kPolicy,
                                                   next.mutable_settings(), next.mutable_locked()));
        next.set_group(id);
        next.set_version(current.version() + 1);
        next.set_updated_unix_micros(Micros(options_.now()));
        next.set_updated_by(request.updated_by());
        const std::string bytes = next.SerializeAsString();
        ops.push_back(Op::Put(Key(control_keys::kPolicies, id), bytes));
        ops.push_back(Op::Put(control_keys::HistoryKey(id, next.version()), bytes));
        next.set_group(path);
        VMSCAN_LOG(INFO) << "policy of '" << path << "' is now version " << next.version()
                         << " (by " << (next.updated_by().empty() ? "?" : next.updated_by()) << ")";
        return next;
      });
}

absl::StatusOr<std::vector<v1::Policy>> ControlPlane::PolicyHistory(absl::string_view group,
                                                                    uint32_t limit) const {
  std::shared_ptr<const ControlState> state = snapshot();
  VMSCAN_ASSIGN_OR_RETURN(std::string id, state->FindGroup(group));
  VMSCAN_ASSIGN_OR_RETURN(std::vector<KeyValue> versions,
                          store_->List(absl::StrCat(control_keys::kHistory, id, "/")));
  if (limit == 0) limit = 100;
  std::vector<v1::Policy> history;
  const std::string path = state->PathOf(id);
  for (auto it = versions.rbegin(); it != versions.rend() && history.size() < limit; ++it) {
    v1::Policy& policy = history.emplace_back();
    if (!policy.ParseFromString(it->value)) {
      return absl::DataLossError(absl::StrCat("control store: cannot parse ", it->key));
    }
    policy.set_group(path);
  }
  return history;
}

}  // namespace vmscan
