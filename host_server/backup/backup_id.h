// Backup record ids: "<16 hex digits of creation time in unix micros>-<8 random hex digits>",
// lower case, e.g. "00062a1b2c3d4e5f-9f8e7d6c". The fixed-width time prefix makes ids (and so
// the LMDB keys) sort by creation time; the random suffix keeps ids from different SVMs apart
// when an administrator views several hosts at once, and makes them hard to guess.
#ifndef VMSCAN_HOST_SERVER_BACKUP_BACKUP_ID_H_
#define VMSCAN_HOST_SERVER_BACKUP_BACKUP_ID_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vmscan {

inline constexpr size_t kBackupIdLength = 25;

// `unix_micros` must be >= 0.
std::string FormatBackupId(int64_t unix_micros, uint32_t suffix);

// The creation time encoded in `id`; InvalidArgument unless `id` has exactly the format above.
absl::StatusOr<int64_t> ParseBackupId(absl::string_view id);

// The smallest possible key for records created at `unix_micros` or later (for cursor seeks).
std::string BackupIdLowerBound(int64_t unix_micros);

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_BACKUP_BACKUP_ID_H_
