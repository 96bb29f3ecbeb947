#include "host_server/control/store/lmdb_control_store.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace vmscan {
namespace {

constexpr char kKvDbName[] = "kv";
constexpr char kMetaDbName[] = "meta";
constexpr char kRevisionKey[] = "revision";
constexpr char kFormatKey[] = "format";
constexpr char kFormat[] = "1";
constexpr size_t kRevisionBytes = 8;

std::string EncodeRevision(int64_t revision) {
  std::string out(kRevisionBytes, '\0');
  const uint64_t r = static_cast<uint64_t>(revision);
  for (size_t i = 0; i < kRevisionBytes; ++i) {
    out[i] = static_cast<char>((r >> (8 * (kRevisionBytes - 1 - i))) & 0xff);
  }
  return out;
}

absl::StatusOr<int64_t> DecodeRevision(absl::string_view bytes, absl::string_view what) {
  if (bytes.size() < kRevisionBytes) {
    return absl::DataLossError(
        absl::StrCat("control store: ", what, " is truncated (", bytes.size(), " bytes)"));
  }
  uint64_t r = 0;
  for (size_t i = 0; i < kRevisionBytes; ++i) r = (r << 8) | static_cast<uint8_t>(bytes[i]);
  return static_cast<int64_t>(r);
}

absl::StatusOr<KeyValue> DecodeKeyValue(absl::string_view key, absl::string_view stored) {
  VMSCAN_ASSIGN_OR_RETURN(int64_t mod_revision,
                          DecodeRevision(stored, absl::StrCat("value of \"", key, "\"")));
  return KeyValue{std::string(key), std::string(stored.substr(kRevisionBytes)), mod_revision};
}

absl::Status CheckKey(absl::string_view key, absl::string_view what) {
  if (key.empty()) return absl::InvalidArgumentError(absl::StrCat("control store: empty ", what));
  if (key.size() > LmdbControlStore::kMaxKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat("control store: ", what, " of ", key.size(),
                                                   " bytes; at most ",
                                                   LmdbControlStore::kMaxKeyBytes, " allowed"));
  }
  return absl::OkStatus();
}

// The mod_revision of `key`, 0 if absent.
absl::StatusOr<int64_t> ModRevisionOf(const MdbTxn& txn, MDB_dbi dbi, absl::string_view key) {
  absl::StatusOr<absl::string_view> stored = txn.Get(dbi, key);
  if (absl::IsNotFound(stored.status())) return 0;
  if (!stored.ok()) return stored.status();
  return DecodeRevision(*stored, absl::StrCat("value of \"", key, "\""));
}

absl::StatusOr<int64_t> ReadRevision(const MdbTxn& txn, MDB_dbi meta_dbi) {
  absl::StatusOr<absl::string_view> stored = txn.Get(meta_dbi, kRevisionKey);
  if (absl::IsNotFound(stored.status())) return 0;
  if (!stored.ok()) return stored.status();
  return DecodeRevision(*stored, "store revision");
}

}  // namespace

struct LmdbControlStore::Watcher {
  Watcher(std::string prefix, WatchCallback callback, int64_t start_revision)
      : prefix(std::move(prefix)), start_revision(start_revision), callback(std::move(callback)) {}

  const std::string prefix;
  const int64_t start_revision;  // only later transactions are delivered.
  absl::Mutex mu;                // held while the callback runs.
  bool active ABSL_GUARDED_BY(mu) = true;
  WatchCallback callback ABSL_GUARDED_BY(mu);
};

// Shared with the handles, so that a handle may outlive the store.
struct LmdbControlStore::WatchRegistry {
  absl::Mutex mu;
  uint64_t next_id ABSL_GUARDED_BY(mu) = 0;
  std::map<uint64_t, std::shared_ptr<Watcher>> watchers ABSL_GUARDED_BY(mu);
};

class LmdbControlStore::Handle final : public WatchHandle {
 public:
  Handle(std::shared_ptr<WatchRegistry> registry, uint64_t id, std::shared_ptr<Watcher> watcher)
      : registry_(std::move(registry)), id_(id), watcher_(std::move(watcher)) {}

  ~Handle() override {
    {
      absl::MutexLock lock(&registry_->mu);
      registry_->watchers.erase(id_);
    }
    // Waits for a callback in progress; a delivery that already picked this watcher skips it.
    absl::MutexLock lock(&watcher_->mu);
    watcher_->active = false;
    watcher_->callback = nullptr;  // releases what the callback captured, now.
  }

 private:
  const std::shared_ptr<WatchRegistry> registry_;
  const uint64_t id_;
  const std::shared_ptr<Watcher> watcher_;
};

absl::StatusOr<std::unique_ptr<LmdbControlStore>> LmdbControlStore::Open(
    const LmdbControlStoreOptions& options) {
  const PrivateEnvOptions env_options = {"control store", options.dir, options.map_size,
                                         options.max_map_size, /*max_dbs=*/2};
  VMSCAN_ASSIGN_OR_RETURN(std::unique_ptr<PrivateEnv> env, PrivateEnv::Open(env_options));
  if (const int max_key = mdb_env_get_maxkeysize(env->env());
      max_key < static_cast<int>(kMaxKeyBytes)) {
    return absl::FailedPreconditionError(
        absl::StrCat("control store: this LMDB allows keys of only ", max_key, " bytes"));
  }
  std::unique_ptr<LmdbControlStore> store(new LmdbControlStore(options, std::move(env)));
  VMSCAN_RETURN_IF_ERROR(store->Init());
  return store;
}

LmdbControlStore::LmdbControlStore(const LmdbControlStoreOptions& options,
                                   std::unique_ptr<PrivateEnv> env)
    : options_(options), env_(std::move(env)), watches_(std::make_shared<WatchRegistry>()) {}

LmdbControlStore::~LmdbControlStore() = default;

absl::Status LmdbControlStore::Init() {
  VMSCAN_ASSIGN_OR_RETURN(MdbTxn txn, MdbTxn::Begin(env_->env(), 0));
  VMSCAN_RETURN_IF_ERROR(
      LmdbStatus(mdb_dbi_open(txn.get(), kKvDbName, MDB_CREATE, &kv_dbi_), "open kv db"));
  VMSCAN_RETURN_IF_ERROR(
      LmdbStatus(mdb_dbi_open(txn.get(), kMetaDbName, MDB_CREATE, &meta_dbi_), "open meta db"));
  absl::StatusOr<absl::string_view> format = txn.Get(meta_dbi_, kFormatKey);
  if (absl::IsNotFound(format.status())) {
    VMSCAN_RETURN_IF_ERROR(txn.Put(meta_dbi_, kFormatKey, kFormat));
  } else if (!format.ok()) {
    return format.status();
  } else if (*format != kFormat) {
    return absl::FailedPreconditionError(
        absl::StrCat("control store ", options_.dir, ": unknown format \"", *format, "\""));
  }
  VMSCAN_ASSIGN_OR_RETURN(int64_t revision, ReadRevision(txn, meta_dbi_));
  VMSCAN_RETURN_IF_ERROR(txn.Commit());
  {
    absl::MutexLock lock(&commit_mu_);
    revision_ = revision;
  }
  {
    absl::MutexLock lock(&deliver_mu_);
    delivered_revision_ = revision;
  }
  VMSCAN_LOG(INFO) << "control store " << options_.dir << ": revision " << revision << ", map "
                   << env_->MapBytes() << " bytes";
  return absl::OkStatus();
}

absl::StatusOr<std::optional<KeyValue>> LmdbControlStore::Get(absl::string_view key) const {
  VMSCAN_RETURN_IF_ERROR(CheckKey(key, "key"));
  std::optional<KeyValue> result;
  VMSCAN_RETURN_IF_ERROR(env_->Read([&](const MdbTxn& txn) -> absl::Status {
    result.reset();
    absl::StatusOr<absl::string_view> stored = txn.Get(kv_dbi_, key);
    if (absl::IsNotFound(stored.status())) return absl::OkStatus();
    if (!stored.ok()) return stored.status();
    VMSCAN_ASSIGN_OR_RETURN(result, DecodeKeyValue(key, *stored));
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<std::vector<KeyValue>> LmdbControlStore::List(absl::string_view prefix) const {
  std::vector<KeyValue> result;
  if (prefix.size() > kMaxKeyBytes) return result;  // no key can be that long.
  VMSCAN_RETURN_IF_ERROR(env_->Read([&](const MdbTxn& txn) -> absl::Status {
    result.clear();
    VMSCAN_ASSIGN_OR_RETURN(MdbCursor cursor, MdbCursor::Open(txn, kv_dbi_));
    // LMDB refuses an empty seek key.
    VMSCAN_ASSIGN_OR_RETURN(
        bool found, prefix.empty() ? cursor.Move(MDB_FIRST) : cursor.Move(MDB_SET_RANGE, prefix));
    while (found && absl::StartsWith(cursor.key(), prefix)) {
      VMSCAN_ASSIGN_OR_RETURN(KeyValue kv, DecodeKeyValue(cursor.key(), cursor.value()));
      result.push_back(std::move(kv));
      VMSCAN_ASSIGN_OR_RETURN(found, cursor.Move(MDB_NEXT));
    }
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<int64_t> LmdbControlStore::Revision() const {
  int64_t revision = 0;
  VMSCAN_RETURN_IF_ERROR(env_->Read([&](const MdbTxn& txn) -> absl::Status {
    VMSCAN_ASSIGN_OR_RETURN(revision, ReadRevision(txn, meta_dbi_));
    return absl::OkStatus();
  }));
  return revision;
}

absl::StatusOr<TxnResult> LmdbControlStore::Commit(absl::Span<const Compare> compares,
                                                   absl::Span<const Op> ops) {
  for (const Compare& compare : compares) {
    VMSCAN_RETURN_IF_ERROR(CheckKey(compare.key, "compare key"));
  }
  for (const Op& op : ops) {
    VMSCAN_RETURN_IF_ERROR(
        CheckKey(op.key, op.kind == Op::Kind::kDeletePrefix ? "delete prefix" : "key"));
  }
  TxnResult result;
  {
    absl::MutexLock lock(&commit_mu_);
    std::vector<WatchEvent> events;
    VMSCAN_RETURN_IF_ERROR(env_->WithMapGrowth(
        [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return TryCommit(compares, ops, result, events); }));
    if (events.empty()) return result;  // a failed comparison, or nothing to change.
    revision_ = result.revision;
    // Queued under commit_mu_, so that the queue is in revision order.
    absl::MutexLock deliver_lock(&deliver_mu_);
    pending_.push_back(Batch{result.revision, std::move(events)});
  }
  Deliver(result.revision);
  return result;
}

absl::Status LmdbControlStore::TryCommit(absl::Span<const Compare> compares,
                                         absl::Span<const Op> ops, TxnResult& result,
                                         std::vector<WatchEvent>& events) {
  result = TxnResult{};
  events.clear();
  VMSCAN_ASSIGN_OR_RETURN(MdbTxn txn, MdbTxn::Begin(env_->env(), 0));
  VMSCAN_ASSIGN_OR_RETURN(const int64_t current, ReadRevision(txn, meta_dbi_));
  result.revision = current;
  for (const Compare& compare : compares) {
    VMSCAN_ASSIGN_OR_RETURN(int64_t mod_revision, ModRevisionOf(txn, kv_dbi_, compare.key));
    if (mod_revision != compare.mod_revision) return absl::OkStatus();  // aborts: ok = false.
  }
  const int64_t next = current + 1;
  const std::string next_bytes = EncodeRevision(next);
  for (const Op& op : ops) {
    switch (op.kind) {
      case Op::Kind::kPut: {
        VMSCAN_RETURN_IF_ERROR(txn.Put(kv_dbi_, op.key, absl::StrCat(next_bytes, op.value)));
        events.push_back(WatchEvent{WatchEvent::Kind::kPut, op.key, op.value, next});
        break;
      }
      case Op::Kind::kDelete: {
        absl::Status deleted = txn.Del(kv_dbi_, op.key);
        if (absl::IsNotFound(deleted)) break;
        VMSCAN_RETURN_IF_ERROR(deleted);
        events.push_back(WatchEvent{WatchEvent::Kind::kDelete, op.key, "", next});
        break;
      }
      case Op::Kind::kDeletePrefix: {
        std::vector<std::string> keys;
        {
          VMSCAN_ASSIGN_OR_RETURN(MdbCursor cursor, MdbCursor::Open(txn, kv_dbi_));
          VMSCAN_ASSIGN_OR_RETURN(bool found, cursor.Move(MDB_SET_RANGE, op.key));
          while (found && absl::StartsWith(cursor.key(), op.key)) {
            keys.emplace_back(cursor.key());
            VMSCAN_ASSIGN_OR_RETURN(found, cursor.Move(MDB_NEXT));
          }
        }
        for (std::string& key : keys) {
          VMSCAN_RETURN_IF_ERROR(txn.Del(kv_dbi_, key));
          events.push_back(WatchEvent{WatchEvent::Kind::kDelete, std::move(key), "", next});
        }
        break;
      }
    }
  }
  result.ok = true;
  if (events.empty()) return absl::OkStatus();  // nothing changed: abort, revision unchanged.
  VMSCAN_RETURN_IF_ERROR(txn.Put(meta_dbi_, kRevisionKey, next_bytes));
  VMSCAN_RETURN_IF_ERROR(txn.Commit());
  result.revision = next;
  return absl::OkStatus();
}

std::unique_ptr<ControlStore::WatchHandle> LmdbControlStore::Watch(absl::string_view prefix,
                                                                   WatchCallback callback) {
  // Under commit_mu_: every transaction after `revision_` is delivered to this watcher, no
  // earlier one (even if its delivery is still queued).
  absl::MutexLock lock(&commit_mu_);
  auto watcher = std::make_shared<Watcher>(std::string(prefix), std::move(callback), revision_);
  absl::MutexLock registry_lock(&watches_->mu);
  const uint64_t id = watches_->next_id++;
  watches_->watchers.emplace(id, watcher);
  return std::make_unique<Handle>(watches_, id, std::move(watcher));
}

void LmdbControlStore::DeliverBatch(const Batch& batch) {
  std::vector<std::shared_ptr<Watcher>> watchers;
  {
    absl::MutexLock lock(&watches_->mu);
    for (const auto& [id, watcher] : watches_->watchers) watchers.push_back(watcher);
  }
  for (const std::shared_ptr<Watcher>& watcher : watchers) {
    if (batch.revision <= watcher->start_revision) continue;
    std::vector<WatchEvent> events;
    for (const WatchEvent& event : batch.events) {
      if (absl::StartsWith(event.key, watcher->prefix)) events.push_back(event);
    }
    if (events.empty()) continue;
    absl::MutexLock lock(&watcher->mu);
    if (watcher->active) watcher->callback(events);
  }
}

void LmdbControlStore::Deliver(int64_t revision) {
  absl::MutexLock lock(&deliver_mu_);
  if (delivering_) {
    // From inside a callback: the loop further up this thread's stack delivers it next.
    if (deliverer_ == std::this_thread::get_id()) return;
    // Another thread delivers until the queue is empty, so ours too.
    auto delivered = [this, revision]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(deliver_mu_) {
      return delivered_revision_ >= revision;
    };
    deliver_mu_.Await(absl::Condition(&delivered));
    return;
  }
  if (delivered_revision_ >= revision) return;  // an earlier deliverer already took ours.
  delivering_ = true;
  deliverer_ = std::this_thread::get_id();
  while (!pending_.empty()) {
    Batch batch = std::move(pending_.front());
    pending_.pop_front();
    // Callbacks run unlocked: they may Commit (which queues) and Watch.
    deliver_mu_.Unlock();
    DeliverBatch(batch);
    deliver_mu_.Lock();
    delivered_revision_ = batch.revision;
  }
  delivering_ = false;
  deliverer_ = std::thread::id();
}

}  // namespace vmscan
