// `vmscan-agent settings show|set`: the VM's local interface to its Mail Anti-Virus settings
// (docs/design.md §4). `show` asks the SVM for the effective values and where each came from; `set`
// checks keys and values on the VM, asks the SVM to change the local settings (refused when a
// policy locks a key) and, once accepted, keeps them in <state_dir>/local-settings.json. Streams
// are injected so that tests can run it in-process.
#ifndef VMSCAN_GUEST_AGENT_CONTROL_SETTINGS_COMMAND_H_
#define VMSCAN_GUEST_AGENT_CONTROL_SETTINGS_COMMAND_H_

#include <iosfwd>
#include <string>
#include <vector>

namespace vmscan {

// Exit codes of `vmscan-agent settings`, documented in its usage text.
enum SettingsExitCode {
  kSettingsExitOk = 0,
  kSettingsExitNoScanner = 3,     // no SVM reachable (show: the cached settings were printed)
  kSettingsExitFailed = 4,        // the SVM refused or failed the request (VM unknown, error)
  kSettingsExitUsage = 64,        // bad command line, config, key or value
  kSettingsExitCannotWrite = 74,  // the SVM accepted, but local-settings.json could not be written
  kSettingsExitLocked = 77,       // a policy locks the setting (EX_NOPERM); nothing changed
};

extern const char kSettingsUsage[];

// `args` are the words after "settings".
int RunSettingsCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_CONTROL_SETTINGS_COMMAND_H_
