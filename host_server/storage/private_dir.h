// MakePrivateDir: a directory only the server's user can enter, for the SVM's state (mail in
// Backup, policies, decoded attachments in the engine's temp dir).
//
//   VMSCAN_RETURN_IF_ERROR(MakePrivateDir(state_dir));
//
// Creates the directory and its parents when missing, then sets its mode to 0700 whether it was
// new or not. Errors name the directory and carry the errno's status code: a directory that
// cannot be made private is a start-up error, never a warning.
//
// Thread-safe (no shared state).
#ifndef VMSCAN_HOST_SERVER_STORAGE_PRIVATE_DIR_H_
#define VMSCAN_HOST_SERVER_STORAGE_PRIVATE_DIR_H_

#include <string>

#include "absl/status/status.h"

namespace vmscan {

absl::Status MakePrivateDir(const std::string& dir);

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_STORAGE_PRIVATE_DIR_H_
