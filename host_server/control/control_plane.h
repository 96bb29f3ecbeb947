// ControlPlane: groups, policies with locks, the VM inventory, local settings and assignment
// rules (docs/design.md §4, §6) on top of a ControlStore — the one place their rules live. The gRPC
// services (InventoryAdmin, PolicyAdmin, AgentControl) and the scan path call it.
//
//   VMSCAN_ASSIGN_OR_RETURN(std::unique_ptr<ControlPlane> control,
//                           ControlPlane::Create(store, options));
//   control->CreateGroup("Managed devices/Finance");
//   control->UpdatePolicy(request);                    // one new version, or nothing
//   v1::MailAntivirusSettings s = control->ScanSettings(metadata.vm());  // for each scan
//
// Consistency: every change is one store transaction guarded by the store's "meta/epoch" key, so
// concurrent changes never interleave: changes from this process queue up; one that loses against
// another writer of a shared store (another SVM) re-reads and re-validates (up to a few times,
// then ABORTED). Readers use an immutable snapshot
// that the store's watch refreshes after every commit, whoever made it; a change returns only
// once the snapshot includes it (read-your-writes).
//
// Liveness is kept in memory (heartbeats are frequent and per SVM): a VM is CONNECTED while its
// heartbeats or registrations arrive within `heartbeat_timeout` and it has not unregistered since
// its last registration (a late heartbeat does not undo a goodbye);
// last_seen is written to the store on registration, on unregistration and at most once a minute
// otherwise.
//
// Thread-safe.
#ifndef VMSCAN_HOST_SERVER_CONTROL_CONTROL_PLANE_H_
#define VMSCAN_HOST_SERVER_CONTROL_CONTROL_PLANE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "host_server/control/control_state.h"
#include "host_server/control/store/control_store.h"
#include "vmscan/v1/control.pb.h"
#include "vmscan/v1/inventory.pb.h"
#include "vmscan/v1/policy.pb.h"

namespace vmscan {

class ControlPlane {
 public:
  struct Options {
    std::string default_group = "Managed devices";  // created when missing.
    absl::Duration heartbeat_timeout = absl::Seconds(30);
    v1::MailAntivirusSettings defaults;  // must set every key (ResolveSettings).
    std::function<absl::Time()> now = [] { return absl::Now(); };
  };

  // Creates the root and default groups when missing. `store` must outlive the ControlPlane.
  static absl::StatusOr<std::unique_ptr<ControlPlane>> Create(ControlStore* store, Options options);
  ~ControlPlane();

  // Groups.
  absl::StatusOr<v1::Group> CreateGroup(absl::string_view path);
  absl::StatusOr<std::vector<v1::Group>> ListGroups() const;
  absl::Status DeleteGroup(absl::string_view path);
  absl::StatusOr<v1::Group> RenameGroup(absl::string_view path, absl::string_view new_path);

  // Inventory.
  absl::StatusOr<std::vector<v1::VmRecord>> ListVms(absl::string_view group, bool recursive) const;
  absl::StatusOr<v1::VmRecord> GetVm(absl::string_view ref) const;
  absl::StatusOr<v1::VmRecord> MoveVm(absl::string_view ref, absl::string_view group);
  absl::Status DeleteVm(absl::string_view ref);
  absl::StatusOr<v1::VmSettings> Settings(absl::string_view ref) const;
  // The settings of every VM of the inventory, from one snapshot, in VM id order.
  absl::StatusOr<std::vector<v1::VmSettings>> ListSettings() const;

  // Assignment rules.
  absl::StatusOr<v1::ListRulesResponse> ListRules() const;
  absl::StatusOr<v1::AssignmentRule> AddRule(v1::AssignmentRule rule);
  absl::Status DeleteRule(absl::string_view id);

  // Policies.
  absl::StatusOr<v1::Policy> GetPolicy(absl::string_view group) const;
  absl::StatusOr<v1::Policy> UpdatePolicy(const v1::UpdatePolicyRequest& request);
  absl::StatusOr<std::vector<v1::Policy>> PolicyHistory(absl::string_view group,
                                                        uint32_t limit) const;

  // The agent's side.
  absl::StatusOr<v1::VmSettings> Register(const v1::RegisterRequest& request);
  absl::StatusOr<uint64_t> Heartbeat(absl::string_view vm_id);  // NotFound: register again.
  absl::Status Unregister(absl::string_view vm_id);
  absl::StatusOr<v1::VmSettings> UpdateLocalSettings(const v1::UpdateLocalSettingsRequest& request);

  // The effective settings a scan of `vm` gets. A VM seen for the first time is registered (and
  // placed by the rules); a scan without a VM id gets the default group's settings.
  // `group`, when given, receives the VM's group path.
  absl::StatusOr<v1::MailAntivirusSettings> ScanSettings(const v1::VmIdentity& vm,
                                                         std::string* group = nullptr);

  // Calls `listener` with the VM's settings now (before Subscribe returns) and then whenever
  // they change (a policy on its path, a move, its local settings, a rename of its group), from
  // the thread that applied the change: it must not block or call back into the ControlPlane.
  // NotFound for an unknown VM. The subscription ends when the handle is destroyed (which waits
  // for a call in progress).
  class Subscription {
   public:
    virtual ~Subscription() = default;
  };
  using SettingsListener = std::function<void(const v1::VmSettings&)>;
  absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(absl::string_view vm_id,
                                                          SettingsListener listener);

  // The current store revision the snapshot reflects.
  int64_t revision() const;

 private:
  class SubscriptionImpl;
  struct Subscriber {
    std::string vm_id;
    SettingsListener listener;
    std::string last_sent;  // serialized VmSettings without revision; "" before the first.
  };
  struct Liveness {
    absl::Time last_heartbeat = absl::InfinitePast();
    absl::Time last_seen = absl::InfinitePast();
    absl::Time persisted_last_seen = absl::InfinitePast();
    bool said_goodbye = false;
  };
  // A transaction body: reads `state`, validates, appends ops, returns the result.
  template <typename T>
  using TxnBody = std::function<absl::StatusOr<T>(const ControlState& state, std::vector<Op>& ops)>;

  ControlPlane(ControlStore* store, Options options);
  template <typename T>
  absl::StatusOr<T> Mutate(const char* what, TxnBody<T> body);
  absl::Status Reload();
  void WaitForRevision(int64_t revision);
  std::shared_ptr<const ControlState> snapshot() const;
  void NotifySubscribers(const ControlState& state);

  absl::StatusOr<v1::VmSettings> SettingsOf(const ControlState& state,
                                            const v1::VmRecord& vm) const;
  v1::Group Describe(const ControlState& state, const v1::Group& group) const;
  v1::VmRecord Describe(const ControlState& state, const v1::VmRecord& vm) const;
  std::string DefaultGroupId(const ControlState& state) const;
  enum class Contact { kRegister, kHeartbeat, kScan };
  void Touch(absl::string_view vm_id, Contact contact);

  ControlStore* const store_;
  const Options options_;

  absl::Mutex mutate_mu_;  // one change at a time from this process (see Mutate).

  mutable absl::Mutex snapshot_mu_;
  std::shared_ptr<const ControlState> snapshot_ ABSL_GUARDED_BY(snapshot_mu_);

  mutable absl::Mutex liveness_mu_;
  absl::flat_hash_map<std::string, Liveness> liveness_ ABSL_GUARDED_BY(liveness_mu_);

  // Held while listeners run, so that destroying a Subscription waits for its call to end.
  absl::Mutex subscribers_mu_;
  std::map<uint64_t, Subscriber> subscribers_ ABSL_GUARDED_BY(subscribers_mu_);
  uint64_t next_subscriber_ ABSL_GUARDED_BY(subscribers_mu_) = 1;

  std::unique_ptr<ControlStore::WatchHandle> watch_;  // last: stops before the rest goes.
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_CONTROL_CONTROL_PLANE_H_
