// `vmscan-agent status`: which SVM this VM's mail goes to and why (docs/design.md §6.1) — the
// ranking the running agent keeps in <state_dir>/svm-choice.json, or, with no running agent
// (no such file, or one not refreshed for three refresh periods), a live round of its own.
#ifndef VMSCAN_GUEST_AGENT_COMMANDS_STATUS_COMMAND_H_
#define VMSCAN_GUEST_AGENT_COMMANDS_STATUS_COMMAND_H_

#include <iosfwd>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace vmscan {
namespace v1 {
class SvmChoiceStatus;
}  // namespace v1

extern const char kStatusUsage[];

// Where `run` keeps its ranking.
std::string SvmChoicePath(absl::string_view state_dir);

// The ranking as a table: one line per SVM, the one the next scan goes to first.
std::string FormatSvmChoice(const v1::SvmChoiceStatus& status, absl::string_view source);

int RunStatusCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_COMMANDS_STATUS_COMMAND_H_
