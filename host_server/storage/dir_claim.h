// DirClaim: marks a directory as in use by this process, for as long as the claim lives.
//
// LMDB must not open one environment twice in a process: closing either handle drops the
// process's POSIX locks on the lock file, silently breaking the other's. PrivateEnv::Open claims
// its directory first, so that a second open fails cleanly instead. Directories are compared by
// device and inode, so another path to the same directory is caught too.
//
// Thread-safe. The registry behind it is the only process-wide state of host_server/storage.
#ifndef VMSCAN_HOST_SERVER_STORAGE_DIR_CLAIM_H_
#define VMSCAN_HOST_SERVER_STORAGE_DIR_CLAIM_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"

namespace vmscan {

class DirClaim {
 public:
  // FailedPrecondition if `dir` is already claimed in this process; `dir` must exist.
  static absl::StatusOr<std::unique_ptr<DirClaim>> Make(const std::string& dir);

  ~DirClaim();
  DirClaim(const DirClaim&) = delete;
  DirClaim& operator=(const DirClaim&) = delete;

 private:
  using Key = std::pair<dev_t, ino_t>;
  explicit DirClaim(Key key) : key_(key) {}
  const Key key_;
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_STORAGE_DIR_CLAIM_H_
