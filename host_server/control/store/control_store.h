// ControlStore: the key-value store behind the control plane (groups, policies, VM inventory).
//
// Shaped after etcd's v3 API so that a multi-host deployment can put etcd behind the same
// interface without touching callers: a flat, ordered key space; every key carries the store
// revision of its last change (mod_revision); writes are transactions that apply all of their
// operations, or none when one of their comparisons fails; watchers hear about every committed
// change under a prefix, whoever wrote it.
//
//   VMSCAN_ASSIGN_OR_RETURN(std::vector<KeyValue> groups, store->List("groups/"));
//   TxnResult r = store->Commit({Compare::ModRevision("policies/g1", kv.mod_revision)},
//                               {Op::Put("policies/g1", bytes), Op::Put("history/g1/7", bytes)});
//   if (!r.ok) ... someone else changed policies/g1 first: re-read and retry ...
//
// The embedded implementation is LmdbControlStore (lmdb_control_store.h).
// Thread-safe: every method may be called from any thread.
#ifndef VMSCAN_HOST_SERVER_CONTROL_STORE_CONTROL_STORE_H_
#define VMSCAN_HOST_SERVER_CONTROL_STORE_CONTROL_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace vmscan {

struct KeyValue {
  std::string key;
  std::string value;
  int64_t mod_revision = 0;  // store revision of the key's last Put; > 0.
};

// A condition of a transaction on one key's mod_revision. 0 means "the key does not exist".
struct Compare {
  static Compare ModRevision(std::string key, int64_t mod_revision) {
    return Compare{std::move(key), mod_revision};
  }
  std::string key;
  int64_t mod_revision = 0;
};

struct Op {
  enum class Kind { kPut, kDelete, kDeletePrefix };
  static Op Put(std::string key, std::string value) {
    return Op{Kind::kPut, std::move(key), std::move(value)};
  }
  static Op Delete(std::string key) { return Op{Kind::kDelete, std::move(key), ""}; }
  static Op DeletePrefix(std::string prefix) {
    return Op{Kind::kDeletePrefix, std::move(prefix), ""};
  }
  Kind kind;
  std::string key;  // the prefix for kDeletePrefix.
  std::string value;
};

struct TxnResult {
  bool ok = false;       // false: a comparison failed and nothing was written.
  int64_t revision = 0;  // the store revision after the transaction (unchanged when !ok).
};

// One committed change as a watcher sees it.
struct WatchEvent {
  enum class Kind { kPut, kDelete };
  Kind kind;
  std::string key;
  std::string value;  // empty for kDelete.
  int64_t revision = 0;
};

class ControlStore {
 public:
  virtual ~ControlStore() = default;

  // The key's value, or nullopt when it does not exist.
  virtual absl::StatusOr<std::optional<KeyValue>> Get(absl::string_view key) const = 0;

  // Every key starting with `prefix`, in key order ("" = all keys).
  virtual absl::StatusOr<std::vector<KeyValue>> List(absl::string_view prefix) const = 0;

  // The current store revision: increases by one with every successful transaction that wrote.
  virtual absl::StatusOr<int64_t> Revision() const = 0;

  // Atomically: when every comparison holds, applies every operation in order and durably
  // (committed before it returns); otherwise writes nothing and returns ok = false. An error
  // status means the store failed (I/O, full); nothing was written then either.
  virtual absl::StatusOr<TxnResult> Commit(absl::Span<const Compare> compares,
                                           absl::Span<const Op> ops) = 0;

  // Calls `callback` with the events of every transaction committed after Watch returns whose
  // keys start with `prefix`, one call per transaction, in revision order, never concurrently
  // for one watch. The callback must not call Watch or destroy the handle. Destroying the
  // returned handle ends the watch (it waits for a callback in progress).
  class WatchHandle {
   public:
    virtual ~WatchHandle() = default;
  };
  using WatchCallback = std::function<void(const std::vector<WatchEvent>&)>;
  virtual std::unique_ptr<WatchHandle> Watch(absl::string_view prefix, WatchCallback callback) = 0;
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_CONTROL_STORE_CONTROL_STORE_H_
