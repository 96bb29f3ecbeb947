#include "host_server/backup/backup_id.h"

#include <cinttypes>
#include <cstdio>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace vmscan {
namespace {

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

int HexValue(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

}  // namespace

std::string FormatBackupId(int64_t unix_micros, uint32_t suffix) {
  char buf[kBackupIdLength + 1];
  std::snprintf(buf, sizeof(buf), "%016" PRIx64 "-%08" PRIx32, static_cast<uint64_t>(unix_micros),
                suffix);
  return std::string(buf, kBackupIdLength);
}

absl::StatusOr<int64_t> ParseBackupId(absl::string_view id) {
  bool ok = id.size() == kBackupIdLength && id[16] == '-';
  for (size_t i = 0; ok && i < id.size(); ++i) {
    if (i != 16 && !IsLowerHex(id[i])) ok = false;
  }
  // The time part of a valid id is a non-negative int64.
  if (ok && HexValue(id[0]) >= 8) ok = false;
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat("malformed backup id \"",
                                                   absl::CHexEscape(id.substr(0, 64)),
                                                   "\": want 16 hex digits, '-', 8 hex digits"));
  }
  uint64_t micros = 0;
  for (size_t i = 0; i < 16; ++i) micros = (micros << 4) | HexValue(id[i]);
  return static_cast<int64_t>(micros);
}

std::string BackupIdLowerBound(int64_t unix_micros) { return FormatBackupId(unix_micros, 0); }

}  // namespace vmscan
