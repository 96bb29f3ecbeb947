#include "host_server/storage/private_dir.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace vmscan {

absl::Status MakePrivateDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::Status(absl::ErrnoToStatusCode(ec.value()),
                        absl::StrCat("cannot create directory ", dir, ": ", ec.message()));
  }
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  if (ec) {
    return absl::Status(
        absl::ErrnoToStatusCode(ec.value()),
        absl::StrCat("cannot make directory ", dir, " private (chmod 0700): ", ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace vmscan
