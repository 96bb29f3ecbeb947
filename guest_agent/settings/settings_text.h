// How the agent puts a VM's settings into words: the table of `vmscan-agent settings show` and
// the log lines of `vmscan-agent run` when the SVM sends new settings, e.g.
//
//   settings: action_on_threat AUTO → DELETE (policy of group Managed devices/Finance)
//
// Thread-safe: no state.
#ifndef VMSCAN_GUEST_AGENT_SETTINGS_SETTINGS_TEXT_H_
#define VMSCAN_GUEST_AGENT_SETTINGS_SETTINGS_TEXT_H_

#include <string>
#include <vector>

#include "vmscan/v1/inventory.pb.h"
#include "vmscan/v1/policy.pb.h"

namespace vmscan {

// "default", "policy of group X", "locked by group X", "local".
std::string SourceText(const v1::SettingSource& source);

// One line per difference between `before` and `after` (group, each key's value or source),
// without the "settings: " prefix. `before` null: the settings as first received — the group
// and every key that is not a default.
std::vector<std::string> DescribeSettingsChanges(const v1::VmSettings* before,
                                                 const v1::VmSettings& after);

// The text of `settings show`: the VM and its group, then KEY VALUE SOURCE per key, the locked
// keys and the VM's local settings.
std::string FormatSettingsTable(const v1::VmSettings& settings);

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_SETTINGS_SETTINGS_TEXT_H_
