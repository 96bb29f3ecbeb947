// Backup retention per VM (docs/design.md §4, §5): a policy's backup.max_age_days and
// backup.max_total_bytes apply to the records of the VMs it governs.
//
// The server's own `backup` config is the store-wide ceiling that BackupStore::EnforceRetention
// applies to everything (it protects the disk); a policy can make a VM's records go sooner, not
// keep them longer. 0 in a policy means "no limit of this kind beyond the server's".
//
//   VMSCAN_ASSIGN_OR_RETURN(uint64_t removed,
//                           EnforceVmRetention(store, "vm-1", settings.values().backup(), now));
//
// Thread-safe as far as `store` is.
#ifndef VMSCAN_HOST_SERVER_BACKUP_VM_RETENTION_H_
#define VMSCAN_HOST_SERVER_BACKUP_VM_RETENTION_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "host_server/backup/backup_store.h"
#include "vmscan/v1/policy.pb.h"

namespace vmscan {

// Removes the records of `vm_id` older than `retention.max_age_days` (as of `now`) and, newest
// first, those beyond `retention.max_total_bytes` of stored size (the VM's newest record always
// stays). Returns how many were removed; a record removed meanwhile by someone else is skipped.
absl::StatusOr<uint64_t> EnforceVmRetention(BackupStore& store, absl::string_view vm_id,
                                            const v1::PolicyRetention& retention, absl::Time now);

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_BACKUP_VM_RETENTION_H_
