#include "host_server/storage/lmdb_env.h"

#include <cerrno>
#include <string>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"

namespace vmscan {
namespace {

constexpr char kCodePayload[] = "type.vmscan.dev/lmdb.rc";

absl::StatusCode CodeFor(int rc) {
  switch (rc) {
    case MDB_NOTFOUND:
      return absl::StatusCode::kNotFound;
    case MDB_KEYEXIST:
      return absl::StatusCode::kAlreadyExists;
    // Out of room: the map, the reader table, a transaction's dirty pages, the disk, memory.
    case MDB_MAP_FULL:
    case MDB_READERS_FULL:
    case MDB_TXN_FULL:
    case MDB_CURSOR_FULL:
    case MDB_PAGE_FULL:
    case MDB_DBS_FULL:
    case MDB_TLS_FULL:
    case ENOSPC:
    case ENOMEM:
      return absl::StatusCode::kResourceExhausted;
    // The file itself is damaged.
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
      return absl::StatusCode::kDataLoss;
    // Another process changed the map size, or holds the lock: try again.
    case MDB_MAP_RESIZED:
    case EAGAIN:
    case EBUSY:
      return absl::StatusCode::kUnavailable;
    // Not a file we can use (other version, not an LMDB file, wrong flags).
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
    case MDB_INCOMPATIBLE:
    case MDB_BAD_DBI:
      return absl::StatusCode::kFailedPrecondition;
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::StatusCode::kPermissionDenied;
    case ENOENT:
      return absl::StatusCode::kNotFound;
    case EINVAL:
      return absl::StatusCode::kInvalidArgument;
    default:
      return absl::StatusCode::kInternal;
  }
}

MDB_val ToVal(absl::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }

absl::string_view FromVal(const MDB_val& v) {
  return absl::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
}

}  // namespace

absl::Status LmdbStatus(int rc, absl::string_view what) {
  if (rc == MDB_SUCCESS) return absl::OkStatus();
  absl::Status status(CodeFor(rc), absl::StrCat(what, ": ", mdb_strerror(rc)));
  status.SetPayload(kCodePayload, absl::Cord(absl::StrCat(rc)));
  return status;
}

std::optional<int> LmdbErrorCode(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kCodePayload);
  int rc = 0;
  if (!payload.has_value() || !absl::SimpleAtoi(std::string(*payload), &rc)) return std::nullopt;
  return rc;
}

absl::StatusOr<MdbTxn> MdbTxn::Begin(MDB_env* env, unsigned int flags) {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env, nullptr, flags, &txn);
  if (rc != MDB_SUCCESS) {
    return LmdbStatus(rc,
                      (flags & MDB_RDONLY) ? "begin read transaction" : "begin write transaction");
  }
  return MdbTxn(txn);
}

MdbTxn& MdbTxn::operator=(MdbTxn&& other) noexcept {
  if (this != &other) {
    Abort();
    txn_ = std::exchange(other.txn_, nullptr);
  }
  return *this;
}

absl::Status MdbTxn::Commit() {
  // mdb_txn_commit frees the handle even when it fails.
  int rc = mdb_txn_commit(std::exchange(txn_, nullptr));
  return LmdbStatus(rc, "commit");
}

void MdbTxn::Abort() {
  if (txn_ != nullptr) mdb_txn_abort(std::exchange(txn_, nullptr));
}

absl::StatusOr<absl::string_view> MdbTxn::Get(MDB_dbi dbi, absl::string_view key) const {
  MDB_val k = ToVal(key);
  MDB_val v{0, nullptr};
  int rc = mdb_get(txn_, dbi, &k, &v);
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "get");
  return FromVal(v);
}

absl::Status MdbTxn::Put(MDB_dbi dbi, absl::string_view key, absl::string_view value,
                         unsigned int flags) {
  MDB_val k = ToVal(key);
  MDB_val v = ToVal(value);
  return LmdbStatus(mdb_put(txn_, dbi, &k, &v, flags), "put");
}

absl::Status MdbTxn::Del(MDB_dbi dbi, absl::string_view key) {
  MDB_val k = ToVal(key);
  return LmdbStatus(mdb_del(txn_, dbi, &k, nullptr), "delete");
}

absl::StatusOr<MdbCursor> MdbCursor::Open(const MdbTxn& txn, MDB_dbi dbi) {
  MDB_cursor* cursor = nullptr;
  int rc = mdb_cursor_open(txn.get(), dbi, &cursor);
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "open cursor");
  return MdbCursor(cursor);
}

MdbCursor::~MdbCursor() {
  if (cursor_ != nullptr) mdb_cursor_close(cursor_);
}

absl::StatusOr<bool> MdbCursor::Move(MDB_cursor_op op, absl::string_view seek_key) {
  MDB_val k = ToVal(seek_key);
  MDB_val v{0, nullptr};
  int rc = mdb_cursor_get(cursor_, &k, &v, op);
  if (rc == MDB_NOTFOUND) {
    key_ = value_ = absl::string_view();
    return false;
  }
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "cursor");
  key_ = FromVal(k);
  value_ = FromVal(v);
  return true;
}

}  // namespace vmscan
