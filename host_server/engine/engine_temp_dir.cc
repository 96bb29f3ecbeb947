#include "host_server/engine/engine_temp_dir.h"

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/sha256.h"

namespace vmscan {
namespace {

bool IsTmpfs(const std::string& dir) {
  struct statfs fs;
  return ::statfs(dir.c_str(), &fs) == 0 && fs.f_type == TMPFS_MAGIC &&
         ::access(dir.c_str(), W_OK | X_OK) == 0;
}

// True when `dir` exists as a directory of ours that nobody else can enter, or was just created
// as one.
bool MakeOrCheckPrivateDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return false;
  struct stat st;
  return ::lstat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == ::getuid() &&
         (st.st_mode & 07777) == 0700;
}

}  // namespace

absl::StatusOr<EngineTempDirChoice> ChooseEngineTempDir(const std::string& configured,
                                                        const std::string& state_dir,
                                                        const std::string& shm_dir) {
  if (!configured.empty()) return EngineTempDirChoice{configured, "configured"};
  std::error_code ec;
  const std::filesystem::path state = std::filesystem::absolute(state_dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("state dir '", state_dir, "': ", ec.message()));
  }
  const std::string fallback = (state / "tmp").string();
  if (!shm_dir.empty() && IsTmpfs(shm_dir)) {
    const std::string dir =
        absl::StrCat(shm_dir, "/vmscan-", ::getuid(), "-",
                     Sha256Hex(state.lexically_normal().string()).substr(0, 12));
    if (MakeOrCheckPrivateDir(dir)) return EngineTempDirChoice{dir, "tmpfs " + shm_dir};
    return EngineTempDirChoice{fallback, absl::StrCat(dir, " is not a private directory of ours")};
  }
  return EngineTempDirChoice{fallback, absl::StrCat(shm_dir, " is not a writable tmpfs")};
}

std::vector<std::string> EmptyEngineTempDir(const std::string& dir) {
  std::vector<std::string> left;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  for (std::filesystem::directory_iterator end; !ec && it != end; it.increment(ec)) {
    std::error_code remove_ec;
    std::filesystem::remove_all(it->path(), remove_ec);
    if (remove_ec) {
      VMSCAN_LOG(WARNING) << "cannot remove " << it->path().string()
                          << ", left in the engine temp dir by an earlier run: "
                          << remove_ec.message();
      left.push_back(it->path().string());
    }
  }
  if (ec) {
    VMSCAN_LOG(WARNING) << "cannot list the engine temp dir " << dir
                        << " to remove what an earlier run left: " << ec.message();
    left.push_back(dir);
  }
  return left;
}

}  // namespace vmscan
