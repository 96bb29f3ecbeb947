// The Mail Anti-Virus setting keys and values of `vmscanctl policy set|unset`, checked on the
// client so that a typo is a usage error naming the key (with a "did you mean") before anything
// is sent; the server checks them again.
//
//   absl::StatusOr<std::vector<v1::SettingChange>> changes =
//       ParseSetArgs({"action_on_threat=delete", "limits.max_files=100"}, v1::SettingChange::LOCK);
//   // → {key "action_on_threat", value "DELETE", lock LOCK}, {key "limits.max_files", ...}
//
// Keys and values are read by common/settings/mail_settings.h (keys by proto or JSON name, with
// or without a "mail_antivirus." prefix; values as --set reads them) and come out canonical
// ("action_on_threat", "DELETE"). What is vmscanctl's own: the arguments' syntax, a key given
// twice, the hints in its messages and making echoed arguments safe for the terminal.
// Pure functions; thread-safe.
#ifndef VMSCAN_TOOLS_VMSCANCTL_SETTINGS_ARGS_H_
#define VMSCAN_TOOLS_VMSCANCTL_SETTINGS_ARGS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "vmscan/v1/control.pb.h"
#include "vmscan/v1/policy.pb.h"

namespace vmscan {

// `policy set` arguments: each "KEY=VALUE", or a bare "KEY" when `lock` is LOCK or UNLOCK (then
// only the lock changes). Every change carries `lock`. InvalidArgument naming the argument for
// a bad key, a bad value, a key given twice, or a bare key without a lock change.
absl::StatusOr<std::vector<v1::SettingChange>> ParseSetArgs(const std::vector<std::string>& args,
                                                            v1::SettingChange::Lock lock);

// `policy unset` arguments: keys.
absl::StatusOr<std::vector<v1::SettingChange>> ParseUnsetArgs(const std::vector<std::string>& args);

// The keys `settings` sets and their values as text, in SettingKeys() order.
std::vector<std::pair<std::string, std::string>> SetSettings(
    const v1::MailAntivirusSettings& settings);

}  // namespace vmscan

#endif  // VMSCAN_TOOLS_VMSCANCTL_SETTINGS_ARGS_H_
