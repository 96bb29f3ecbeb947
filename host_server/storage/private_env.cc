#include "host_server/storage/private_env.h"

#include <unistd.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "host_server/storage/private_dir.h"

namespace vmscan {
namespace {

// More attempts than any doubling from one page up to max_map_bytes needs.
constexpr int kMaxWriteAttempts = 64;

// `status` with "<what>: " in front, keeping its code (and LMDB payload).
absl::Status Prefixed(absl::string_view what, absl::Status status) {
  if (status.ok()) return status;
  absl::Status prefixed(status.code(), absl::StrCat(what, ": ", status.message()));
  status.ForEachPayload(
      [&](absl::string_view url, const absl::Cord& payload) { prefixed.SetPayload(url, payload); });
  return prefixed;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PrivateEnv>> PrivateEnv::Open(const PrivateEnvOptions& options) {
  const std::string& what = options.what;
  if (options.dir.empty()) return absl::InvalidArgumentError(absl::StrCat(what, ": no directory"));
  if (options.initial_map_bytes == 0 || options.max_map_bytes < options.initial_map_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": want 0 < initial map size <= maximum map size"));
  }
  // Mail and policies are the server's business only.
  VMSCAN_RETURN_IF_ERROR(Prefixed(what, MakePrivateDir(options.dir)));
  VMSCAN_ASSIGN_OR_RETURN(std::unique_ptr<DirClaim> claim, DirClaim::Make(options.dir));

  MDB_env* raw_env = nullptr;
  VMSCAN_RETURN_IF_ERROR(LmdbStatus(mdb_env_create(&raw_env), absl::StrCat(what, ": create env")));
  MdbEnvPtr env(raw_env);
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const uint64_t initial = (options.initial_map_bytes + page - 1) / page * page;
  VMSCAN_RETURN_IF_ERROR(LmdbStatus(mdb_env_set_mapsize(env.get(), initial), "set map size"));
  VMSCAN_RETURN_IF_ERROR(LmdbStatus(mdb_env_set_maxdbs(env.get(), options.max_dbs), "set max dbs"));
  // MDB_NOTLS ties reader slots to transactions instead of threads, so that a server with many
  // threads does not exhaust LMDB's 126 reader slots. It does not weaken durability.
  VMSCAN_RETURN_IF_ERROR(LmdbStatus(mdb_env_open(env.get(), options.dir.c_str(), MDB_NOTLS, 0600),
                                    absl::StrCat(what, ": open ", options.dir)));
  int stale = 0;
  VMSCAN_RETURN_IF_ERROR(LmdbStatus(mdb_reader_check(env.get(), &stale), "reader check"));
  if (stale > 0) {
    VMSCAN_LOG(WARNING) << what << " " << options.dir << ": cleared " << stale
                        << " reader slot(s) left by dead processes";
  }
  return std::unique_ptr<PrivateEnv>(new PrivateEnv(options, std::move(claim), std::move(env)));
}

uint64_t PrivateEnv::MapBytes() const {
  MDB_envinfo info;
  mdb_env_info(env_.get(), &info);
  return info.me_mapsize;
}

absl::Status PrivateEnv::WithMapGrowth(absl::FunctionRef<absl::Status()> attempt) {
  for (int i = 0; i < kMaxWriteAttempts; ++i) {
    uint64_t seen_map_bytes = 0;
    absl::Status status;
    {
      absl::ReaderMutexLock lock(&map_mu_);
      seen_map_bytes = MapBytes();
      status = attempt();
    }
    const std::optional<int> rc = LmdbErrorCode(status);
    if (rc != MDB_MAP_FULL && rc != MDB_MAP_RESIZED) return status;
    VMSCAN_RETURN_IF_ERROR(GrowMap(seen_map_bytes, /*adopt=*/rc == MDB_MAP_RESIZED));
  }
  return absl::ResourceExhaustedError(
      absl::StrCat(options_.what, ": map still full after repeated growth"));
}

absl::Status PrivateEnv::Write(absl::FunctionRef<absl::Status(MdbTxn&)> body) {
  return WithMapGrowth([&]() -> absl::Status {
    VMSCAN_ASSIGN_OR_RETURN(MdbTxn txn, MdbTxn::Begin(env_.get(), 0));
    VMSCAN_RETURN_IF_ERROR(body(txn));
    return txn.Commit();
  });
}

absl::Status PrivateEnv::Read(absl::FunctionRef<absl::Status(const MdbTxn&)> body) const {
  for (int attempt = 0; attempt < 2; ++attempt) {
    uint64_t seen_map_bytes = 0;
    absl::Status status;
    {
      absl::ReaderMutexLock lock(&map_mu_);
      seen_map_bytes = MapBytes();
      status = [&]() -> absl::Status {
        VMSCAN_ASSIGN_OR_RETURN(MdbTxn txn, MdbTxn::Begin(env_.get(), MDB_RDONLY));
        return body(txn);
      }();
    }
    if (LmdbErrorCode(status) != MDB_MAP_RESIZED) return status;
    VMSCAN_RETURN_IF_ERROR(GrowMap(seen_map_bytes, /*adopt=*/true));
  }
  return absl::UnavailableError(
      absl::StrCat(options_.what, ": map keeps being resized by another process"));
}

absl::Status PrivateEnv::GrowMap(uint64_t seen_map_bytes, bool adopt) const {
  absl::WriterMutexLock lock(&map_mu_);  // no transaction of this process is open now.
  if (adopt) return LmdbStatus(mdb_env_set_mapsize(env_.get(), 0), "adopt map size");
  const uint64_t current = MapBytes();
  if (current > seen_map_bytes) return absl::OkStatus();  // another writer grew it meanwhile.
  if (current >= options_.max_map_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(options_.what, " ", options_.dir,
                                                     " is full: map reached its maximum of ",
                                                     current, " bytes"));
  }
  const uint64_t grown = std::min(current * 2, options_.max_map_bytes);
  VMSCAN_RETURN_IF_ERROR(LmdbStatus(mdb_env_set_mapsize(env_.get(), grown), "grow map"));
  VMSCAN_LOG(INFO) << options_.what << " " << options_.dir << ": map grown from " << current
                   << " to " << MapBytes() << " bytes";
  return absl::OkStatus();
}

}  // namespace vmscan
