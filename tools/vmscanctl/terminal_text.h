// What every area of vmscanctl reads from and shows to a person the same way: time and age
// arguments, times and sizes, text made safe for a terminal, aligned tables, and JSON. The views
// of each API are built on it (backup_format.h, inventory_policy_format.h). Pure functions, so
// that tests pin them down.
//
// Everything shown in a terminal passes through SanitizeForTerminal: subjects, threat names and
// VM names come from guests and from mail senders, and must not be able to send escape sequences
// (or bidi overrides that reorder what the administrator reads) to the administrator's terminal.
#ifndef VMSCAN_TOOLS_VMSCANCTL_TERMINAL_TEXT_H_
#define VMSCAN_TOOLS_VMSCANCTL_TERMINAL_TEXT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"

namespace vmscan {

// An age: "90s", "45m", "2h", "30d", "2w", or any absl::ParseDuration form ("1h30m"). Must be
// positive. InvalidArgument naming `text` otherwise.
absl::StatusOr<absl::Duration> ParseAge(absl::string_view text);

// A point in time: RFC 3339 ("2026-11-27T06:00:00Z", "...T07:00:00.5+01:00"), a UTC date
// ("2026-11-27"), or an age counted back from `now` ("2h" = two hours ago).
absl::StatusOr<absl::Time> ParseTimeArg(absl::string_view text, absl::Time now);

// "2026-11-27 06:00:00" (UTC); with `micros`, ".123456" appended.
std::string FormatUtc(int64_t unix_micros, bool micros = false);
// "2026-11-27T06:00:00.123456Z": what --since/--until accept back, to the microsecond.
std::string FormatRfc3339(int64_t unix_micros);
// "812 B", "4.0 KiB", "12.3 MiB".
std::string HumanBytes(uint64_t bytes);

// Replaces control characters (C0, DEL, C1), bidi controls and invalid UTF-8 by '?'.
std::string SanitizeForTerminal(absl::string_view text);

// A table cell or detail field for `text`: sanitized, "-" when empty.
std::string DisplayText(absl::string_view text);
// At most `width` code points of `text`; a cut text ends in "...".
std::string Truncate(absl::string_view text, size_t width);

// Rows of cells as columns separated by two spaces, padded to the widest cell (in code points);
// the columns whose `right` is true are right-aligned. Trailing blanks are trimmed. The first
// row is usually the header. Cells must already be sanitized.
std::string AlignedTable(const std::vector<std::vector<std::string>>& rows,
                         const std::vector<bool>& right);

// Canonical proto3 JSON (lowerCamel names, enums by name, every field printed), one line + "\n".
std::string ToJson(const google::protobuf::Message& message);

}  // namespace vmscan

#endif  // VMSCAN_TOOLS_VMSCANCTL_TERMINAL_TEXT_H_
