// What `vmscanctl backup ...` reads and shows of vmscan.v1.BackupAdmin (admin.proto): the
// --action argument, the record table of `list`, the record of `show` and the totals of `stats`.
// Built on terminal_text.h: everything that comes from a guest or a mail sender (subjects,
// threat names, VM ids) is sanitized for the terminal. Pure functions.
#ifndef VMSCAN_TOOLS_VMSCANCTL_BACKUP_FORMAT_H_
#define VMSCAN_TOOLS_VMSCANCTL_BACKUP_FORMAT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "vmscan/v1/admin.pb.h"
#include "vmscan/v1/backup.pb.h"

namespace vmscan {

// ACTION names as in the proto, case-insensitive; "disinfected" for DELIVER_DISINFECTED.
absl::StatusOr<v1::Action> ParseActionArg(absl::string_view text);

// The aligned table of `vmscanctl backup list`: ID, TIME (UTC), VM, ACTION, THREATS, SUBJECT,
// SIZE, one line per record, followed by a count (and how to get the next page).
std::string FormatRecordTable(const v1::ListBackupsResponse& response);

// Every field of one record, one per line, for `vmscanctl backup show`.
std::string FormatRecordDetails(const v1::BackupRecord& record);

// The totals of `vmscanctl backup stats`.
std::string FormatStats(const v1::BackupStats& stats);

}  // namespace vmscan

#endif  // VMSCAN_TOOLS_VMSCANCTL_BACKUP_FORMAT_H_
