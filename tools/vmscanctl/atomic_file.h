// AtomicFile: writes a file so that it appears complete or not at all. The bytes go to a
// private temp file (mode 0600: exported backups hold mail, often with malware) beside the
// target; Commit() syncs it and renames it over the target. A file that is not committed is
// removed by the destructor, so an export that fails halfway leaves nothing behind.
//
//   VMSCAN_ASSIGN_OR_RETURN(std::unique_ptr<AtomicFile> file, AtomicFile::Create(path));
//   VMSCAN_RETURN_IF_ERROR(file->Append(chunk));
//   VMSCAN_RETURN_IF_ERROR(file->Commit());
//
// Errors name the path and the system's reason. Not thread-safe.
#ifndef VMSCAN_TOOLS_VMSCANCTL_ATOMIC_FILE_H_
#define VMSCAN_TOOLS_VMSCANCTL_ATOMIC_FILE_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vmscan {

class AtomicFile {
 public:
  // Creates the temp file now, so that an unwritable target fails before any work is done.
  // FailedPrecondition when `path` is a directory.
  static absl::StatusOr<std::unique_ptr<AtomicFile>> Create(const std::string& path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  absl::Status Append(absl::string_view data);
  // fsync, close, rename over the target. The object is finished afterwards, whatever the result.
  absl::Status Commit();

  const std::string& temp_path() const { return temp_path_; }

 private:
  AtomicFile(std::string path, std::string temp_path, int fd)
      : path_(std::move(path)), temp_path_(std::move(temp_path)), fd_(fd) {}
  absl::Status Error(absl::string_view what, int error) const;
  void Discard();

  const std::string path_;
  const std::string temp_path_;
  int fd_;
  bool committed_ = false;
};

}  // namespace vmscan

#endif  // VMSCAN_TOOLS_VMSCANCTL_ATOMIC_FILE_H_
