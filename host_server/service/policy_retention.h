// Backup retention per VM (docs/design.md §4, §5): a policy's backup.max_age_days and
// backup.max_total_bytes apply to the records of the VMs it governs.
//
// The server's own `backup` config is the store-wide ceiling that BackupStore::EnforceRetention
// applies to everything (it protects the disk); a policy can make a VM's records go sooner, not
// keep them longer. 0 in a policy means "no limit of this kind beyond the server's".
//
//   absl::StatusOr<uint64_t> removed = EnforcePolicyRetention(*backup, *control, absl::Now());
//
// Records of VMs no longer in the inventory keep the server-wide retention only.
#ifndef VMSCAN_HOST_SERVER_SERVICE_POLICY_RETENTION_H_
#define VMSCAN_HOST_SERVER_SERVICE_POLICY_RETENTION_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "host_server/backup/backup_store.h"
#include "host_server/control/control_plane.h"

namespace vmscan {

// Removes, for each VM of the inventory, its records older than its effective max_age_days
// (as of `now`) and, newest first, those beyond its effective max_total_bytes of stored size
// (the VM's newest record always stays). Returns how many were removed.
absl::StatusOr<uint64_t> EnforcePolicyRetention(BackupStore& store, const ControlPlane& control,
                                                absl::Time now);

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_SERVICE_POLICY_RETENTION_H_
