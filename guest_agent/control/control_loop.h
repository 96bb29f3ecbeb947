// ControlLoop: the control plane side of `vmscan-agent run`. Two background threads:
//
//   control: registers the VM (retrying with backoff while no SVM is reachable), then heartbeats
//            every heartbeat_interval_ms; registers again when the SVM answers NOT_FOUND (the VM
//            was deleted from the inventory, or the SVM lost its store).
//   restore: carries out the restores an administrator sent (HeartbeatResponse.pending_restores):
//            fetches each original, writes it to the restore directory and confirms it
//            (VmBackupClient), one at a time, so that heartbeats never wait for a download.
//   watch:   keeps a WatchSettings stream open once registered, reconnecting with backoff.
//            Heartbeat answers carry the control-plane revision: when it stays ahead of the
//            settings applied for a whole interval, the control thread asks GetSettings and
//            reopens the stream if it missed a change.
//
// Every VmSettings received (registration reply or stream) is written to <state_dir>/settings.json
// atomically and its differences from the previous one are logged ("settings: action_on_threat
// AUTO → DELETE (policy of group Managed devices/Finance)"). Each registration sends the local
// settings of <state_dir>/local-settings.json when that file exists.
//
//   std::unique_ptr<ControlLoop> loop = ControlLoop::Start(config, vm, "kvm");
//   ...                // the interceptors work whether or not the SVM is reachable
//   loop->Stop();      // prompt: cancels calls in flight, then Unregister (short deadline)
//
// Thread-safe.
#ifndef VMSCAN_GUEST_AGENT_CONTROL_CONTROL_LOOP_H_
#define VMSCAN_GUEST_AGENT_CONTROL_CONTROL_LOOP_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "guest_agent/backup/vm_backup_client.h"
#include "guest_agent/control/agent_control_client.h"
#include "vmscan/v1/config.pb.h"
#include "vmscan/v1/inventory.pb.h"
#include "vmscan/v1/scan.pb.h"

namespace vmscan {

class ControlLoop {
 public:
  static std::unique_ptr<ControlLoop> Start(const v1::AgentConfig& config, v1::VmIdentity vm,
                                            std::string hypervisor_type);
  ~ControlLoop();  // Stop()
  ControlLoop(const ControlLoop&) = delete;
  ControlLoop& operator=(const ControlLoop&) = delete;

  // Ends both threads at once (no waiting for a heartbeat period or a stream read), then tells
  // the SVM goodbye when the VM is registered. Idempotent.
  void Stop();

  // For tests and logs.
  bool registered() const;
  std::optional<v1::VmSettings> settings() const;

 private:
  ControlLoop(const v1::AgentConfig& config, v1::VmIdentity vm, std::string hypervisor_type);
  void ControlThread();
  void WatchThread();
  // Registration with retries; false when stopping.
  bool RegisterUntilDone();
  // Heartbeats until the SVM no longer knows the VM (NOT_FOUND) or Stop().
  void HeartbeatUntilLost();
  // The heartbeat says the control plane moved on and the stream sent nothing for a whole
  // interval: fetch the settings; if they differ from the applied ones the stream is stale
  // (a silent network break leaves a read blocked forever) and is reopened.
  void Reconcile();
  // Sleeps `d` unless Stop() comes first (or, with `generation`, a registration newer than it);
  // false when stopping.
  bool Sleep(absl::Duration d, std::optional<uint64_t> generation = std::nullopt);
  // Logs what changed and writes settings.json. `from_registration` may reset the revision.
  void Apply(const v1::VmSettings& settings, bool from_registration);
  // Hands pending restores to the restore thread (each id once until it is done or failed).
  void QueueRestores(const google::protobuf::RepeatedPtrField<std::string>& ids);
  void RestoreThread();

  const v1::AgentConfig config_;
  const v1::VmIdentity vm_;
  const std::string hypervisor_type_;
  const std::unique_ptr<AgentControlClient> client_;
  const std::unique_ptr<VmBackupClient> backups_;
  CallCanceller cancel_;  // the control thread's calls

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool registered_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;  // successful registrations so far
  // The watch in flight: cancelled by Stop(), and by a new registration so that the stream is
  // opened again for the VM as the SVM now knows it.
  CallCanceller* watch_cancel_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::optional<v1::VmSettings> settings_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> restores_ ABSL_GUARDED_BY(mu_);            // waiting for the thread
  absl::flat_hash_set<std::string> restoring_ ABSL_GUARDED_BY(mu_);  // queued or in progress

  std::thread control_thread_;
  std::thread watch_thread_;
  std::thread restore_thread_;
};

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_CONTROL_CONTROL_LOOP_H_
