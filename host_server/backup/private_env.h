// Opening an LMDB environment in a directory of its own, private to the server's user: the one
// start-up sequence of every LMDB store of the SVM (Backup, control plane).
//
//   VMSCAN_ASSIGN_OR_RETURN(PrivateEnv opened,
//                           OpenPrivateEnv("backup store", dir, initial_map_bytes, /*max_dbs=*/3));
//
// Creates the directory (mode 0700), claims it against a second open in this process (DirClaim),
// opens the environment with MDB_NOTLS (reader slots tied to transactions, not to the server's
// many threads) and the map rounded up to whole pages, and clears reader slots left by dead
// processes. Errors name `what` and the directory.
#ifndef VMSCAN_HOST_SERVER_BACKUP_PRIVATE_ENV_H_
#define VMSCAN_HOST_SERVER_BACKUP_PRIVATE_ENV_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "host_server/backup/dir_claim.h"
#include "host_server/backup/lmdb_env.h"

namespace vmscan {

struct PrivateEnv {
  std::unique_ptr<DirClaim> claim;  // held for as long as the environment is open
  MdbEnvPtr env;
};

absl::StatusOr<PrivateEnv> OpenPrivateEnv(absl::string_view what, const std::string& dir,
                                          uint64_t map_bytes, unsigned int max_dbs);

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_BACKUP_PRIVATE_ENV_H_
