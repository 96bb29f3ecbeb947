// The Mail Anti-Virus setting keys and values of `vmscanctl policy set|unset`, checked on the
// client so that a typo is a usage error naming the key (with a "did you mean") before anything
// is sent; the server checks them again.
//
//   absl::StatusOr<std::vector<v1::SettingChange>> changes =
//       ParseSetArgs({"action_on_threat=delete", "limits.max_files=100"}, v1::SettingChange::LOCK);
//   // → {key "action_on_threat", value "DELETE", lock LOCK}, {key "limits.max_files", ...}
//
// Keys are the leaf field paths of vmscan.v1.MailAntivirusSettings ("action_on_threat",
// "limits.max_message_bytes"), given by proto or JSON name, with or without a "mail_antivirus."
// prefix; they come out as proto field paths. Values are read as common/config's --set reads
// them (enums case-insensitive, bools true/false/yes/no/on/off/1/0, decimal integers checked
// against the field's range) and come out in canonical text ("DELETE", "true", "10485760").
// Pure functions; thread-safe.
#ifndef VMSCAN_TOOLS_VMSCANCTL_SETTINGS_ARGS_H_
#define VMSCAN_TOOLS_VMSCANCTL_SETTINGS_ARGS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "vmscan/v1/control.pb.h"
#include "vmscan/v1/policy.pb.h"

namespace vmscan {

// Every leaf key of MailAntivirusSettings, in declaration order.
const std::vector<std::string>& AllSettingKeys();

// The canonical key of `key`; InvalidArgument naming it (and the closest key) when it is not a
// setting.
absl::StatusOr<std::string> CanonicalSettingKey(absl::string_view key);

// `policy set` arguments: each "KEY=VALUE", or a bare "KEY" when `lock` is LOCK or UNLOCK (then
// only the lock changes). Every change carries `lock`. InvalidArgument naming the argument for
// a bad key, a bad value, a key given twice, or a bare key without a lock change.
absl::StatusOr<std::vector<v1::SettingChange>> ParseSetArgs(const std::vector<std::string>& args,
                                                            v1::SettingChange::Lock lock);

// `policy unset` arguments: keys.
absl::StatusOr<std::vector<v1::SettingChange>> ParseUnsetArgs(const std::vector<std::string>& args);

// The keys `settings` sets and their values as text, in AllSettingKeys() order.
std::vector<std::pair<std::string, std::string>> SetSettings(
    const v1::MailAntivirusSettings& settings);

}  // namespace vmscan

#endif  // VMSCAN_TOOLS_VMSCANCTL_SETTINGS_ARGS_H_
