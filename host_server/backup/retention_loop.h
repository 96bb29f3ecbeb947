// RetentionLoop: Backup retention on a thread of its own, every `interval` (docs/design.md §5).
// Each pass applies the store-wide limits (BackupStore::EnforceRetention; Put applies them too,
// the pass catches records that have only aged), then each VM's own limits from its effective
// settings (EnforceVmRetention). A failure is logged as a WARNING and the next pass runs as
// planned: retention is never a reason to stop the server. Records of VMs no longer in the
// inventory keep the store-wide retention only.
//
//   RetentionLoop retention(backup, [control] { return control->ListSettings(); });
//   retention.Start();
//   ...
//   retention.Stop();  // or destroy it
//
// Thread-safety: Start and Stop belong to the owner; RunOnce may run on any thread.
#ifndef VMSCAN_HOST_SERVER_BACKUP_RETENTION_LOOP_H_
#define VMSCAN_HOST_SERVER_BACKUP_RETENTION_LOOP_H_

#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "host_server/backup/backup_store.h"
#include "vmscan/v1/inventory.pb.h"

namespace vmscan {

struct RetentionLoopOptions {
  absl::Duration interval = absl::Minutes(10);  // the first pass runs one interval after Start
  std::function<absl::Time()> clock;            // "now" of the age limits; absl::Now when empty
};

class RetentionLoop {
 public:
  // The effective settings of every VM of the inventory (ControlPlane::ListSettings).
  using SettingsSource = std::function<absl::StatusOr<std::vector<v1::VmSettings>>()>;

  // `store` must outlive the loop.
  RetentionLoop(BackupStore* store, SettingsSource vms, RetentionLoopOptions options = {});
  ~RetentionLoop();  // Stop()
  RetentionLoop(const RetentionLoop&) = delete;
  RetentionLoop& operator=(const RetentionLoop&) = delete;

  // Starts the thread; at most once.
  void Start();
  // Ends the thread (a pass in progress finishes first); idempotent.
  void Stop();

  // One pass, as the thread runs it: returns how many records it removed.
  uint64_t RunOnce();

 private:
  BackupStore* const store_;
  const SettingsSource vms_;
  const RetentionLoopOptions options_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_BACKUP_RETENTION_LOOP_H_
