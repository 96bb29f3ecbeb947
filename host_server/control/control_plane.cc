#include "host_server/control/control_plane.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "host_server/control/control_plane_internal.h"
#include "host_server/control/group_path.h"
#include "host_server/policy/effective_settings.h"
#include "host_server/policy/setting_changes.h"

namespace vmscan {

using control_internal::Key;
using control_internal::Micros;
using control_internal::NewId;

namespace {

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

std::string ControlPlane::DefaultGroupId(const ControlState& state) const {
  absl::StatusOr<std::string> id = state.FindGroup(options_.default_group);
  return id.ok() ? *id : std::string(kRootGroupId);
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
