// ControlState: the whole control plane (groups, policies, VMs, local settings, assignment rules)
// as read from a ControlStore in one consistent List, with the queries every caller needs:
// group paths, the policy chain of a group, VM lookup, placement of a new VM.
//
// Key layout in the store (values are serialized protos):
//   groups/<group id>                   v1::Group (path, counts not stored)
//   policies/<group id>                 v1::Policy (group = the group id)
//   history/<group id>/<version:020>    v1::Policy, every version
//   vms/<vm id>                         v1::VmRecord (group = "", state not stored)
//   local/<vm id>                       v1::MailAntivirusSettings
//   rules/<rule id>                     v1::AssignmentRule
//   meta/epoch                          rewritten by every structural change (see ControlPlane)
//
// Immutable once loaded; shared by readers through std::shared_ptr<const ControlState>.
#ifndef VMSCAN_HOST_SERVER_CONTROL_CONTROL_STATE_H_
#define VMSCAN_HOST_SERVER_CONTROL_CONTROL_STATE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "host_server/control/store/control_store.h"
#include "vmscan/v1/inventory.pb.h"
#include "vmscan/v1/policy.pb.h"

namespace vmscan {

namespace control_keys {
inline constexpr char kGroups[] = "groups/";
inline constexpr char kPolicies[] = "policies/";
inline constexpr char kHistory[] = "history/";
inline constexpr char kVms[] = "vms/";
inline constexpr char kLocal[] = "local/";
inline constexpr char kRules[] = "rules/";
inline constexpr char kEpoch[] = "meta/epoch";
std::string HistoryKey(absl::string_view group_id, uint64_t version);
}  // namespace control_keys

struct ControlState {
  static absl::StatusOr<ControlState> Load(const ControlStore& store);

  int64_t revision = 0;        // highest mod_revision seen (the state is at least this new).
  int64_t epoch_revision = 0;  // mod_revision of meta/epoch; 0 when never written.
  std::map<std::string, v1::Group> groups;                 // by id
  std::map<std::string, v1::Policy> policies;              // by group id
  std::map<std::string, v1::VmRecord> vms;                 // by VM id
  std::map<std::string, int64_t> vm_revisions;             // mod_revision of vms/<id>
  std::map<std::string, v1::MailAntivirusSettings> local;  // by VM id
  std::vector<v1::AssignmentRule> rules;                   // in the order they are tried

  // "Managed devices/Finance"; "" for an unknown id.
  std::string PathOf(absl::string_view group_id) const;
  // The id of the group at `path`; NotFound naming the deepest missing group.
  absl::StatusOr<std::string> FindGroup(absl::string_view path) const;
  // The id of `parent_id`'s child named `name`, or "".
  std::string ChildNamed(absl::string_view parent_id, absl::string_view name) const;
  std::vector<std::string> ChildrenOf(absl::string_view group_id) const;
  // True when `group_id` is `ancestor_id` or below it.
  bool IsWithin(absl::string_view group_id, absl::string_view ancestor_id) const;
  // The policies from the root down to `group_id`, with Policy.group set to the group's path;
  // groups without a policy are left out.
  std::vector<v1::Policy> PolicyChain(absl::string_view group_id) const;
  // The VM with id `ref`, else the only VM named `ref`. NotFound / InvalidArgument (ambiguous).
  absl::StatusOr<const v1::VmRecord*> FindVm(absl::string_view ref) const;
  // Where a new VM goes: the group of the first matching rule, else `default_group_id`.
  std::string PlaceVm(const v1::VmIdentity& vm, absl::string_view default_group_id) const;
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_CONTROL_CONTROL_STATE_H_
