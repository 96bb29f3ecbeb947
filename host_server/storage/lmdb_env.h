// The one adapter between LMDB's C API and vmscan: LMDB return codes become absl::Status here
// (LmdbStatus), and RAII types own the environment, transactions and cursors so that no path
// can leak a transaction (which would pin pages and block map growth).
//
//   VMSCAN_ASSIGN_OR_RETURN(MdbTxn txn, MdbTxn::Begin(env, MDB_RDONLY));
//   VMSCAN_ASSIGN_OR_RETURN(absl::string_view value, txn.Get(dbi, key));  // NotFound if absent
//
// Not thread-safe: a transaction and its cursors belong to one thread at a time.
#ifndef VMSCAN_HOST_SERVER_STORAGE_LMDB_ENV_H_
#define VMSCAN_HOST_SERVER_STORAGE_LMDB_ENV_H_

#include <lmdb.h>

#include <memory>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vmscan {

// Maps an LMDB (or errno) return code to a Status whose message is "<what>: <mdb_strerror>".
// The raw code travels along as a payload, for callers that react to a specific code
// (LmdbErrorCode). OK for MDB_SUCCESS.
absl::Status LmdbStatus(int rc, absl::string_view what);

// The LMDB code inside a Status made by LmdbStatus, if any.
std::optional<int> LmdbErrorCode(const absl::Status& status);

struct MdbEnvDeleter {
  void operator()(MDB_env* env) const { mdb_env_close(env); }
};
using MdbEnvPtr = std::unique_ptr<MDB_env, MdbEnvDeleter>;

// A transaction that is aborted on destruction unless committed.
class MdbTxn {
 public:
  // `flags` is 0 for a write transaction or MDB_RDONLY.
  static absl::StatusOr<MdbTxn> Begin(MDB_env* env, unsigned int flags);

  MdbTxn(MdbTxn&& other) noexcept : txn_(std::exchange(other.txn_, nullptr)) {}
  MdbTxn& operator=(MdbTxn&& other) noexcept;
  MdbTxn(const MdbTxn&) = delete;
  MdbTxn& operator=(const MdbTxn&) = delete;
  ~MdbTxn() { Abort(); }

  MDB_txn* get() const { return txn_; }

  // Commits; the transaction is finished whatever the result.
  absl::Status Commit();
  void Abort();

  // The value stored under `key`, NotFound if none. The view points into the memory map and
  // stays valid until the transaction ends (or, in a write transaction, the next change).
  absl::StatusOr<absl::string_view> Get(MDB_dbi dbi, absl::string_view key) const;
  absl::Status Put(MDB_dbi dbi, absl::string_view key, absl::string_view value,
                   unsigned int flags = 0);
  // NotFound if `key` is absent.
  absl::Status Del(MDB_dbi dbi, absl::string_view key);

 private:
  explicit MdbTxn(MDB_txn* txn) : txn_(txn) {}
  MDB_txn* txn_ = nullptr;
};

// A cursor, closed on destruction; must not outlive its transaction.
class MdbCursor {
 public:
  static absl::StatusOr<MdbCursor> Open(const MdbTxn& txn, MDB_dbi dbi);

  MdbCursor(MdbCursor&& other) noexcept
      : cursor_(std::exchange(other.cursor_, nullptr)), key_(other.key_), value_(other.value_) {}
  MdbCursor(const MdbCursor&) = delete;
  MdbCursor& operator=(const MdbCursor&) = delete;
  MdbCursor& operator=(MdbCursor&&) = delete;
  ~MdbCursor();

  // Moves with `op` (MDB_FIRST, MDB_LAST, MDB_NEXT, MDB_PREV, or MDB_SET_RANGE to the first
  // key >= `seek_key`). False when there is no such entry.
  absl::StatusOr<bool> Move(MDB_cursor_op op, absl::string_view seek_key = {});

  // The current entry; valid after Move returned true, until the next Move or txn end.
  absl::string_view key() const { return key_; }
  absl::string_view value() const { return value_; }

 private:
  explicit MdbCursor(MDB_cursor* cursor) : cursor_(cursor) {}
  MDB_cursor* cursor_ = nullptr;
  absl::string_view key_;
  absl::string_view value_;
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_STORAGE_LMDB_ENV_H_
