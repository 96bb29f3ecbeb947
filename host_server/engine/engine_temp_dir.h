// Where libclamav's per-scan temp directories go.
//
// libclamav creates a directory for every scan call and writes decoded mail parts and unpacked
// archive members into it. On this project's ext4 VM that costs 3.7 ms of wall time per scan,
// against 0.04 ms on tmpfs (BENCHMARKS.md, change 5): for small messages, a large share of a
// scan. ChooseEngineTempDir() prefers a memory filesystem when nothing is configured:
//
//   VMSCAN_ASSIGN_OR_RETURN(std::string tmp, ChooseEngineTempDir(config_value, state_dir));
//   engine_options.temp_dir = tmp;
//
// - `configured` set: that directory, as given (an administrator's choice, e.g. a systemd
//   RuntimeDirectory such as /run/vmscan/tmp).
// - otherwise, when `shm_dir` (normally /dev/shm) is a tmpfs: a directory there private to this
//   user and this state dir, "vmscan-<uid>-<12 hex digits of SHA-256 of the state dir>", created
//   with mode 0700. One that already exists is used only when it is a real directory (not a
//   symlink) owned by this user with mode 0700: /dev/shm is writable by everyone.
// - otherwise: <state_dir>/tmp, as before.
//
// Memory cost of tmpfs: what concurrent scans have decoded at one time, at most workers ×
// max_scan_bytes (the engine limit), and only while a scan runs: libclamav removes each scan's
// directory when the scan ends.
//
// Thread-safe (no shared state).
#ifndef VMSCAN_HOST_SERVER_ENGINE_ENGINE_TEMP_DIR_H_
#define VMSCAN_HOST_SERVER_ENGINE_ENGINE_TEMP_DIR_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace vmscan {

struct EngineTempDirChoice {
  std::string dir;
  std::string why;  // for the start-up log, e.g. "tmpfs /dev/shm"
};

absl::StatusOr<EngineTempDirChoice> ChooseEngineTempDir(const std::string& configured,
                                                        const std::string& state_dir,
                                                        const std::string& shm_dir = "/dev/shm");

// Removes everything inside `dir`: libclamav leaves its per-scan directories behind when a
// process dies mid-scan, and they hold decoded attachments. The directory itself stays: on a
// shared tmpfs its path must not be free for someone else to take, even for a moment. What
// cannot be removed is logged as a WARNING naming it and returned; the server still starts (each
// scan gets a fresh directory of its own).
std::vector<std::string> EmptyEngineTempDir(const std::string& dir);

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_ENGINE_ENGINE_TEMP_DIR_H_
