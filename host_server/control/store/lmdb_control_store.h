// LmdbControlStore: the embedded ControlStore, one LMDB environment in a directory of its own.
//
//   LmdbControlStoreOptions options;
//   options.dir = state_dir + "/control";
//   VMSCAN_ASSIGN_OR_RETURN(std::unique_ptr<LmdbControlStore> store,
//                           LmdbControlStore::Open(options));
//   std::unique_ptr<ControlStore::WatchHandle> watch = store->Watch("policies/", OnPolicies);
//
// Layout: database "kv" holds the keys, each value stored as [8-byte big-endian mod_revision]
// [payload]; database "meta" holds the store revision and the format version, out of List's
// sight. Keys are 1 to 511 bytes (LMDB's limit); others are refused with InvalidArgument.
//
// Ownership: open a directory once per process and share that object; a second Open of the same
// directory while the first lives fails with FailedPrecondition (see DirClaim). Other processes
// must not write to the directory while the server runs. Watch handles may outlive the store
// (they then simply hear nothing more).
//
// Durability: every Commit that writes is one LMDB write transaction, fsync'ed before Commit
// returns. A Commit whose comparisons hold but which changes nothing (no operations, deletes of
// absent keys) writes nothing and leaves the revision unchanged.
//
// Space: the memory map starts at `map_size` and doubles when a Commit finds it full, up to
// `max_map_size`; beyond that Commit fails with ResourceExhausted and writes nothing.
//
// Threads: every method may be called from any thread. Commits are serialized (LMDB has one
// writer anyway); reads run concurrently with them on their own snapshot.
//
// Watch delivery: callbacks run on a committing thread, after the LMDB commit, outside any LMDB
// transaction and outside the commit lock, one transaction at a time in revision order across
// the whole store (so never concurrently for one watch, nor for two). When Commit returns, every
// watcher has been called with that transaction's events -- except for a Commit made from inside
// a watch callback: its events are delivered right after the running callback returns, by the
// same thread. So a callback may call Get, List, Revision, Commit and Watch; it must not destroy
// its own handle, and it should be quick: it delays the Commit that delivers it. Destroying a
// handle (from any other thread) waits for its callback in progress, if any; after that the
// callback is never called again.
#ifndef VMSCAN_HOST_SERVER_CONTROL_STORE_LMDB_CONTROL_STORE_H_
#define VMSCAN_HOST_SERVER_CONTROL_STORE_LMDB_CONTROL_STORE_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "host_server/control/store/control_store.h"
#include "host_server/storage/lmdb_env.h"
#include "host_server/storage/private_env.h"

namespace vmscan {

struct LmdbControlStoreOptions {
  std::string dir;                             // created (mode 0700) if missing.
  uint64_t map_size = uint64_t{64} << 20;      // initial map, rounded up to whole pages.
  uint64_t max_map_size = uint64_t{16} << 30;  // ceiling for automatic growth.
};

class LmdbControlStore final : public ControlStore {
 public:
  // LMDB's maximum key size with its default build options.
  static constexpr size_t kMaxKeyBytes = 511;

  static absl::StatusOr<std::unique_ptr<LmdbControlStore>> Open(
      const LmdbControlStoreOptions& options);

  ~LmdbControlStore() override;
  LmdbControlStore(const LmdbControlStore&) = delete;
  LmdbControlStore& operator=(const LmdbControlStore&) = delete;

  absl::StatusOr<std::optional<KeyValue>> Get(absl::string_view key) const override;
  absl::StatusOr<std::vector<KeyValue>> List(absl::string_view prefix) const override;
  absl::StatusOr<int64_t> Revision() const override;
  absl::StatusOr<TxnResult> Commit(absl::Span<const Compare> compares,
                                   absl::Span<const Op> ops) override;
  std::unique_ptr<WatchHandle> Watch(absl::string_view prefix, WatchCallback callback) override;

 private:
  struct Watcher;
  struct WatchRegistry;
  class Handle;
  // The events of one committed transaction, waiting to be delivered.
  struct Batch {
    int64_t revision;
    std::vector<WatchEvent> events;
  };

  LmdbControlStore(const LmdbControlStoreOptions& options, std::unique_ptr<PrivateEnv> env);

  absl::Status Init();
  // One attempt at a transaction: checks, applies and commits, or aborts when nothing changes.
  // Commit runs it through PrivateEnv::WithMapGrowth, so it must start from scratch every time.
  absl::Status TryCommit(absl::Span<const Compare> compares, absl::Span<const Op> ops,
                         TxnResult& result, std::vector<WatchEvent>& events)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(commit_mu_);
  // Delivers the queued batches up to `revision` (and any queued meanwhile), unless this thread
  // is already delivering further up its stack; waits while another thread delivers them.
  void Deliver(int64_t revision) ABSL_LOCKS_EXCLUDED(deliver_mu_);
  // Calls every interested watcher with its part of `batch`.
  void DeliverBatch(const Batch& batch);

  const LmdbControlStoreOptions options_;
  // Order: commit_mu_ before env_'s own map lock (a Commit holds commit_mu_ while it writes).
  const std::unique_ptr<PrivateEnv> env_;
  // Set once by Init(), before the store is shared.
  MDB_dbi kv_dbi_ = 0;
  MDB_dbi meta_dbi_ = 0;

  // Serializes Commit and Watch registration, so that a watch starts at a well-defined revision.
  absl::Mutex commit_mu_;
  int64_t revision_ ABSL_GUARDED_BY(commit_mu_) = 0;  // mirror of the stored revision.

  const std::shared_ptr<WatchRegistry> watches_;

  // Delivery: batches in revision order, delivered by one thread at a time.
  absl::Mutex deliver_mu_;
  std::deque<Batch> pending_ ABSL_GUARDED_BY(deliver_mu_);
  bool delivering_ ABSL_GUARDED_BY(deliver_mu_) = false;
  std::thread::id deliverer_ ABSL_GUARDED_BY(deliver_mu_);
  int64_t delivered_revision_ ABSL_GUARDED_BY(deliver_mu_) = 0;
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_CONTROL_STORE_LMDB_CONTROL_STORE_H_
