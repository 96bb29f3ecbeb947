// LmdbBackupStore: the BackupStore of one SVM, in an LMDB environment of its own directory,
// originals compressed with zstd (format: record_format.h).
//
//   LmdbBackupOptions options;
//   options.dir = state_dir + "/backup";
//   VMSCAN_ASSIGN_OR_RETURN(std::unique_ptr<LmdbBackupStore> store,
//                           LmdbBackupStore::Open(options));
//
// Ownership: open a directory once per process and share that one object (LMDB breaks its own
// locking when one process opens the same environment twice); a second Open of the same
// directory while the first object lives fails with FailedPrecondition. Other processes must
// not write to the directory while the server runs.
//
// Durability: every change is one LMDB write transaction committed with LMDB's default flags,
// i.e. fsync'ed before the call returns (about 3,500 commits/s on the reference machine).
//
// Space: the memory map starts at `initial_map_bytes` and doubles whenever a write finds it full
// (up to `max_map_bytes`; beyond that writes fail with ResourceExhausted). The file never
// shrinks: LMDB reuses the pages that deletions free. (PrivateEnv, host_server/storage.)
//
// Thread-safety: all methods may be called concurrently.
#ifndef VMSCAN_HOST_SERVER_BACKUP_LMDB_BACKUP_STORE_H_
#define VMSCAN_HOST_SERVER_BACKUP_LMDB_BACKUP_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "host_server/backup/backup_store.h"
#include "host_server/backup/record_format.h"
#include "host_server/storage/lmdb_env.h"
#include "host_server/storage/private_env.h"

namespace vmscan {

struct LmdbBackupOptions {
  std::string dir;  // created (mode 0700) if missing.
  // Records older than this are removed. Zero, negative or infinite: no age limit.
  absl::Duration max_age = absl::Hours(24 * 30);
  // Records are removed, oldest first, while the total STORED (compressed) size is above this;
  // the newest record is always kept. 0: no size limit.
  uint64_t max_total_bytes = uint64_t{1} << 30;
  uint64_t initial_map_bytes = uint64_t{64} << 20;  // rounded up to whole pages.
  uint64_t max_map_bytes = uint64_t{64} << 30;      // ceiling for automatic growth.
  int compression_level = 3;                        // zstd level.
  // Time source for ids and retention; absl::Now when empty. Called from several threads.
  std::function<absl::Time()> clock;
};

class LmdbBackupStore final : public BackupStore {
 public:
  static absl::StatusOr<std::unique_ptr<LmdbBackupStore>> Open(const LmdbBackupOptions& options);

  ~LmdbBackupStore() override;
  LmdbBackupStore(const LmdbBackupStore&) = delete;
  LmdbBackupStore& operator=(const LmdbBackupStore&) = delete;

  absl::StatusOr<std::string> Put(v1::BackupRecord meta, absl::string_view original) override;
  absl::StatusOr<v1::BackupRecord> Get(absl::string_view id) override;
  absl::StatusOr<std::string> GetOriginal(absl::string_view id) override;
  absl::StatusOr<std::vector<v1::BackupRecord>> List(const v1::BackupFilter& filter) override;
  absl::Status Delete(absl::string_view id) override;
  absl::StatusOr<uint64_t> Purge(absl::Duration older_than) override;
  absl::StatusOr<v1::BackupStats> Stats() override;
  absl::StatusOr<uint64_t> EnforceRetention() override;
  absl::StatusOr<v1::BackupRecord> UpdateRestores(
      absl::string_view id,
      const std::function<absl::Status(google::protobuf::RepeatedPtrField<v1::RestoreEvent>*)>&
          update) override;
  absl::StatusOr<std::vector<std::string>> PendingRestores(absl::string_view vm_id) override;

 private:
  // Which records a sweep removes, oldest first; it stops at the first record that stays.
  struct Sweep {
    int64_t remove_before_micros;  // records created before this go.
    uint64_t max_stored_bytes;     // records go while the stored total is above this; 0: off.
    bool keep_newest;              // the size limit never removes the newest record.
    std::string keep_id;           // never remove this record (and so none newer).
  };

  LmdbBackupStore(const LmdbBackupOptions& options, std::unique_ptr<PrivateEnv> env);

  absl::Status Init();
  int64_t NowMicros() const;
  uint32_t NextSuffix();

  absl::Status OpenDatabases(MdbTxn& txn);
  absl::StatusOr<BackupTotals> ReadTotals(const MdbTxn& txn) const;
  absl::StatusOr<BackupTotals> ComputeTotals(const MdbTxn& txn) const;
  // Removes both halves of one record and subtracts it from `totals`. NotFound if neither exists.
  absl::Status RemoveRecord(MdbTxn& txn, absl::string_view id, BackupTotals& totals);
  absl::StatusOr<uint64_t> RunSweep(const Sweep& sweep);
  absl::StatusOr<uint64_t> RetentionPass(absl::string_view keep_id);

  const LmdbBackupOptions options_;
  // Write() runs a body in a write transaction and commits it; when the map is full it grows the
  // map and runs the body again in a fresh transaction, so a body must start from scratch.
  const std::unique_ptr<PrivateEnv> env_;
  // Set once by Init(), before the store is shared.
  MDB_dbi meta_dbi_ = 0;
  MDB_dbi content_dbi_ = 0;
  MDB_dbi info_dbi_ = 0;
  MDB_dbi pending_dbi_ = 0;  // "<vm id>\0<record id>" for records with an undelivered restore

  absl::Mutex rng_mu_;
  absl::BitGen rng_ ABSL_GUARDED_BY(rng_mu_);
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_BACKUP_LMDB_BACKUP_STORE_H_
