// What every vmscanctl command shares: the parsed command line (Invocation), the table of
// commands each area offers (CommandSpec), and the few helpers that turn a result into output
// and an exit code the same way for every command. The areas live in *_commands.cc.
//
//   int Show(const Invocation& inv, std::ostream& out, std::ostream& err) {
//     absl::StatusOr<v1::Group> group = ...;
//     if (!group.ok()) return Fail(err, "groups show " + inv.args[0], group.status());
//     return WriteOut(out, err, inv.json ? ToJson(*group) : Text(*group));
//   }
#ifndef VMSCAN_TOOLS_VMSCANCTL_CLI_H_
#define VMSCAN_TOOLS_VMSCANCTL_CLI_H_

#include <cstdint>
#include <iosfwd>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tools/vmscanctl/server_channel.h"
#include "vmscan/v1/config.pb.h"

namespace vmscan {

// One parsed command line: global options, the command's positional arguments and its options.
struct Invocation {
  std::string server = "127.0.0.1:7350";
  int64_t timeout_ms = 30000;
  v1::TlsConfig tls;  // --cert, --key, --cacert, --server-name (or VMSCANCTL_* variables)
  bool json = false;
  std::string area;                            // "backup", "groups", ...
  std::string command;                         // "list", "show", ...
  std::vector<std::string> args;               // the words after the command
  std::map<std::string, std::string> options;  // value options by canonical name ("-o", "--vm")
  std::set<std::string> switches;              // "--all", "--lock", ...

  absl::Duration timeout() const { return absl::Milliseconds(timeout_ms); }
  ServerTarget target() const { return {server, timeout(), tls}; }
  bool has(absl::string_view option) const {
    return options.count(std::string(option)) > 0 || switches.count(std::string(option)) > 0;
  }
  // "groups rename": names the command in messages.
  std::string name() const { return area + " " + command; }
};

using CommandFn = int (*)(const Invocation& inv, std::ostream& out, std::ostream& err);

// A positional argument: its name in the usage ("PATH") and the question a missing one gets
// ("which group path?").
struct ArgSpec {
  const char* name;
  const char* question;
};

struct CommandSpec {
  const char* name;
  std::vector<ArgSpec> args;
  bool variadic = false;          // the last argument may repeat (at least once)
  std::set<std::string> options;  // the value options and switches the command takes
  CommandFn run = nullptr;
};

// The commands of each area, defined in the area's *_commands.cc.
const std::vector<CommandSpec>& BackupCommands();
const std::vector<CommandSpec>& GroupCommands();
const std::vector<CommandSpec>& VmCommands();
const std::vector<CommandSpec>& PolicyCommands();
const std::vector<CommandSpec>& RuleCommands();
const std::vector<CommandSpec>& PkiCommands();
const std::vector<CommandSpec>& EngineCommands();
const std::vector<CommandSpec>& ServerCommands();

// "vmscanctl: MESSAGE\n(see 'vmscanctl --help')"; returns kCtlUsage.
int Usage(std::ostream& err, absl::string_view message);

// The exit code of a failed call: NotFound 1, Unavailable 3, InvalidArgument 64, else 2.
int ExitCodeFor(const absl::Status& status);

// Prints "vmscanctl: WHAT: KIND: MESSAGE" (the server's message, made safe for a terminal) and
// returns ExitCodeFor(status).
int Fail(std::ostream& err, absl::string_view what, const absl::Status& status);

// The --json answer of a command whose reply is empty: {"deleted":true,"<key>":"<value>"}.
std::string DeletedJson(absl::string_view key, absl::string_view value);

// Writes `text` to `out`; kCtlCannotWrite with a message when it cannot be written.
int WriteOut(std::ostream& out, std::ostream& err, absl::string_view text);

}  // namespace vmscan

#endif  // VMSCAN_TOOLS_VMSCANCTL_CLI_H_
