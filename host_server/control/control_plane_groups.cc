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

// ---- groups ----

v1::Group ControlPlane::Describe(const ControlState& state, const v1::Group& group) const {
  v1::Group out = group;
  out.set_path(state.PathOf(group.id()));
  out.set_child_count(state.ChildrenOf(group.id()).size());
  uint32_t vms = 0;
  for (const auto& [id, vm] : state.vms) vms += vm.group_id() == group.id();
  out.set_vm_count(vms);
  out.set_has_policy(state.policies.contains(group.id()));
  return out;
}

absl::StatusOr<v1::Group> ControlPlane::CreateGroup(absl::string_view path) {
  VMSCAN_ASSIGN_OR_RETURN(std::vector<std::string> names, SplitGroupPath(path));
  if (names.size() == 1) return absl::AlreadyExistsError("the root group always exists");
  const std::string parent_path = absl::StrJoin(names.begin(), names.end() - 1, "/");
  return Mutate<v1::Group>(
      "create the group",
      [&](const ControlState& state, std::vector<Op>& ops) -> absl::StatusOr<v1::Group> {
        absl::StatusOr<std::string> parent = state.FindGroup(parent_path);
        if (!parent.ok()) {
          return absl::NotFoundError(absl::StrCat("cannot create '", absl::StrJoin(names, "/"),
                                                  "': ", parent.status().message()));
        }
        if (!state.ChildNamed(*parent, names.back()).empty()) {
          return absl::AlreadyExistsError(
              absl::StrCat("group '", absl::StrJoin(names, "/"), "' already exists"));
        }
        v1::Group group;
        group.set_id(NewId());
        group.set_parent_id(*parent);
        group.set_name(names.back());
        group.set_created_unix_micros(Micros(options_.now()));
        ops.push_back(Op::Put(Key(control_keys::kGroups, group.id()), group.SerializeAsString()));
        group.set_path(absl::StrJoin(names, "/"));
        return group;
      });
}

absl::StatusOr<std::vector<v1::Group>> ControlPlane::ListGroups() const {
  std::shared_ptr<const ControlState> state = snapshot();
  std::vector<v1::Group> groups;
  for (const auto& [id, group] : state->groups) groups.push_back(Describe(*state, group));
  std::sort(groups.begin(), groups.end(),
            [](const v1::Group& a, const v1::Group& b) { return a.path() < b.path(); });
  return groups;
}

absl::Status ControlPlane::DeleteGroup(absl::string_view path) {
  return Mutate<bool>(
             "delete the group",
             [&](const ControlState& state, std::vector<Op>& ops) -> absl::StatusOr<bool> {
               VMSCAN_ASSIGN_OR_RETURN(std::string id, state.FindGroup(path));
               const std::string full = state.PathOf(id);
               if (id == kRootGroupId) {
                 return absl::FailedPreconditionError("the root group cannot be deleted");
               }
               if (id == DefaultGroupId(state)) {
                 return absl::FailedPreconditionError(absl::StrCat(
                     "'", full, "' is the default group of new VMs (control.default_group)"));
               }
               std::vector<std::string> children = state.ChildrenOf(id);
               if (!children.empty()) {
                 std::vector<std::string> paths;
                 for (const std::string& child : children) paths.push_back(state.PathOf(child));
                 return absl::FailedPreconditionError(
                     absl::StrCat("group '", full, "' is not empty: it has subgroups ",
                                  absl::StrJoin(paths, ", ")));
               }
               std::vector<std::string> vms;
               for (const auto& [vm_id, vm] : state.vms) {
                 if (vm.group_id() == id) vms.push_back(vm.vm().name());
               }
               if (!vms.empty()) {
                 return absl::FailedPreconditionError(
                     absl::StrCat("group '", full, "' is not empty: it holds ", vms.size(),
                                  " VM(s) (", absl::StrJoin(vms, ", "), "); move them first"));
               }
               for (const v1::AssignmentRule& rule : state.rules) {
                 if (rule.group_id() == id) {
                   return absl::FailedPreconditionError(absl::StrCat("assignment rule ", rule.id(),
                                                                     " places VMs in '", full,
                                                                     "'; delete the rule first"));
                 }
               }
               ops.push_back(Op::Delete(Key(control_keys::kGroups, id)));
               ops.push_back(Op::Delete(Key(control_keys::kPolicies, id)));
               ops.push_back(Op::DeletePrefix(absl::StrCat(control_keys::kHistory, id, "/")));
               return true;
             })
      .status();
}

absl::StatusOr<v1::Group> ControlPlane::RenameGroup(absl::string_view path,
                                                    absl::string_view new_path) {
  VMSCAN_ASSIGN_OR_RETURN(std::vector<std::string> names, SplitGroupPath(new_path));
  return Mutate<v1::Group>(
      "rename the group",
      [&](const ControlState& state, std::vector<Op>& ops) -> absl::StatusOr<v1::Group> {
        VMSCAN_ASSIGN_OR_RETURN(std::string id, state.FindGroup(path));
        if (id == kRootGroupId) {
          return absl::FailedPreconditionError("the root group cannot be renamed");
        }
        if (names.size() == 1) {
          return absl::AlreadyExistsError(absl::StrCat("'", kRootGroupName, "' is the root"));
        }
        const std::string parent_path = absl::StrJoin(names.begin(), names.end() - 1, "/");
        VMSCAN_ASSIGN_OR_RETURN(std::string parent, state.FindGroup(parent_path));
        if (state.IsWithin(parent, id)) {
          return absl::FailedPreconditionError(absl::StrCat("cannot move '", state.PathOf(id),
                                                            "' to '", absl::StrJoin(names, "/"),
                                                            "': that is inside the group itself"));
        }
        const std::string existing = state.ChildNamed(parent, names.back());
        if (!existing.empty() && existing != id) {
          return absl::AlreadyExistsError(
              absl::StrCat("group '", absl::StrJoin(names, "/"), "' already exists"));
        }
        v1::Group group = state.groups.at(id);
        group.set_parent_id(parent);
        group.set_name(names.back());
        ops.push_back(Op::Put(Key(control_keys::kGroups, id), group.SerializeAsString()));
        group.set_path(absl::StrJoin(names, "/"));
        return group;
      });
}

// ---- rules ----

absl::StatusOr<v1::ListRulesResponse> ControlPlane::ListRules() const {
  std::shared_ptr<const ControlState> state = snapshot();
  v1::ListRulesResponse response;
  for (const v1::AssignmentRule& rule : state->rules) {
    v1::AssignmentRule* out = response.add_rules();
    *out = rule;
    out->set_group(state->PathOf(rule.group_id()));
  }
  response.set_default_group(state->PathOf(DefaultGroupId(*state)));
  return response;
}

absl::StatusOr<v1::AssignmentRule> ControlPlane::AddRule(v1::AssignmentRule rule) {
  if (rule.vm_name_pattern().empty() && rule.hypervisor_host_pattern().empty()) {
    return absl::InvalidArgumentError(
        "a rule needs a VM name pattern and/or a hypervisor host pattern");
  }
  return Mutate<v1::AssignmentRule>(
      "add the rule",
      [&](const ControlState& state, std::vector<Op>& ops) -> absl::StatusOr<v1::AssignmentRule> {
        v1::AssignmentRule next = rule;
        VMSCAN_ASSIGN_OR_RETURN(std::string group_id, state.FindGroup(rule.group()));
        next.set_id(NewId());
        next.set_group_id(group_id);
        next.clear_group();
        if (next.position() == 0) {
          uint32_t last = 0;
          for (const v1::AssignmentRule& r : state.rules) last = std::max(last, r.position());
          next.set_position(last + 1);
        }
        ops.push_back(Op::Put(Key(control_keys::kRules, next.id()), next.SerializeAsString()));
        next.set_group(state.PathOf(group_id));
        return next;
      });
}

absl::Status ControlPlane::DeleteRule(absl::string_view id) {
  return Mutate<bool>("delete the rule",
                      [&](const ControlState& state, std::vector<Op>& ops) -> absl::StatusOr<bool> {
                        for (const v1::AssignmentRule& rule : state.rules) {
                          if (rule.id() == id) {
                            ops.push_back(Op::Delete(Key(control_keys::kRules, id)));
                            return true;
                          }
                        }
                        return absl::NotFoundError(absl::StrCat("no assignment rule '", id, "'"));
                      })
      .status();
}

}  // namespace vmscan
