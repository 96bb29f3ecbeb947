// Setting keys and values as the VM's user types them (`vmscan-agent settings set
// mail_antivirus.action_on_threat=DELETE`), checked on the VM before anything goes to the SVM.
//
//   absl::StatusOr<v1::SettingChange> change = ParseSettingAssignment("action_on_threat=delete");
//   change->key();    // "action_on_threat"
//   change->value();  // "DELETE": the canonical text the SVM and `settings show` use
//
// Keys are the leaf field paths of vmscan.v1.MailAntivirusSettings ("enabled",
// "limits.max_message_bytes"); a "mail_antivirus." prefix is accepted and dropped. Values are
// parsed by ApplyOverride (common/config/config_loader.h), so they follow the config's rules:
// enums by name in any case, bools as true/false/yes/no/on/off/1/0, range-checked integers.
// Every error is InvalidArgument naming the key or the value. Thread-safe: no state.
#ifndef VMSCAN_GUEST_AGENT_SETTINGS_SETTING_KEYS_H_
#define VMSCAN_GUEST_AGENT_SETTINGS_SETTING_KEYS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "vmscan/v1/control.pb.h"
#include "vmscan/v1/policy.pb.h"

namespace vmscan {

// Every leaf key, in declaration order.
const std::vector<std::string>& LocalSettingKeys();

// The key without a "mail_antivirus." prefix when it names a leaf setting.
absl::StatusOr<std::string> NormalizeSettingKey(absl::string_view key);

// "KEY=VALUE" → a change setting KEY to the canonical form of VALUE.
absl::StatusOr<v1::SettingChange> ParseSettingAssignment(absl::string_view assignment);

// KEY → a change removing KEY from the local settings.
absl::StatusOr<v1::SettingChange> ParseSettingUnset(absl::string_view key);

// The value `settings` sets for `key` as text ("DELETE", "true", "10485760"); "" when unset.
std::string SettingValueText(const v1::MailAntivirusSettings& settings, absl::string_view key);

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_SETTINGS_SETTING_KEYS_H_
