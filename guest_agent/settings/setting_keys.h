// Setting keys and values as the VM's user types them (`vmscan-agent settings set
// mail_antivirus.action_on_threat=DELETE`, `--unset KEY`), checked on the VM before anything goes
// to the SVM.
//
//   absl::StatusOr<v1::SettingChange> change = ParseSettingAssignment("action_on_threat=delete");
//   change->key();    // "action_on_threat"
//   change->value();  // "DELETE": the canonical text the SVM and `settings show` use
//
// Keys and values are read by common/settings/mail_settings.h (keys by proto or JSON name, with
// or without a "mail_antivirus." prefix; values as the config's --set reads them). What is the
// agent's own: the KEY=VALUE syntax and the hints of `vmscan-agent settings`. Every error is
// InvalidArgument naming the argument. Thread-safe: no state.
#ifndef VMSCAN_GUEST_AGENT_SETTINGS_SETTING_KEYS_H_
#define VMSCAN_GUEST_AGENT_SETTINGS_SETTING_KEYS_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "vmscan/v1/control.pb.h"

namespace vmscan {

// "KEY=VALUE" → a change setting KEY to the canonical form of VALUE.
absl::StatusOr<v1::SettingChange> ParseSettingAssignment(absl::string_view assignment);

// KEY → a change removing KEY from the local settings.
absl::StatusOr<v1::SettingChange> ParseSettingUnset(absl::string_view key);

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_SETTINGS_SETTING_KEYS_H_
