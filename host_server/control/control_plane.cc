#include "host_server/control/control_plane.h"

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "host_server/control/group_path.h"
#include "host_server/policy/effective_settings.h"
#include "host_server/policy/setting_changes.h"

namespace vmscan {
namespace {

constexpr int kMaxAttempts = 8;
constexpr absl::Duration kPersistLastSeenEvery = absl::Minutes(1);

std::string NewId() {
  static absl::Mutex mu(absl::kConstInit);
  static absl::BitGen* gen = new absl::BitGen();
  absl::MutexLock lock(&mu);
  return absl::StrFormat("%016x", absl::Uniform<uint64_t>(*gen));
}

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

template <typename T>
std::string Key(const char* prefix, const T& id) {
  return absl::StrCat(prefix, id);
}

std::string SettingsFingerprint(v1::VmSettings settings) {
  settings.clear_revision();
  return settings.SerializeAsString();
}

}  // namespace

class ControlPlane::SubscriptionImpl final : public ControlPlane::Subscription {
 public:
  SubscriptionImpl(ControlPlane* owner, uint64_t id) : owner_(owner), id_(id) {}
  ~SubscriptionImpl() override {
    absl::MutexLock lock(&owner_->subscribers_mu_);
    owner_->subscribers_.erase(id_);
  }

 private:
  ControlPlane* const owner_;
  const uint64_t id_;
};

ControlPlane::ControlPlane(ControlStore* store, Options options)
    : store_(store), options_(std::move(options)) {}

ControlPlane::~ControlPlane() { watch_.reset(); }

absl::StatusOr<std::unique_ptr<ControlPlane>> ControlPlane::Create(ControlStore* store,
                                                                   Options options) {
  VMSCAN_RETURN_IF_ERROR(ResolveSettings(options.defaults, {}, {}).status());
  VMSCAN_RETURN_IF_ERROR(SplitGroupPath(options.default_group).status());
  std::unique_ptr<ControlPlane> control(new ControlPlane(store, std::move(options)));
  ControlPlane* self = control.get();
  control->watch_ = store->Watch("", [self](const std::vector<WatchEvent>&) {
    absl::Status reloaded = self->Reload();
    if (!reloaded.ok()) {
      VMSCAN_LOG(ERROR) << "control plane reload failed: " << reloaded;
    }
  });
  VMSCAN_RETURN_IF_ERROR(control->Reload());
  // The root, then the default group with any missing parents.
  VMSCAN_ASSIGN_OR_RETURN(std::vector<std::string> names,
                          SplitGroupPath(control->options_.default_group));
  VMSCAN_RETURN_IF_ERROR(
      control
          ->Mutate<bool>(
              "create the default group",
              [&names](const ControlState& state, std::vector<Op>& ops) -> absl::StatusOr<bool> {
                const int64_t now = Micros(absl::Now());
                std::string parent;
                std::string id = kRootGroupId;
                for (size_t i = 0; i < names.size(); ++i) {
                  if (i > 0) id = state.ChildNamed(parent, names[i]);
                  if (id.empty() || !state.groups.contains(id)) {
                    if (id.empty()) id = NewId();
                    v1::Group group;
                    group.set_id(id);
                    group.set_parent_id(parent);
                    group.set_name(names[i]);
                    group.set_created_unix_micros(now);
                    ops.push_back(
                        Op::Put(Key(control_keys::kGroups, id), group.SerializeAsString()));
                    // Children of a group created here are created here too.
                    for (size_t j = i + 1; j < names.size(); ++j) {
                      parent = id;
                      id = NewId();
                      group.set_id(id);
                      group.set_parent_id(parent);
                      group.set_name(names[j]);
                      ops.push_back(
                          Op::Put(Key(control_keys::kGroups, id), group.SerializeAsString()));
                    }
                    return true;
                  }
                  parent = id;
                }
                return false;
              })
          .status());
  return control;
}

std::shared_ptr<const ControlState> ControlPlane::snapshot() const {
  absl::MutexLock lock(&snapshot_mu_);
  return snapshot_;
}

int64_t ControlPlane::revision() const { return snapshot()->revision; }

absl::Status ControlPlane::Reload() {
  VMSCAN_ASSIGN_OR_RETURN(ControlState loaded, ControlState::Load(*store_));
  auto state = std::make_shared<const ControlState>(std::move(loaded));
  {
    absl::MutexLock lock(&snapshot_mu_);
    if (snapshot_ != nullptr && snapshot_->revision >= state->revision &&
        snapshot_->epoch_revision >= state->epoch_revision) {
      return absl::OkStatus();
    }
    snapshot_ = state;
  }
  NotifySubscribers(*state);
  return absl::OkStatus();
}

void ControlPlane::WaitForRevision(int64_t revision) {
  absl::MutexLock lock(&snapshot_mu_);
  auto caught_up = [this, revision]() ABSL_SHARED_LOCKS_REQUIRED(snapshot_mu_) {
    return snapshot_ != nullptr && snapshot_->revision >= revision;
  };
  if (!snapshot_mu_.AwaitWithTimeout(absl::Condition(&caught_up), absl::Seconds(5))) {
    VMSCAN_LOG(WARNING) << "control plane snapshot did not reach revision " << revision;
  }
}

template <typename T>
absl::StatusOr<T> ControlPlane::Mutate(const char* what, TxnBody<T> body) {
  // Changes made through this SVM queue up here; the epoch comparison below catches the ones
  // made elsewhere (another SVM on a shared store) between our read and our commit.
  absl::MutexLock serialize(&mutate_mu_);
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    if (attempt > 0) absl::SleepFor(absl::Milliseconds(5 << std::min(attempt, 6)));
    VMSCAN_ASSIGN_OR_RETURN(ControlState state, ControlState::Load(*store_));
    std::vector<Op> ops;
    VMSCAN_ASSIGN_OR_RETURN(T result, body(state, ops));
    if (ops.empty()) return result;
    ops.push_back(Op::Put(control_keys::kEpoch, ""));
    VMSCAN_ASSIGN_OR_RETURN(
        TxnResult committed,
        store_->Commit({Compare::ModRevision(control_keys::kEpoch, state.epoch_revision)}, ops));
    if (committed.ok) {
      WaitForRevision(committed.revision);
      return result;
    }
    VMSCAN_LOG(DEBUG) << what << ": concurrent change, retrying";
  }
  return absl::AbortedError(
      absl::StrCat("cannot ", what, ": the control plane keeps changing concurrently; retry"));
}

std::string ControlPlane::DefaultGroupId(const ControlState& state) const {
  absl::StatusOr<std::string> id = state.FindGroup(options_.default_group);
  return id.ok() ? *id : std::string(kRootGroupId);
}

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

// ---- inventory ----

v1::VmRecord ControlPlane::Describe(const ControlState& state, const v1::VmRecord& vm) const {
  v1::VmRecord out = vm;
  out.set_group(state.PathOf(vm.group_id()));
  absl::Time last_heartbeat = absl::InfinitePast();
  bool goodbye = true;
  {
    absl::MutexLock lock(&liveness_mu_);
    if (auto it = liveness_.find(vm.vm().id()); it != liveness_.end()) {
      last_heartbeat = it->second.last_heartbeat;
      goodbye = it->second.said_goodbye;
      out.set_last_seen_unix_micros(
          std::max(out.last_seen_unix_micros(), Micros(it->second.last_seen)));
    }
  }
  const bool connected = !goodbye && options_.now() - last_heartbeat < options_.heartbeat_timeout;
  out.set_state(connected ? v1::ConnectionState::CONNECTED : v1::ConnectionState::DISCONNECTED);
  absl::StatusOr<v1::VmSettings> settings = SettingsOf(state, vm);
  if (settings.ok()) {
    out.set_effective_action(v1::ActionOnThreat::Value_Name(settings->values().action_on_threat()));
  }
  return out;
}

absl::StatusOr<std::vector<v1::VmRecord>> ControlPlane::ListVms(absl::string_view group,
                                                                bool recursive) const {
  std::shared_ptr<const ControlState> state = snapshot();
  std::string group_id;
  if (!group.empty()) {
    VMSCAN_ASSIGN_OR_RETURN(group_id, state->FindGroup(group));
  }
  std::vector<v1::VmRecord> vms;
  for (const auto& [id, vm] : state->vms) {
    if (!group_id.empty() && vm.group_id() != group_id &&
        !(recursive && state->IsWithin(vm.group_id(), group_id))) {
      continue;
    }
    vms.push_back(Describe(*state, vm));
  }
  std::sort(vms.begin(), vms.end(), [](const v1::VmRecord& a, const v1::VmRecord& b) {
    return std::tie(a.group(), a.vm().name(), a.vm().id()) <
           std::tie(b.group(), b.vm().name(), b.vm().id());
  });
  return vms;
}

absl::StatusOr<v1::VmRecord> ControlPlane::GetVm(absl::string_view ref) const {
  std::shared_ptr<const ControlState> state = snapshot();
  VMSCAN_ASSIGN_OR_RETURN(const v1::VmRecord* vm, state->FindVm(ref));
  return Describe(*state, *vm);
}

absl::StatusOr<v1::VmRecord> ControlPlane::MoveVm(absl::string_view ref, absl::string_view group) {
  VMSCAN_ASSIGN_OR_RETURN(
      v1::VmRecord moved,
      Mutate<v1::VmRecord>(
          "move the VM",
          [&](const ControlState& state, std::vector<Op>& ops) -> absl::StatusOr<v1::VmRecord> {
            VMSCAN_ASSIGN_OR_RETURN(const v1::VmRecord* found, state.FindVm(ref));
            VMSCAN_ASSIGN_OR_RETURN(std::string group_id, state.FindGroup(group));
            v1::VmRecord vm = *found;
            vm.set_group_id(group_id);
            vm.set_placed_by_admin(true);
            ops.push_back(Op::Put(Key(control_keys::kVms, vm.vm().id()), vm.SerializeAsString()));
            return vm;
          }));
  return GetVm(moved.vm().id());
}

absl::Status ControlPlane::DeleteVm(absl::string_view ref) {
  std::string deleted;
  VMSCAN_RETURN_IF_ERROR(
      Mutate<bool>("delete the VM",
                   [&](const ControlState& state, std::vector<Op>& ops) -> absl::StatusOr<bool> {
                     VMSCAN_ASSIGN_OR_RETURN(const v1::VmRecord* vm, state.FindVm(ref));
                     deleted = vm->vm().id();
                     ops.push_back(Op::Delete(Key(control_keys::kVms, deleted)));
                     ops.push_back(Op::Delete(Key(control_keys::kLocal, deleted)));
                     return true;
                   })
          .status());
  absl::MutexLock lock(&liveness_mu_);
  liveness_.erase(deleted);
  return absl::OkStatus();
}

absl::StatusOr<v1::VmSettings> ControlPlane::SettingsOf(const ControlState& state,
                                                        const v1::VmRecord& vm) const {
  std::vector<v1::Policy> chain = state.PolicyChain(vm.group_id());
  std::vector<const v1::Policy*> pointers;
  for (const v1::Policy& policy : chain) pointers.push_back(&policy);
  v1::MailAntivirusSettings local;
  if (auto it = state.local.find(vm.vm().id()); it != state.local.end()) local = it->second;
  VMSCAN_ASSIGN_OR_RETURN(ResolvedSettings resolved,
                          ResolveSettings(options_.defaults, pointers, local));
  v1::VmSettings settings;
  *settings.mutable_vm() = vm.vm();
  settings.set_group(state.PathOf(vm.group_id()));
  *settings.mutable_values() = std::move(resolved.values);
  for (v1::EffectiveSetting& setting : resolved.provenance) {
    *settings.add_effective() = std::move(setting);
  }
  *settings.mutable_local() = std::move(local);
  for (const std::string& key : SettingKeys()) {
    for (const v1::Policy& policy : chain) {
      if (std::find(policy.locked().begin(), policy.locked().end(), key) != policy.locked().end()) {
        v1::LockedSetting* locked = settings.add_locked();
        locked->set_key(key);
        locked->set_group(policy.group());
        break;
      }
    }
  }
  settings.set_revision(state.revision);
  return settings;
}

absl::StatusOr<v1::VmSettings> ControlPlane::Settings(absl::string_view ref) const {
  std::shared_ptr<const ControlState> state = snapshot();
  VMSCAN_ASSIGN_OR_RETURN(const v1::VmRecord* vm, state->FindVm(ref));
  return SettingsOf(*state, *vm);
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

// ---- agents ----

void ControlPlane::Touch(absl::string_view vm_id, bool heartbeat) {
  absl::MutexLock lock(&liveness_mu_);
  Liveness& live = liveness_[vm_id];
  live.last_seen = options_.now();
  if (heartbeat) {
    live.last_heartbeat = live.last_seen;
    live.said_goodbye = false;
  }
}

absl::StatusOr<v1::VmSettings> ControlPlane::Register(const v1::RegisterRequest& request) {
  if (request.vm().id().empty()) return absl::InvalidArgumentError("register: vm.id is empty");
  const absl::Time now = options_.now();
  VMSCAN_ASSIGN_OR_RETURN(
      v1::VmRecord vm,
      Mutate<v1::VmRecord>(
          "register the VM",
          [&](const ControlState& state, std::vector<Op>& ops) -> absl::StatusOr<v1::VmRecord> {
            v1::VmRecord vm;
            if (auto it = state.vms.find(request.vm().id()); it != state.vms.end()) {
              vm = it->second;
            } else {
              vm.set_registered_unix_micros(Micros(now));
            }
            // A VM whose group was deleted behind its back (another SVM) is placed again.
            if (vm.group_id().empty() || !state.groups.contains(vm.group_id())) {
              vm.set_group_id(state.PlaceVm(request.vm(), DefaultGroupId(state)));
              vm.set_placed_by_admin(false);
            }
            *vm.mutable_vm() = request.vm();
            vm.set_hypervisor_type(request.hypervisor_type());
            vm.set_agent_version(request.agent_version());
            vm.set_last_seen_unix_micros(Micros(now));
            ops.push_back(Op::Put(Key(control_keys::kVms, vm.vm().id()), vm.SerializeAsString()));
            if (request.has_local()) {
              ops.push_back(Op::Put(Key(control_keys::kLocal, vm.vm().id()),
                                    request.local().SerializeAsString()));
            }
            return vm;
          }));
  Touch(vm.vm().id(), /*heartbeat=*/true);
  {
    absl::MutexLock lock(&liveness_mu_);
    liveness_[vm.vm().id()].persisted_last_seen = now;
  }
  VMSCAN_LOG(INFO) << "VM " << vm.vm().id() << " (" << vm.vm().name() << ") registered in '"
                   << snapshot()->PathOf(vm.group_id()) << "'";
  return Settings(vm.vm().id());
}

absl::StatusOr<uint64_t> ControlPlane::Heartbeat(absl::string_view vm_id) {
  std::shared_ptr<const ControlState> state = snapshot();
  auto it = state->vms.find(std::string(vm_id));
  if (it == state->vms.end()) {
    return absl::NotFoundError(absl::StrCat("VM '", vm_id, "' is not registered; register again"));
  }
  Touch(vm_id, /*heartbeat=*/true);
  bool persist = false;
  absl::Time now = options_.now();
  {
    absl::MutexLock lock(&liveness_mu_);
    Liveness& live = liveness_[vm_id];
    if (now - live.persisted_last_seen >= kPersistLastSeenEvery) {
      live.persisted_last_seen = now;
      persist = true;
    }
  }
  if (persist) {
    // Only this VM's key, guarded by its own revision: a concurrent move wins over a heartbeat.
    v1::VmRecord vm = it->second;
    vm.set_last_seen_unix_micros(Micros(now));
    absl::StatusOr<TxnResult> written = store_->Commit(
        {Compare::ModRevision(Key(control_keys::kVms, vm_id), state->vm_revisions.at(it->first))},
        {Op::Put(Key(control_keys::kVms, vm_id), vm.SerializeAsString())});
    if (!written.ok()) {
      VMSCAN_LOG(WARNING) << "heartbeat of " << vm_id << ": " << written.status();
    }
  }
  return static_cast<uint64_t>(state->revision);
}

absl::Status ControlPlane::Unregister(absl::string_view vm_id) {
  std::shared_ptr<const ControlState> state = snapshot();
  if (!state->vms.contains(std::string(vm_id))) {
    return absl::NotFoundError(absl::StrCat("VM '", vm_id, "' is not registered"));
  }
  absl::MutexLock lock(&liveness_mu_);
  Liveness& live = liveness_[vm_id];
  live.said_goodbye = true;
  live.last_seen = options_.now();
  VMSCAN_LOG(INFO) << "VM " << vm_id << " unregistered (agent stopping)";
  return absl::OkStatus();
}

absl::StatusOr<v1::VmSettings> ControlPlane::UpdateLocalSettings(
    const v1::UpdateLocalSettingsRequest& request) {
  VMSCAN_RETURN_IF_ERROR(
      Mutate<bool>(
          "change the local settings",
          [&](const ControlState& state, std::vector<Op>& ops) -> absl::StatusOr<bool> {
            auto vm = state.vms.find(request.vm_id());
            if (vm == state.vms.end()) {
              return absl::NotFoundError(absl::StrCat(
                  "VM '", request.vm_id(), "' is not registered; start 'vmscan-agent run' first"));
            }
            std::vector<v1::Policy> chain = state.PolicyChain(vm->second.group_id());
            std::vector<const v1::Policy*> pointers;
            for (const v1::Policy& policy : chain) pointers.push_back(&policy);
            for (const v1::SettingChange& change : request.changes()) {
              VMSCAN_ASSIGN_OR_RETURN(std::string key, NormalizeSettingKey(change.key()));
              VMSCAN_RETURN_IF_ERROR(CheckLocalChangeAllowed(pointers, key));
            }
            v1::MailAntivirusSettings local;
            if (auto it = state.local.find(request.vm_id()); it != state.local.end()) {
              local = it->second;
            }
            google::protobuf::RepeatedPtrField<std::string> no_locks;
            VMSCAN_RETURN_IF_ERROR(
                ApplySettingChanges(request.changes(), SettingsTarget::kLocal, &local, &no_locks));
            ops.push_back(
                Op::Put(Key(control_keys::kLocal, request.vm_id()), local.SerializeAsString()));
            return true;
          })
          .status());
  return Settings(request.vm_id());
}

absl::StatusOr<v1::MailAntivirusSettings> ControlPlane::ScanSettings(const v1::VmIdentity& vm) {
  std::shared_ptr<const ControlState> state = snapshot();
  if (vm.id().empty()) {
    v1::VmRecord anonymous;
    anonymous.set_group_id(DefaultGroupId(*state));
    VMSCAN_ASSIGN_OR_RETURN(v1::VmSettings settings, SettingsOf(*state, anonymous));
    return settings.values();
  }
  auto it = state->vms.find(vm.id());
  if (it == state->vms.end()) {
    // First contact through a scan (e.g. `vmscan-agent scan` before any `run`): it joins the
    // inventory like a registration, without making the VM look connected.
    VMSCAN_RETURN_IF_ERROR(
        Mutate<bool>(
            "add the scanning VM",
            [&](const ControlState& current, std::vector<Op>& ops) -> absl::StatusOr<bool> {
              if (current.vms.contains(vm.id())) return false;
              v1::VmRecord record;
              *record.mutable_vm() = vm;
              record.set_group_id(current.PlaceVm(vm, DefaultGroupId(current)));
              record.set_registered_unix_micros(Micros(options_.now()));
              record.set_last_seen_unix_micros(Micros(options_.now()));
              ops.push_back(Op::Put(Key(control_keys::kVms, vm.id()), record.SerializeAsString()));
              return true;
            })
            .status());
    state = snapshot();
    it = state->vms.find(vm.id());
    if (it == state->vms.end()) return absl::InternalError("scanning VM vanished");
  }
  Touch(vm.id(), /*heartbeat=*/false);
  VMSCAN_ASSIGN_OR_RETURN(v1::VmSettings settings, SettingsOf(*state, it->second));
  return settings.values();
}

// ---- subscriptions ----

absl::StatusOr<std::unique_ptr<ControlPlane::Subscription>> ControlPlane::Subscribe(
    absl::string_view vm_id, SettingsListener listener) {
  absl::MutexLock lock(&subscribers_mu_);
  // Under subscribers_mu_, so that no change slips between this first call and the next ones.
  VMSCAN_ASSIGN_OR_RETURN(v1::VmSettings settings, Settings(vm_id));
  Subscriber subscriber;
  subscriber.vm_id = std::string(vm_id);
  subscriber.listener = std::move(listener);
  subscriber.last_sent = SettingsFingerprint(settings);
  subscriber.listener(settings);
  const uint64_t id = next_subscriber_++;
  subscribers_.emplace(id, std::move(subscriber));
  return std::unique_ptr<Subscription>(new SubscriptionImpl(this, id));
}

void ControlPlane::NotifySubscribers(const ControlState& state) {
  absl::MutexLock lock(&subscribers_mu_);
  for (auto& [id, subscriber] : subscribers_) {
    auto vm = state.vms.find(subscriber.vm_id);
    if (vm == state.vms.end()) continue;  // deleted: the agent registers again.
    absl::StatusOr<v1::VmSettings> settings = SettingsOf(state, vm->second);
    if (!settings.ok()) continue;
    std::string fingerprint = SettingsFingerprint(*settings);
    if (fingerprint == subscriber.last_sent) continue;
    subscriber.last_sent = std::move(fingerprint);
    subscriber.listener(*settings);
  }
}

}  // namespace vmscan
