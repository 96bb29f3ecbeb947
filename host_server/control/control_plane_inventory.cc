#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/logging.h"
#include "common/settings/mail_settings.h"
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

absl::StatusOr<std::vector<v1::VmSettings>> ControlPlane::ListSettings() const {
  std::shared_ptr<const ControlState> state = snapshot();
  std::vector<v1::VmSettings> all;
  all.reserve(state->vms.size());
  for (const auto& [id, vm] : state->vms) {
    VMSCAN_ASSIGN_OR_RETURN(v1::VmSettings settings, SettingsOf(*state, vm));
    all.push_back(std::move(settings));
  }
  return all;
}

// ---- agents ----

void ControlPlane::Touch(absl::string_view vm_id, Contact contact) {
  absl::MutexLock lock(&liveness_mu_);
  Liveness& live = liveness_[vm_id];
  live.last_seen = options_.now();
  if (contact == Contact::kScan) return;
  live.last_heartbeat = live.last_seen;
  // Only a registration ends a goodbye: a heartbeat the agent sent just before it stopped may be
  // handled after its Unregister, and must not make the stopped agent look connected again.
  if (contact == Contact::kRegister) live.said_goodbye = false;
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
  Touch(vm.vm().id(), Contact::kRegister);
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
  Touch(vm_id, Contact::kHeartbeat);
  bool persist = false;
  absl::Time now = options_.now();
  {
    absl::MutexLock lock(&liveness_mu_);
    Liveness& live = liveness_[vm_id];
    if (now - live.persisted_last_seen >= control_internal::kPersistLastSeenEvery) {
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
              VMSCAN_ASSIGN_OR_RETURN(std::string key, CanonicalSettingKey(change.key()));
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

absl::StatusOr<v1::MailAntivirusSettings> ControlPlane::ScanSettings(const v1::VmIdentity& vm,
                                                                     std::string* group) {
  std::shared_ptr<const ControlState> state = snapshot();
  if (vm.id().empty()) {
    v1::VmRecord anonymous;
    anonymous.set_group_id(DefaultGroupId(*state));
    VMSCAN_ASSIGN_OR_RETURN(v1::VmSettings settings, SettingsOf(*state, anonymous));
    if (group != nullptr) *group = settings.group();
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
  Touch(vm.id(), Contact::kScan);
  VMSCAN_ASSIGN_OR_RETURN(v1::VmSettings settings, SettingsOf(*state, it->second));
  if (group != nullptr) *group = settings.group();
  return settings.values();
}

}  // namespace vmscan
