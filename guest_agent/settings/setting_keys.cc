#include "guest_agent/settings/setting_keys.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/settings/mail_settings.h"

namespace vmscan {
namespace {

// CanonicalSettingKey, pointing at the usage, which lists the keys.
absl::StatusOr<std::string> SettingKeyArg(absl::string_view key) {
  absl::StatusOr<std::string> canonical = CanonicalSettingKey(key);
  if (canonical.ok()) return canonical;
  return absl::InvalidArgumentError(absl::StrCat(
      canonical.status().message(), " (the keys are listed in 'vmscan-agent settings --help')"));
}

}  // namespace

absl::StatusOr<v1::SettingChange> ParseSettingAssignment(absl::string_view assignment) {
  const size_t eq = assignment.find('=');
  if (eq == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", assignment, "' is not KEY=VALUE (e.g. action_on_threat=DELETE)"));
  }
  absl::StatusOr<std::string> key = SettingKeyArg(assignment.substr(0, eq));
  if (!key.ok()) return key.status();
  const absl::string_view value = assignment.substr(eq + 1);
  absl::StatusOr<std::string> text = ParseSettingValue(*key, value);
  if (!text.ok()) {
    std::string message = absl::StrCat("'", assignment, "': ", text.status().message());
    if (IsUnspecifiedSettingValue(*key, value)) {
      absl::StrAppend(&message, "; to inherit again use --unset ", *key);
    }
    return absl::InvalidArgumentError(message);
  }
  v1::SettingChange change;
  change.set_key(*std::move(key));
  change.set_value(*std::move(text));
  return change;
}

absl::StatusOr<v1::SettingChange> ParseSettingUnset(absl::string_view key) {
  absl::StatusOr<std::string> canonical = SettingKeyArg(key);
  if (!canonical.ok()) return canonical.status();
  v1::SettingChange change;
  change.set_key(*std::move(canonical));
  change.set_unset(true);
  return change;
}

}  // namespace vmscan
