#include "host_server/backup/lmdb_backup_store.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <optional>
#include <system_error>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "host_server/backup/backup_id.h"
#include "host_server/backup/zstd_codec.h"

namespace vmscan {
namespace {

// Records removed per write transaction by Purge and retention, so that a big sweep neither
// hits LMDB's per-transaction page limit nor holds the single writer slot for long.
constexpr size_t kSweepBatch = 1024;
constexpr uint32_t kDefaultListLimit = 1000;

absl::Status NoRecord(absl::string_view id) {
  return absl::NotFoundError(absl::StrCat("no backup record ", id));
}

// Prefixes `status` with the record it concerns, keeping its code.
absl::Status ForRecord(absl::string_view id, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat("backup record ", id, ": ", status.message()));
}

// The metadata stored under `key`, checked to belong to that key.
absl::StatusOr<v1::BackupRecord> DecodeRecord(absl::string_view key, absl::string_view value) {
  VMSCAN_ASSIGN_OR_RETURN(v1::BackupRecord record, DecodeMetadata(value));
  if (record.id() != key) {
    return absl::DataLossError(absl::StrCat("metadata belongs to \"", record.id(), "\""));
  }
  return record;
}

// The pending-restore index key of a record: VM id, NUL, record id (VM ids hold no NUL).
std::string PendingKey(absl::string_view vm_id, absl::string_view id) {
  return absl::StrCat(vm_id, std::string(1, '\0'), id);
}

bool HasPendingRestore(const v1::BackupRecord& record) {
  return std::any_of(record.restores().begin(), record.restores().end(),
                     [](const v1::RestoreEvent& e) { return e.delivered_unix_micros() == 0; });
}

bool ContainsIgnoringAsciiCase(absl::string_view text, absl::string_view needle) {
  return absl::StrContains(absl::AsciiStrToLower(text), absl::AsciiStrToLower(needle));
}

bool Matches(const v1::BackupRecord& record, const v1::BackupFilter& filter) {
  if (!filter.vm_id().empty() && record.vm().id() != filter.vm_id()) return false;
  if (filter.action() != v1::ACTION_UNSPECIFIED && record.action() != filter.action()) {
    return false;
  }
  if (!filter.threat().empty()) {
    return std::any_of(record.threats().begin(), record.threats().end(), [&](const v1::Threat& t) {
      return ContainsIgnoringAsciiCase(t.name(), filter.threat());
    });
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<LmdbBackupStore>> LmdbBackupStore::Open(
    const LmdbBackupOptions& options) {
  const PrivateEnvOptions env_options = {"backup store", options.dir, options.initial_map_bytes,
                                         options.max_map_bytes, /*max_dbs=*/4};
  VMSCAN_ASSIGN_OR_RETURN(std::unique_ptr<PrivateEnv> env, PrivateEnv::Open(env_options));
  std::unique_ptr<LmdbBackupStore> store(new LmdbBackupStore(options, std::move(env)));
  VMSCAN_RETURN_IF_ERROR(store->Init());
  return store;
}

LmdbBackupStore::LmdbBackupStore(const LmdbBackupOptions& options, std::unique_ptr<PrivateEnv> env)
    : options_(options), env_(std::move(env)) {}

LmdbBackupStore::~LmdbBackupStore() = default;

absl::Status LmdbBackupStore::OpenDatabases(MdbTxn& txn) {
  VMSCAN_RETURN_IF_ERROR(
      LmdbStatus(mdb_dbi_open(txn.get(), kMetaDbName, MDB_CREATE, &meta_dbi_), "open meta db"));
  VMSCAN_RETURN_IF_ERROR(LmdbStatus(
      mdb_dbi_open(txn.get(), kContentDbName, MDB_CREATE, &content_dbi_), "open content db"));
  VMSCAN_RETURN_IF_ERROR(
      LmdbStatus(mdb_dbi_open(txn.get(), kInfoDbName, MDB_CREATE, &info_dbi_), "open info db"));
  return LmdbStatus(mdb_dbi_open(txn.get(), kPendingDbName, MDB_CREATE, &pending_dbi_),
                    "open pending-restore db");
}

absl::Status LmdbBackupStore::Init() {
  bool recounted = false;
  BackupTotals totals;
  VMSCAN_RETURN_IF_ERROR(env_->Write([&](MdbTxn& txn) -> absl::Status {
    VMSCAN_RETURN_IF_ERROR(OpenDatabases(txn));
    absl::StatusOr<BackupTotals> stored = ReadTotals(txn);
    if (stored.ok()) {
      totals = *stored;
      return absl::OkStatus();
    }
    // A new store, or one whose totals were lost: count them once.
    VMSCAN_ASSIGN_OR_RETURN(totals, ComputeTotals(txn));
    recounted = totals.records > 0;
    return txn.Put(info_dbi_, kTotalsKey, EncodeTotals(totals));
  }));
  if (recounted) {
    VMSCAN_LOG(WARNING) << "backup store " << options_.dir << ": totals were missing, recounted";
  }
  VMSCAN_LOG(INFO) << "backup store " << options_.dir << ": " << totals.records << " records, "
                   << totals.stored_bytes << " bytes stored, map " << env_->MapBytes() << " bytes";
  return absl::OkStatus();
}

int64_t LmdbBackupStore::NowMicros() const {
  return absl::ToUnixMicros(options_.clock ? options_.clock() : absl::Now());
}

uint32_t LmdbBackupStore::NextSuffix() {
  absl::MutexLock lock(&rng_mu_);
  return absl::Uniform<uint32_t>(rng_);
}

absl::StatusOr<BackupTotals> LmdbBackupStore::ReadTotals(const MdbTxn& txn) const {
  VMSCAN_ASSIGN_OR_RETURN(absl::string_view value, txn.Get(info_dbi_, kTotalsKey));
  return DecodeTotals(value);
}

absl::StatusOr<BackupTotals> LmdbBackupStore::ComputeTotals(const MdbTxn& txn) const {
  BackupTotals totals;
  VMSCAN_ASSIGN_OR_RETURN(MdbCursor cursor, MdbCursor::Open(txn, content_dbi_));
  VMSCAN_ASSIGN_OR_RETURN(bool found, cursor.Move(MDB_FIRST));
  while (found) {
    ++totals.records;
    totals.stored_bytes += cursor.value().size();
    absl::StatusOr<absl::string_view> meta = txn.Get(meta_dbi_, cursor.key());
    absl::StatusOr<v1::BackupRecord> record =
        meta.ok() ? DecodeRecord(cursor.key(), *meta) : meta.status();
    totals.original_bytes += record.ok() ? record->size() : 0;
    VMSCAN_ASSIGN_OR_RETURN(found, cursor.Move(MDB_NEXT));
  }
  return totals;
}

absl::Status LmdbBackupStore::RemoveRecord(MdbTxn& txn, absl::string_view id,
                                           BackupTotals& totals) {
  uint64_t original = 0;
  uint64_t stored = 0;
  bool any = false;
  if (absl::StatusOr<absl::string_view> meta = txn.Get(meta_dbi_, id); meta.ok()) {
    any = true;
    absl::StatusOr<v1::BackupRecord> record = DecodeRecord(id, *meta);
    if (record.ok()) original = record->size();
    if (record.ok() && HasPendingRestore(*record)) {
      absl::Status gone = txn.Del(pending_dbi_, PendingKey(record->vm().id(), id));
      if (!gone.ok() && !absl::IsNotFound(gone)) return gone;
    }
    VMSCAN_RETURN_IF_ERROR(txn.Del(meta_dbi_, id));
  } else if (!absl::IsNotFound(meta.status())) {
    return meta.status();
  }
  if (absl::StatusOr<absl::string_view> content = txn.Get(content_dbi_, id); content.ok()) {
    any = true;
    stored = content->size();
    if (original == 0) {  // metadata damaged or gone: the frame header still knows the size.
      original = ZstdFrameContentSize(UnmaskContent(content->substr(0, 32))).value_or(0);
    }
    VMSCAN_RETURN_IF_ERROR(txn.Del(content_dbi_, id));
  } else if (!absl::IsNotFound(content.status())) {
    return content.status();
  }
  if (!any) return NoRecord(id);
  totals.records -= std::min<uint64_t>(totals.records, 1);
  totals.original_bytes -= std::min(totals.original_bytes, original);
  totals.stored_bytes -= std::min(totals.stored_bytes, stored);
  return absl::OkStatus();
}

absl::StatusOr<std::string> LmdbBackupStore::Put(v1::BackupRecord meta,
                                                 absl::string_view original) {
  meta.clear_damage();
  meta.set_size(original.size());
  meta.set_sha256(Sha256Hex(original));
  VMSCAN_ASSIGN_OR_RETURN(std::string stored, ZstdCompress(original, options_.compression_level));
  MaskContent(stored);
  meta.set_stored_size(stored.size());

  std::string id;
  VMSCAN_RETURN_IF_ERROR(env_->Write([&](MdbTxn& txn) -> absl::Status {
    // The id is chosen inside the write transaction, which LMDB serializes, so ids are strictly
    // increasing in commit order even when the clock repeats a value or steps back.
    int64_t micros = std::max<int64_t>(NowMicros(), 0);
    {
      VMSCAN_ASSIGN_OR_RETURN(MdbCursor cursor, MdbCursor::Open(txn, meta_dbi_));
      VMSCAN_ASSIGN_OR_RETURN(bool found, cursor.Move(MDB_LAST));
      if (found) {
        absl::StatusOr<int64_t> newest = ParseBackupId(cursor.key());
        if (newest.ok()) micros = std::max(micros, *newest + 1);
      }
    }
    id = FormatBackupId(micros, NextSuffix());
    meta.set_id(id);
    meta.set_created_unix_micros(micros);
    VMSCAN_ASSIGN_OR_RETURN(BackupTotals totals, ReadTotals(txn));
    VMSCAN_RETURN_IF_ERROR(txn.Put(meta_dbi_, id, EncodeMetadata(meta), MDB_NOOVERWRITE));
    VMSCAN_RETURN_IF_ERROR(txn.Put(content_dbi_, id, stored, MDB_NOOVERWRITE));
    totals.records += 1;
    totals.original_bytes += original.size();
    totals.stored_bytes += stored.size();
    return txn.Put(info_dbi_, kTotalsKey, EncodeTotals(totals));
  }));

  // The record is durable now; a retention failure must not make the caller think otherwise.
  if (absl::StatusOr<uint64_t> removed = RetentionPass(id); !removed.ok()) {
    VMSCAN_LOG(WARNING) << "backup store " << options_.dir
                        << ": retention after put failed: " << removed.status();
  }
  return id;
}

absl::StatusOr<v1::BackupRecord> LmdbBackupStore::Get(absl::string_view id) {
  VMSCAN_RETURN_IF_ERROR(ParseBackupId(id).status());
  v1::BackupRecord record;
  VMSCAN_RETURN_IF_ERROR(env_->Read([&](const MdbTxn& txn) -> absl::Status {
    absl::StatusOr<absl::string_view> value = txn.Get(meta_dbi_, id);
    if (absl::IsNotFound(value.status())) return NoRecord(id);
    VMSCAN_RETURN_IF_ERROR(value.status());
    absl::StatusOr<v1::BackupRecord> decoded = DecodeRecord(id, *value);
    if (!decoded.ok()) return ForRecord(id, decoded.status());
    record = *std::move(decoded);
    return absl::OkStatus();
  }));
  return record;
}

absl::StatusOr<std::string> LmdbBackupStore::GetOriginal(absl::string_view id) {
  VMSCAN_ASSIGN_OR_RETURN(v1::BackupRecord record, Get(id));
  std::string frame;
  VMSCAN_RETURN_IF_ERROR(env_->Read([&](const MdbTxn& txn) -> absl::Status {
    absl::StatusOr<absl::string_view> value = txn.Get(content_dbi_, id);
    if (absl::IsNotFound(value.status())) {
      return absl::DataLossError(absl::StrCat("backup record ", id, ": original is missing"));
    }
    VMSCAN_RETURN_IF_ERROR(value.status());
    frame = UnmaskContent(*value);  // copy out, so decompression runs outside the transaction.
    return absl::OkStatus();
  }));
  absl::StatusOr<std::string> original = ZstdDecompress(frame, record.size());
  if (!original.ok()) {
    if (absl::IsResourceExhausted(original.status())) return original.status();
    return absl::DataLossError(absl::StrCat(
        "backup record ", id, ": stored original is damaged: ", original.status().message()));
  }
  std::string sha256 = Sha256Hex(*original);
  if (sha256 != record.sha256()) {
    return absl::DataLossError(absl::StrCat("backup record ", id, ": original has SHA-256 ", sha256,
                                            ", recorded ", record.sha256()));
  }
  return original;
}

absl::StatusOr<std::vector<v1::BackupRecord>> LmdbBackupStore::List(
    const v1::BackupFilter& filter) {
  const size_t limit = filter.limit() == 0 ? kDefaultListLimit : filter.limit();
  // A damaged record belongs to no known VM and has no known threats or action.
  const bool show_damaged = filter.vm_id().empty() && filter.threat().empty() &&
                            filter.action() == v1::ACTION_UNSPECIFIED;
  std::vector<v1::BackupRecord> out;
  size_t damaged = 0;
  VMSCAN_RETURN_IF_ERROR(env_->Read([&](const MdbTxn& txn) -> absl::Status {
    out.clear();
    damaged = 0;
    VMSCAN_ASSIGN_OR_RETURN(MdbCursor cursor, MdbCursor::Open(txn, meta_dbi_));
    bool found = false;
    if (filter.until_unix_micros() > 0) {
      VMSCAN_ASSIGN_OR_RETURN(
          found, cursor.Move(MDB_SET_RANGE, BackupIdLowerBound(filter.until_unix_micros())));
      VMSCAN_ASSIGN_OR_RETURN(found, cursor.Move(found ? MDB_PREV : MDB_LAST));
    } else {
      VMSCAN_ASSIGN_OR_RETURN(found, cursor.Move(MDB_LAST));
    }
    while (found && out.size() < limit) {
      absl::StatusOr<int64_t> micros = ParseBackupId(cursor.key());
      if (micros.ok() && *micros < filter.since_unix_micros()) break;
      if (micros.ok()) {
        absl::StatusOr<v1::BackupRecord> record = DecodeRecord(cursor.key(), cursor.value());
        if (record.ok()) {
          if (Matches(*record, filter)) out.push_back(*std::move(record));
        } else {
          ++damaged;
          if (show_damaged) {
            v1::BackupRecord& stub = out.emplace_back();
            stub.set_id(std::string(cursor.key()));
            stub.set_created_unix_micros(*micros);
            absl::StatusOr<absl::string_view> content = txn.Get(content_dbi_, cursor.key());
            if (content.ok()) stub.set_stored_size(content->size());
            stub.set_damage(std::string(record.status().message()));
          }
        }
      }
      VMSCAN_ASSIGN_OR_RETURN(found, cursor.Move(MDB_PREV));
    }
    return absl::OkStatus();
  }));
  if (damaged > 0) {
    VMSCAN_LOG(WARNING) << "backup store " << options_.dir << ": " << damaged
                        << " record(s) with damaged metadata met while listing";
  }
  return out;
}

absl::Status LmdbBackupStore::Delete(absl::string_view id) {
  VMSCAN_RETURN_IF_ERROR(ParseBackupId(id).status());
  return env_->Write([&](MdbTxn& txn) -> absl::Status {
    VMSCAN_ASSIGN_OR_RETURN(BackupTotals totals, ReadTotals(txn));
    VMSCAN_RETURN_IF_ERROR(RemoveRecord(txn, id, totals));
    return txn.Put(info_dbi_, kTotalsKey, EncodeTotals(totals));
  });
}

absl::StatusOr<v1::BackupRecord> LmdbBackupStore::UpdateRestores(
    absl::string_view id,
    const std::function<absl::Status(google::protobuf::RepeatedPtrField<v1::RestoreEvent>*)>&
        update) {
  VMSCAN_RETURN_IF_ERROR(ParseBackupId(id).status());
  v1::BackupRecord record;
  VMSCAN_RETURN_IF_ERROR(env_->Write([&](MdbTxn& txn) -> absl::Status {
    absl::StatusOr<absl::string_view> value = txn.Get(meta_dbi_, id);
    if (absl::IsNotFound(value.status())) return NoRecord(id);
    VMSCAN_RETURN_IF_ERROR(value.status());
    absl::StatusOr<v1::BackupRecord> decoded = DecodeRecord(id, *value);
    if (!decoded.ok()) return ForRecord(id, decoded.status());
    record = *std::move(decoded);
    const bool was_pending = HasPendingRestore(record);
    VMSCAN_RETURN_IF_ERROR(update(record.mutable_restores()));
    VMSCAN_RETURN_IF_ERROR(txn.Put(meta_dbi_, id, EncodeMetadata(record)));
    const std::string key = PendingKey(record.vm().id(), id);
    if (HasPendingRestore(record)) {
      if (!was_pending) VMSCAN_RETURN_IF_ERROR(txn.Put(pending_dbi_, key, ""));
    } else if (was_pending) {
      absl::Status gone = txn.Del(pending_dbi_, key);
      if (!gone.ok() && !absl::IsNotFound(gone)) return gone;
    }
    return absl::OkStatus();
  }));
  return record;
}

absl::StatusOr<std::vector<std::string>> LmdbBackupStore::PendingRestores(absl::string_view vm_id) {
  std::vector<std::string> ids;
  const std::string prefix = PendingKey(vm_id, "");
  VMSCAN_RETURN_IF_ERROR(env_->Read([&](const MdbTxn& txn) -> absl::Status {
    ids.clear();
    VMSCAN_ASSIGN_OR_RETURN(MdbCursor cursor, MdbCursor::Open(txn, pending_dbi_));
    VMSCAN_ASSIGN_OR_RETURN(bool found, cursor.Move(MDB_SET_RANGE, prefix));
    while (found && absl::StartsWith(cursor.key(), prefix)) {
      ids.emplace_back(cursor.key().substr(prefix.size()));
      VMSCAN_ASSIGN_OR_RETURN(found, cursor.Move(MDB_NEXT));
    }
    return absl::OkStatus();
  }));
  return ids;
}

absl::StatusOr<uint64_t> LmdbBackupStore::RunSweep(const Sweep& sweep) {
  uint64_t removed_total = 0;
  while (true) {
    size_t removed = 0;
    VMSCAN_RETURN_IF_ERROR(env_->Write([&](MdbTxn& txn) -> absl::Status {
      removed = 0;
      VMSCAN_ASSIGN_OR_RETURN(BackupTotals totals, ReadTotals(txn));
      std::vector<std::string> victims;
      {
        VMSCAN_ASSIGN_OR_RETURN(MdbCursor cursor, MdbCursor::Open(txn, meta_dbi_));
        std::string newest;
        VMSCAN_ASSIGN_OR_RETURN(bool found, cursor.Move(MDB_LAST));
        if (found) newest = std::string(cursor.key());
        uint64_t stored = totals.stored_bytes;
        VMSCAN_ASSIGN_OR_RETURN(found, cursor.Move(MDB_FIRST));
        while (found && victims.size() < kSweepBatch) {
          absl::string_view id = cursor.key();
          if (id == sweep.keep_id) break;
          // A key that is not an id was not written by this store; leave it alone.
          if (absl::StatusOr<int64_t> micros = ParseBackupId(id); micros.ok()) {
            const bool expired = *micros < sweep.remove_before_micros;
            const bool over = sweep.max_stored_bytes > 0 && stored > sweep.max_stored_bytes &&
                              !(sweep.keep_newest && id == newest);
            if (!expired && !over) break;  // oldest first: everything after this stays too.
            absl::StatusOr<absl::string_view> content = txn.Get(content_dbi_, id);
            stored -= std::min<uint64_t>(stored, content.ok() ? content->size() : 0);
            victims.emplace_back(id);
          }
          VMSCAN_ASSIGN_OR_RETURN(found, cursor.Move(MDB_NEXT));
        }
      }
      for (const std::string& id : victims) {
        VMSCAN_RETURN_IF_ERROR(RemoveRecord(txn, id, totals));
      }
      removed = victims.size();
      if (removed == 0) return absl::OkStatus();
      return txn.Put(info_dbi_, kTotalsKey, EncodeTotals(totals));
    }));
    removed_total += removed;
    if (removed < kSweepBatch) return removed_total;
  }
}

absl::StatusOr<uint64_t> LmdbBackupStore::RetentionPass(absl::string_view keep_id) {
  Sweep sweep;
  sweep.remove_before_micros = std::numeric_limits<int64_t>::min();
  if (options_.max_age > absl::ZeroDuration() && options_.max_age != absl::InfiniteDuration()) {
    sweep.remove_before_micros = NowMicros() - absl::ToInt64Microseconds(options_.max_age);
  }
  sweep.max_stored_bytes = options_.max_total_bytes;
  sweep.keep_newest = true;
  sweep.keep_id = std::string(keep_id);
  VMSCAN_ASSIGN_OR_RETURN(uint64_t removed, RunSweep(sweep));
  if (removed > 0) {
    VMSCAN_LOG(INFO) << "backup store " << options_.dir << ": retention removed " << removed
                     << " record(s)";
  }
  return removed;
}

absl::StatusOr<uint64_t> LmdbBackupStore::EnforceRetention() { return RetentionPass(""); }

absl::StatusOr<uint64_t> LmdbBackupStore::Purge(absl::Duration older_than) {
  Sweep sweep;
  sweep.remove_before_micros = older_than <= absl::ZeroDuration()
                                   ? std::numeric_limits<int64_t>::max()
                                   : NowMicros() - absl::ToInt64Microseconds(older_than);
  sweep.max_stored_bytes = 0;
  sweep.keep_newest = false;
  VMSCAN_ASSIGN_OR_RETURN(uint64_t removed, RunSweep(sweep));
  VMSCAN_LOG(INFO) << "backup store " << options_.dir << ": purge removed " << removed
                   << " record(s)";
  return removed;
}

absl::StatusOr<v1::BackupStats> LmdbBackupStore::Stats() {
  v1::BackupStats stats;
  VMSCAN_RETURN_IF_ERROR(env_->Read([&](const MdbTxn& txn) -> absl::Status {
    VMSCAN_ASSIGN_OR_RETURN(BackupTotals totals, ReadTotals(txn));
    stats.set_records(totals.records);
    stats.set_original_bytes(totals.original_bytes);
    stats.set_stored_bytes(totals.stored_bytes);
    VMSCAN_ASSIGN_OR_RETURN(MdbCursor cursor, MdbCursor::Open(txn, meta_dbi_));
    VMSCAN_ASSIGN_OR_RETURN(bool found, cursor.Move(MDB_FIRST));
    if (found) stats.set_oldest_unix_micros(ParseBackupId(cursor.key()).value_or(0));
    VMSCAN_ASSIGN_OR_RETURN(found, cursor.Move(MDB_LAST));
    if (found) stats.set_newest_unix_micros(ParseBackupId(cursor.key()).value_or(0));
    stats.set_map_bytes(env_->MapBytes());
    return absl::OkStatus();
  }));
  return stats;
}

}  // namespace vmscan
