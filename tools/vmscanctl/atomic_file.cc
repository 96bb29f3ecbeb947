#include "tools/vmscanctl/atomic_file.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"

namespace vmscan {

absl::StatusOr<std::unique_ptr<AtomicFile>> AtomicFile::Create(const std::string& path) {
  const std::filesystem::path target(path);
  std::error_code ec;
  if (path.empty() || !target.has_filename() || std::filesystem::is_directory(target, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write \"", path, "\": not a file name (a directory?)"));
  }
  const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : ".";
  // Hidden, beside the target (same file system, so rename is atomic), unique per attempt.
  std::string temp =
      (dir / absl::StrCat(".", target.filename().string(), ".vmscanctl-XXXXXX")).string();
  const int fd = mkostemp(temp.data(), O_CLOEXEC);  // mode 0600
  if (fd < 0) {
    const int error = errno;
    return absl::Status(absl::ErrnoToStatusCode(error),
                        absl::StrCat("cannot write ", path, ": ", std::strerror(error)));
  }
  return std::unique_ptr<AtomicFile>(new AtomicFile(path, std::move(temp), fd));
}

AtomicFile::~AtomicFile() {
  if (!committed_) Discard();
}

absl::Status AtomicFile::Error(absl::string_view what, int error) const {
  return absl::Status(absl::ErrnoToStatusCode(error),
                      absl::StrCat("cannot write ", path_, ": ", what, ": ", std::strerror(error)));
}

void AtomicFile::Discard() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  unlink(temp_path_.c_str());
}

absl::Status AtomicFile::Append(absl::string_view data) {
  if (fd_ < 0) return absl::FailedPreconditionError(absl::StrCat(path_, ": already finished"));
  while (!data.empty()) {
    const ssize_t n = write(fd_, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error("write", errno);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status AtomicFile::Commit() {
  if (fd_ < 0) return absl::FailedPreconditionError(absl::StrCat(path_, ": already finished"));
  absl::Status status;
  if (fsync(fd_) != 0) status = Error("fsync", errno);
  if (close(fd_) != 0 && status.ok()) status = Error("close", errno);
  fd_ = -1;
  if (status.ok() && rename(temp_path_.c_str(), path_.c_str()) != 0)
    status = Error("rename", errno);
  if (!status.ok()) {
    Discard();
    return status;
  }
  committed_ = true;
  // Makes the new name durable too; the data already is, so a failure here is not reported.
  const std::filesystem::path target(path_);
  const std::string dir = target.has_parent_path() ? target.parent_path().string() : ".";
  if (const int dir_fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir_fd >= 0) {
    fsync(dir_fd);
    close(dir_fd);
  }
  return absl::OkStatus();
}

}  // namespace vmscan
