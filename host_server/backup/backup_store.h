// BackupStore: where the SVM keeps the original of every message it deleted or disinfected
// (docs/design.md §2 backup rule, §5), so that an administrator can inspect, export or restore it.
//
//   VMSCAN_ASSIGN_OR_RETURN(std::string backup_id, store.Put(std::move(meta), raw_message));
//   // Only now may the reply reporting DELETE / DELIVER_DISINFECTED leave the SVM.
//
// Put() returns only after the record is durably committed, so a crash right after it cannot
// lose a message the agent is about to drop. Retention (maximum age, maximum total stored size,
// oldest first) runs after every Put and on demand.
//
// Thread-safety: every method may be called from any number of threads at once.
//
// Errors: InvalidArgument for a malformed id, NotFound for an unknown one, DataLoss for a record
// that is damaged on disk (that record only; the rest of the store stays usable),
// ResourceExhausted when the store cannot grow, Internal/Unavailable for storage failures.
#ifndef VMSCAN_HOST_SERVER_BACKUP_BACKUP_STORE_H_
#define VMSCAN_HOST_SERVER_BACKUP_BACKUP_STORE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "vmscan/v1/backup.pb.h"

namespace vmscan {

class BackupStore {
 public:
  virtual ~BackupStore() = default;

  // Saves `original` with its description `meta` and returns the new record's id. The store
  // sets id, created_unix_micros, size, sha256 and stored_size (values set by the caller are
  // overwritten). Returns only after the record is durably committed; a failure of the
  // retention pass that follows is logged, not returned, since the record itself is safe.
  virtual absl::StatusOr<std::string> Put(v1::BackupRecord meta, absl::string_view original) = 0;

  // The record's metadata. DataLoss if it is damaged.
  virtual absl::StatusOr<v1::BackupRecord> Get(absl::string_view id) = 0;

  // The original message, byte for byte, verified against the recorded SHA-256. DataLoss
  // naming the id if the stored copy is damaged.
  virtual absl::StatusOr<std::string> GetOriginal(absl::string_view id) = 0;

  // Records matching `filter`, newest first. A record whose metadata is damaged is returned
  // with `damage` set, but only when the filter has no vm_id, threat or action condition
  // (nothing is known about it, so it cannot be shown to a VM as its own).
  virtual absl::StatusOr<std::vector<v1::BackupRecord>> List(const v1::BackupFilter& filter) = 0;

  // Removes one record (also a damaged one). NotFound if there is none.
  virtual absl::Status Delete(absl::string_view id) = 0;

  // Removes every record created more than `older_than` ago; zero removes every record.
  // Returns how many were removed.
  virtual absl::StatusOr<uint64_t> Purge(absl::Duration older_than) = 0;

  virtual absl::StatusOr<v1::BackupStats> Stats() = 0;

  // Restore history (docs/design.md §5): applies `update` to the record's `restores` (and nothing
  // else) in one durable transaction and returns the record as stored. NotFound, DataLoss.
  virtual absl::StatusOr<v1::BackupRecord> UpdateRestores(
      absl::string_view id,
      const std::function<absl::Status(google::protobuf::RepeatedPtrField<v1::RestoreEvent>*)>&
          update) = 0;

  // The ids of `vm_id`'s records with a restore not yet delivered (a RestoreEvent with
  // delivered_unix_micros 0), oldest first. Cheap: an index, not a scan of the store.
  virtual absl::StatusOr<std::vector<std::string>> PendingRestores(absl::string_view vm_id) = 0;

  // Applies the retention limits, oldest record first: removes every record older than the
  // maximum age, and removes records while the total stored (compressed) size is over the
  // maximum, except the newest record: a single record larger than the limit is kept until it
  // ages out or a newer one arrives. Put runs this too, and never removes the record it just
  // wrote. Returns how many were removed.
  virtual absl::StatusOr<uint64_t> EnforceRetention() = 0;
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_BACKUP_BACKUP_STORE_H_
