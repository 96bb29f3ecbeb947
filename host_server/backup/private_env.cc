#include "host_server/backup/private_env.h"

#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace vmscan {

absl::StatusOr<PrivateEnv> OpenPrivateEnv(absl::string_view what, const std::string& dir,
                                          uint64_t map_bytes, unsigned int max_dbs) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::Status(absl::ErrnoToStatusCode(ec.value()),
                        absl::StrCat(what, ": create ", dir, ": ", ec.message()));
  }
  // Mail and policies are the server's business only.
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  if (ec) {
    return absl::Status(absl::ErrnoToStatusCode(ec.value()),
                        absl::StrCat(what, ": chmod ", dir, ": ", ec.message()));
  }
  PrivateEnv opened;
  VMSCAN_ASSIGN_OR_RETURN(opened.claim, DirClaim::Make(dir));

  MDB_env* raw_env = nullptr;
  VMSCAN_RETURN_IF_ERROR(LmdbStatus(mdb_env_create(&raw_env), absl::StrCat(what, ": create env")));
  opened.env.reset(raw_env);
  MDB_env* env = opened.env.get();
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const uint64_t initial = (map_bytes + page - 1) / page * page;
  VMSCAN_RETURN_IF_ERROR(LmdbStatus(mdb_env_set_mapsize(env, initial), "set map size"));
  VMSCAN_RETURN_IF_ERROR(LmdbStatus(mdb_env_set_maxdbs(env, max_dbs), "set max dbs"));
  // MDB_NOTLS ties reader slots to transactions instead of threads, so that a server with many
  // threads does not exhaust LMDB's 126 reader slots. It does not weaken durability.
  VMSCAN_RETURN_IF_ERROR(LmdbStatus(mdb_env_open(env, dir.c_str(), MDB_NOTLS, 0600),
                                    absl::StrCat(what, ": open ", dir)));
  int stale = 0;
  VMSCAN_RETURN_IF_ERROR(LmdbStatus(mdb_reader_check(env, &stale), "reader check"));
  if (stale > 0) {
    VMSCAN_LOG(WARNING) << what << " " << dir << ": cleared " << stale
                        << " reader slot(s) left by dead processes";
  }
  return opened;
}

}  // namespace vmscan
