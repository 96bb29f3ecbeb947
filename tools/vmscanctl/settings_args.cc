#include "tools/vmscanctl/settings_args.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/settings/mail_settings.h"
#include "tools/vmscanctl/terminal_text.h"

namespace vmscan {
namespace {

// A key or value as it may appear in a message: made safe for a terminal, cut if long.
std::string Shown(absl::string_view text) { return SanitizeForTerminal(Truncate(text, 80)); }

// CanonicalSettingKey, with the key shown safely and a pointer to the usage, which lists them;
// a key already in *seen (by any spelling) is an error too.
absl::StatusOr<std::string> SettingKeyArg(absl::string_view key, std::set<std::string>* seen) {
  absl::StatusOr<std::string> canonical = CanonicalSettingKey(key);
  if (!canonical.ok()) {
    const std::string message =
        absl::StrReplaceAll(canonical.status().message(),
                            {{absl::StrCat("'", key, "'"), absl::StrCat("'", Shown(key), "'")}});
    return absl::InvalidArgumentError(
        absl::StrCat(SanitizeForTerminal(message), " (the keys are listed in 'vmscanctl --help')"));
  }
  if (!seen->insert(*canonical).second) {
    return absl::InvalidArgumentError(absl::StrCat("setting '", *canonical, "' given twice"));
  }
  return canonical;
}

// The canonical text of `value` for canonical `key`, or an error naming the argument `arg`.
absl::StatusOr<std::string> SettingValueArg(absl::string_view arg, const std::string& key,
                                            absl::string_view value) {
  absl::StatusOr<std::string> canonical = ParseSettingValue(key, value);
  if (canonical.ok()) return canonical;
  std::string message =
      absl::StrCat("'", Shown(arg), "': ", SanitizeForTerminal(canonical.status().message()));
  if (IsUnspecifiedSettingValue(key, value)) {
    absl::StrAppend(&message, "; 'vmscanctl policy unset GROUP ", key, "' makes it inherit again");
  }
  return absl::InvalidArgumentError(message);
}

}  // namespace

absl::StatusOr<std::vector<v1::SettingChange>> ParseSetArgs(const std::vector<std::string>& args,
                                                            v1::SettingChange::Lock lock) {
  std::vector<v1::SettingChange> changes;
  std::set<std::string> seen;
  for (const std::string& arg : args) {
    const size_t eq = arg.find('=');
    const absl::string_view key_text =
        eq == std::string::npos ? absl::string_view(arg) : absl::string_view(arg).substr(0, eq);
    absl::StatusOr<std::string> key = SettingKeyArg(key_text, &seen);
    if (!key.ok()) return key.status();
    v1::SettingChange& change = changes.emplace_back();
    change.set_key(*key);
    change.set_lock(lock);
    if (eq == std::string::npos) {
      if (lock == v1::SettingChange::KEEP) {
        return absl::InvalidArgumentError(
            absl::StrCat("'", Shown(arg), "': want KEY=VALUE (a bare KEY only with --lock or ",
                         "--unlock, to change just the lock)"));
      }
      continue;
    }
    absl::StatusOr<std::string> value =
        SettingValueArg(arg, *key, absl::string_view(arg).substr(eq + 1));
    if (!value.ok()) return value.status();
    change.set_value(*value);
  }
  return changes;
}

absl::StatusOr<std::vector<v1::SettingChange>> ParseUnsetArgs(
    const std::vector<std::string>& args) {
  std::vector<v1::SettingChange> changes;
  std::set<std::string> seen;
  for (const std::string& arg : args) {
    if (arg.find('=') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", Shown(arg), "': policy unset takes keys, without a value"));
    }
    absl::StatusOr<std::string> key = SettingKeyArg(arg, &seen);
    if (!key.ok()) return key.status();
    v1::SettingChange& change = changes.emplace_back();
    change.set_key(*key);
    change.set_unset(true);
  }
  return changes;
}

std::vector<std::pair<std::string, std::string>> SetSettings(
    const v1::MailAntivirusSettings& settings) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& key : SetSettingKeys(settings)) {
    out.emplace_back(key, SettingValueText(settings, key));
  }
  return out;
}

}  // namespace vmscan
