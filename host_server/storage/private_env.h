// PrivateEnv: an LMDB environment in a directory of its own, private to the server's user, whose
// memory map grows on demand. The one start-up sequence and the one map-growth loop of every
// LMDB store of the SVM (Backup, control plane).
//
//   PrivateEnvOptions options;
//   options.what = "backup store";  // names the store in errors and logs
//   options.dir = state_dir + "/backup";
//   options.max_dbs = 3;
//   VMSCAN_ASSIGN_OR_RETURN(std::unique_ptr<PrivateEnv> env, PrivateEnv::Open(options));
//   VMSCAN_RETURN_IF_ERROR(env->Write([&](MdbTxn& txn) { return txn.Put(dbi, key, value); }));
//
// Open creates the directory (MakePrivateDir, mode 0700), claims it against a second open in
// this process (DirClaim), opens the environment with MDB_NOTLS (reader slots tied to
// transactions, not to the server's many threads) and the map rounded up to whole pages, and
// clears reader slots left by dead processes.
//
// Space: the map starts at `initial_map_bytes` and doubles whenever a write finds it full, up to
// `max_map_bytes`; beyond that the write fails with ResourceExhausted and writes nothing. When
// another process grew the file (MDB_MAP_RESIZED), its size is adopted and the transaction runs
// again. The file never shrinks: LMDB reuses the pages that deletions free.
//
// Thread-safety: every method may be called concurrently. Transactions run under the shared side
// of a reader/writer mutex; growing the map takes its exclusive side, because LMDB allows
// changing the map size only while this process has no transaction open. So a caller must not
// hold a transaction of its own while it calls Write, Read or WithMapGrowth.
#ifndef VMSCAN_HOST_SERVER_STORAGE_PRIVATE_ENV_H_
#define VMSCAN_HOST_SERVER_STORAGE_PRIVATE_ENV_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "host_server/storage/dir_claim.h"
#include "host_server/storage/lmdb_env.h"

namespace vmscan {

struct PrivateEnvOptions {
  std::string what;  // e.g. "backup store": starts every error and log line
  std::string dir;
  uint64_t initial_map_bytes = uint64_t{64} << 20;  // rounded up to whole pages
  uint64_t max_map_bytes = uint64_t{16} << 30;      // ceiling for automatic growth
  unsigned int max_dbs = 1;                         // named databases the store opens
};

class PrivateEnv {
 public:
  // InvalidArgument for an empty dir or initial_map_bytes outside (0, max_map_bytes];
  // FailedPrecondition if the directory is already open in this process; LMDB's and the file
  // system's errors otherwise, naming `what` and the directory.
  static absl::StatusOr<std::unique_ptr<PrivateEnv>> Open(const PrivateEnvOptions& options);

  ~PrivateEnv() = default;
  PrivateEnv(const PrivateEnv&) = delete;
  PrivateEnv& operator=(const PrivateEnv&) = delete;

  MDB_env* env() const { return env_.get(); }

  // Runs `attempt`, which begins a write transaction of its own and commits or aborts it. When
  // it fails with MDB_MAP_FULL the map grows, with MDB_MAP_RESIZED the new size is adopted, and
  // `attempt` runs again from scratch; anything else it returns is the result.
  absl::Status WithMapGrowth(absl::FunctionRef<absl::Status()> attempt);
  // Begins a write transaction, runs `body` in it and commits it, through WithMapGrowth: `body`
  // must start from scratch every time it is called.
  absl::Status Write(absl::FunctionRef<absl::Status(MdbTxn&)> body);
  // Runs `body` in a read transaction (again once if another process resized the map).
  absl::Status Read(absl::FunctionRef<absl::Status(const MdbTxn&)> body) const;

  uint64_t MapBytes() const;

 private:
  PrivateEnv(const PrivateEnvOptions& options, std::unique_ptr<DirClaim> claim, MdbEnvPtr env)
      : options_(options), claim_(std::move(claim)), env_(std::move(env)) {}

  // Doubles the map unless someone already grew it past `seen_map_bytes`; with `adopt`, takes
  // over a size set by another process instead.
  absl::Status GrowMap(uint64_t seen_map_bytes, bool adopt) const;

  const PrivateEnvOptions options_;
  const std::unique_ptr<DirClaim> claim_;  // released after env_ is closed
  const MdbEnvPtr env_;
  // Shared by every transaction, exclusive while the map size changes.
  mutable absl::Mutex map_mu_;
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_STORAGE_PRIVATE_ENV_H_
