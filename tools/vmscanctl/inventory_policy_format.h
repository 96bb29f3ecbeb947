// What vmscanctl shows of the control plane: the group tree, the VM inventory, a VM's effective
// settings and their sources, policies and their history, and the assignment rules. Pure
// functions over the answers of InventoryAdmin and PolicyAdmin (control.proto), so that tests
// pin them down; everything that comes from a guest (VM names, hosts) or from another
// administrator passes through SanitizeForTerminal (terminal_text.h).
#ifndef VMSCAN_TOOLS_VMSCANCTL_INVENTORY_POLICY_FORMAT_H_
#define VMSCAN_TOOLS_VMSCANCTL_INVENTORY_POLICY_FORMAT_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "vmscan/v1/control.pb.h"
#include "vmscan/v1/inventory.pb.h"
#include "vmscan/v1/policy.pb.h"

namespace vmscan {

// How long before `now` `unix_micros` was: "just now", "5s ago", "12m ago", "3h ago", "4d ago";
// "never" for 0; "in the future" for a time after now beyond a second of clock skew.
std::string FormatAgo(int64_t unix_micros, absl::Time now);

// "default", "policy of Managed devices/Finance", "locked by Managed devices", "local".
std::string FormatSource(const v1::SettingSource& source);

// `groups list`: PATH, VMS, SUBGROUPS, POLICY (yes/no), in tree order (parents before their
// children, siblings by name), then a count.
std::string FormatGroupTable(const v1::ListGroupsResponse& response);

// `vms list`: NAME, ID, GROUP, STATE, LAST SEEN, ACTION, HYPERVISOR (host/type), AGENT.
std::string FormatVmTable(const v1::ListVmsResponse& response, absl::Time now);
// `vms show`: every field of one VM, one per line.
std::string FormatVmDetails(const v1::VmRecord& vm, absl::Time now);
// `vms effective`: the VM and its group, then KEY, VALUE, SOURCE per setting.
std::string FormatEffectiveSettings(const v1::VmSettings& settings);

// `policy show`: the version line, then KEY, VALUE, LOCKED for each key the policy sets or
// locks (a locked key it does not set shows "(inherited)").
std::string FormatPolicy(const v1::Policy& policy);
// `policy history`: VERSION, UPDATED (UTC), BY, SETTINGS, LOCKED; newest first as received.
std::string FormatPolicyHistory(const v1::ListPolicyHistoryResponse& response);

// `rules list`: POS, ID, VM NAME, HOST, GROUP in the order they are tried, then the default
// group.
std::string FormatRuleTable(const v1::ListRulesResponse& response);

}  // namespace vmscan

#endif  // VMSCAN_TOOLS_VMSCANCTL_INVENTORY_POLICY_FORMAT_H_
