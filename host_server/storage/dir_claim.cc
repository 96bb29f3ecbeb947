#include "host_server/storage/dir_claim.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace vmscan {
namespace {

struct Registry {
  absl::Mutex mu;
  absl::flat_hash_set<std::pair<dev_t, ino_t>> claimed ABSL_GUARDED_BY(mu);
};

Registry& GetRegistry() {
  static Registry* registry = new Registry;  // never destroyed: no exit-time ordering issue.
  return *registry;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DirClaim>> DirClaim::Make(const std::string& dir) {
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    const int err = errno;
    return absl::Status(absl::ErrnoToStatusCode(err),
                        absl::StrCat("stat ", dir, ": ", std::strerror(err)));
  }
  Key key{st.st_dev, st.st_ino};
  Registry& registry = GetRegistry();
  absl::MutexLock lock(&registry.mu);
  if (!registry.claimed.insert(key).second) {
    return absl::FailedPreconditionError(
        absl::StrCat(dir, " is already open in this process; share that instance"));
  }
  return std::unique_ptr<DirClaim>(new DirClaim(key));
}

DirClaim::~DirClaim() {
  Registry& registry = GetRegistry();
  absl::MutexLock lock(&registry.mu);
  registry.claimed.erase(key_);
}

}  // namespace vmscan
