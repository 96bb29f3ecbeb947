// The keys and values of vmscan.v1.MailAntivirusSettings (protos/vmscan/v1/policy.proto) as the
// server, vmscanctl and the agent name and print them: the one reflection over that message.
//
//   VMSCAN_ASSIGN_OR_RETURN(std::string key, CanonicalSettingKey("mailAntivirus.limits.maxFiles"));
//   // key == "limits.max_files"
//   VMSCAN_RETURN_IF_ERROR(SetSettingFromText(&settings, key, "100"));
//   SettingValueText(settings, key);  // "100"
//
// Keys are the leaf field paths ("action_on_threat", "limits.max_message_bytes"); functions that
// take a `key` want a canonical one (from SettingKeys() or CanonicalSettingKey()), except
// CanonicalSettingKey itself. Values are text as in config files and --set (common/config's
// SetFieldFromText): enums by name in any case, bools true/false/yes/no/on/off/1/0, range-checked
// decimal integers; they print canonically ("DELETE", "false", "10485760"). An enum's zero value
// (UNSPECIFIED) means "not set" and is never a value to set.
//
// Errors are InvalidArgument and name the key as given; callers add their own context (which
// argument, how to get help). Messages echo their input verbatim: a caller that prints to a
// terminal sanitizes them. Pure functions; thread-safe.
#ifndef VMSCAN_COMMON_SETTINGS_MAIL_SETTINGS_H_
#define VMSCAN_COMMON_SETTINGS_MAIL_SETTINGS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "vmscan/v1/policy.pb.h"

namespace vmscan {

// Every leaf key, in declaration order.
const std::vector<std::string>& SettingKeys();

// The canonical key of `key`: each part by proto or JSON name, an optional "mail_antivirus." or
// "mailAntivirus." prefix and surrounding blanks dropped. InvalidArgument for an empty key, an
// unknown one ("unknown setting 'K'; did you mean 'limits.max_files'?" when one is close) and
// a group of settings ("'limits' is a group of settings, not one: give one of ...").
absl::StatusOr<std::string> CanonicalSettingKey(absl::string_view key);

// Whether `settings` sets `key` (a value set to zero or false is set).
bool HasSetting(const v1::MailAntivirusSettings& settings, absl::string_view key);

// Removes `key` from *settings, so that it inherits again; harmless when not set.
void ClearSetting(v1::MailAntivirusSettings* settings, absl::string_view key);

// Makes `key` of *to what it is in `from`: the same value, or unset.
void CopySetting(const v1::MailAntivirusSettings& from, absl::string_view key,
                 v1::MailAntivirusSettings* to);

// The value `settings` sets for `key` as text ("DELETE", "true", "10485760"); "" when unset.
std::string SettingValueText(const v1::MailAntivirusSettings& settings, absl::string_view key);

// The keys `settings` sets, in SettingKeys() order.
std::vector<std::string> SetSettingKeys(const v1::MailAntivirusSettings& settings);

// Sets `key` of *settings to `text`, or returns InvalidArgument and leaves *settings unchanged:
// for an enum "action_on_threat is one of AUTO, ..., BLOCK (in any case)", after "UNSPECIFIED is
// not a value to set: " when it was asked for; else SetFieldFromText's "key 'K' expects uint32
// (decimal 0..4294967295), got 'T'".
absl::Status SetSettingFromText(v1::MailAntivirusSettings* settings, absl::string_view key,
                                absl::string_view text);

// The canonical text of `text` as a value of `key` ("delete" → "DELETE"); errors as above.
absl::StatusOr<std::string> ParseSettingValue(absl::string_view key, absl::string_view text);

// Whether `text` reads as the zero value of enum setting `key` ("UNSPECIFIED", "0"): someone who
// asks for it wants the key unset, which a tool can then suggest in its own words.
bool IsUnspecifiedSettingValue(absl::string_view key, absl::string_view text);

}  // namespace vmscan

#endif  // VMSCAN_COMMON_SETTINGS_MAIL_SETTINGS_H_
