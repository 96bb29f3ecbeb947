#include "host_server/control/control_state.h"

#include <fnmatch.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "host_server/control/group_path.h"

namespace vmscan {
namespace control_keys {

std::string HistoryKey(absl::string_view group_id, uint64_t version) {
  return absl::StrFormat("%s%s/%020d", kHistory, group_id, version);
}

}  // namespace control_keys

namespace {

template <typename T>
absl::Status ParseInto(const KeyValue& kv, T* out) {
  if (!out->ParseFromString(kv.value)) {
    return absl::DataLossError(absl::StrCat("control store: cannot parse ", kv.key));
  }
  return absl::OkStatus();
}

bool GlobMatches(const std::string& pattern, const std::string& text) {
  if (pattern.empty()) return true;
  return fnmatch(pattern.c_str(), text.c_str(), FNM_CASEFOLD) == 0;
}

}  // namespace

absl::StatusOr<ControlState> ControlState::Load(const ControlStore& store) {
  // One List: one read transaction, so the state is consistent.
  VMSCAN_ASSIGN_OR_RETURN(std::vector<KeyValue> all, store.List(""));
  ControlState state;
  for (const KeyValue& kv : all) {
    state.revision = std::max(state.revision, kv.mod_revision);
    absl::string_view key = kv.key;
    if (absl::ConsumePrefix(&key, control_keys::kGroups)) {
      VMSCAN_RETURN_IF_ERROR(ParseInto(kv, &state.groups[std::string(key)]));
    } else if (absl::ConsumePrefix(&key, control_keys::kPolicies)) {
      VMSCAN_RETURN_IF_ERROR(ParseInto(kv, &state.policies[std::string(key)]));
    } else if (absl::ConsumePrefix(&key, control_keys::kVms)) {
      VMSCAN_RETURN_IF_ERROR(ParseInto(kv, &state.vms[std::string(key)]));
      state.vm_revisions[std::string(key)] = kv.mod_revision;
    } else if (absl::ConsumePrefix(&key, control_keys::kLocal)) {
      VMSCAN_RETURN_IF_ERROR(ParseInto(kv, &state.local[std::string(key)]));
    } else if (absl::StartsWith(key, control_keys::kRules)) {
      VMSCAN_RETURN_IF_ERROR(ParseInto(kv, &state.rules.emplace_back()));
    } else if (key == control_keys::kEpoch) {
      state.epoch_revision = kv.mod_revision;
    }
    // history/ is read on demand.
  }
  std::sort(state.rules.begin(), state.rules.end(),
            [](const v1::AssignmentRule& a, const v1::AssignmentRule& b) {
              return std::make_pair(a.position(), a.id()) < std::make_pair(b.position(), b.id());
            });
  return state;
}

std::string ControlState::PathOf(absl::string_view group_id) const {
  std::vector<std::string> names;
  std::string id(group_id);
  for (size_t guard = 0; guard <= groups.size(); ++guard) {
    auto it = groups.find(id);
    if (it == groups.end()) return "";
    names.push_back(it->second.name());
    if (it->second.parent_id().empty()) break;
    id = it->second.parent_id();
  }
  std::reverse(names.begin(), names.end());
  return absl::StrJoin(names, "/");
}

std::string ControlState::ChildNamed(absl::string_view parent_id, absl::string_view name) const {
  for (const auto& [id, group] : groups) {
    if (group.parent_id() == parent_id && group.name() == name) return id;
  }
  return "";
}

absl::StatusOr<std::string> ControlState::FindGroup(absl::string_view path) const {
  VMSCAN_ASSIGN_OR_RETURN(std::vector<std::string> names, SplitGroupPath(path));
  if (!groups.contains(kRootGroupId)) return absl::NotFoundError("the root group is missing");
  std::string id = kRootGroupId;
  for (size_t i = 1; i < names.size(); ++i) {
    std::string child = ChildNamed(id, names[i]);
    if (child.empty()) {
      std::vector<std::string> prefix(names.begin(), names.begin() + i + 1);
      return absl::NotFoundError(absl::StrCat("no group '", absl::StrJoin(prefix, "/"), "'"));
    }
    id = std::move(child);
  }
  return id;
}

std::vector<std::string> ControlState::ChildrenOf(absl::string_view group_id) const {
  std::vector<std::string> children;
  for (const auto& [id, group] : groups) {
    if (group.parent_id() == group_id) children.push_back(id);
  }
  return children;
}

bool ControlState::IsWithin(absl::string_view group_id, absl::string_view ancestor_id) const {
  std::string id(group_id);
  for (size_t guard = 0; guard <= groups.size() && !id.empty(); ++guard) {
    if (id == ancestor_id) return true;
    auto it = groups.find(id);
    if (it == groups.end()) return false;
    id = it->second.parent_id();
  }
  return false;
}

std::vector<v1::Policy> ControlState::PolicyChain(absl::string_view group_id) const {
  std::vector<std::string> ids;
  std::string id(group_id);
  for (size_t guard = 0; guard <= groups.size() && !id.empty(); ++guard) {
    ids.push_back(id);
    auto it = groups.find(id);
    if (it == groups.end()) break;
    id = it->second.parent_id();
  }
  std::vector<v1::Policy> chain;
  for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
    auto policy = policies.find(*it);
    if (policy == policies.end()) continue;
    v1::Policy& p = chain.emplace_back(policy->second);
    p.set_group(PathOf(*it));
  }
  return chain;
}

absl::StatusOr<const v1::VmRecord*> ControlState::FindVm(absl::string_view ref) const {
  if (ref.empty()) return absl::InvalidArgumentError("no VM given (an id or a name)");
  if (auto it = vms.find(std::string(ref)); it != vms.end()) return &it->second;
  const v1::VmRecord* found = nullptr;
  std::vector<std::string> ids;
  for (const auto& [id, vm] : vms) {
    if (vm.vm().name() == ref) {
      found = &vm;
      ids.push_back(id);
    }
  }
  if (ids.size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("several VMs are named '", ref, "'; use an id: ", absl::StrJoin(ids, ", ")));
  }
  if (found == nullptr) return absl::NotFoundError(absl::StrCat("no VM '", ref, "'"));
  return found;
}

std::string ControlState::PlaceVm(const v1::VmIdentity& vm,
                                  absl::string_view default_group_id) const {
  for (const v1::AssignmentRule& rule : rules) {
    if (!groups.contains(rule.group_id())) continue;
    if (GlobMatches(rule.vm_name_pattern(), vm.name()) &&
        GlobMatches(rule.hypervisor_host_pattern(), vm.hypervisor_host())) {
      return rule.group_id();
    }
  }
  return std::string(default_group_id);
}

}  // namespace vmscan
