#include "guest_agent/settings/settings_text.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/settings/mail_settings.h"

namespace vmscan {

std::string SourceText(const v1::SettingSource& source) {
  switch (source.kind()) {
    case v1::SettingSource::DEFAULT:
      return "default";
    case v1::SettingSource::POLICY:
      return absl::StrCat("policy of group ", source.group());
    case v1::SettingSource::LOCKED:
      return absl::StrCat("locked by group ", source.group());
    case v1::SettingSource::LOCAL:
      return "local";
    default:
      return "unknown";
  }
}

std::vector<std::string> DescribeSettingsChanges(const v1::VmSettings* before,
                                                 const v1::VmSettings& after) {
  std::vector<std::string> lines;
  if (before == nullptr || before->group() != after.group()) {
    lines.push_back(before == nullptr || before->group().empty()
                        ? absl::StrCat("group ", after.group())
                        : absl::StrCat("group ", before->group(), " → ", after.group()));
  }
  absl::flat_hash_map<std::string, const v1::EffectiveSetting*> old;
  if (before != nullptr) {
    for (const v1::EffectiveSetting& s : before->effective()) old[s.key()] = &s;
  }
  for (const v1::EffectiveSetting& now : after.effective()) {
    auto it = old.find(now.key());
    if (it == old.end()) {
      if (before == nullptr && now.source().kind() == v1::SettingSource::DEFAULT) continue;
      lines.push_back(
          absl::StrCat(now.key(), " ", now.value(), " (", SourceText(now.source()), ")"));
      continue;
    }
    const v1::EffectiveSetting& was = *it->second;
    const std::string was_source = SourceText(was.source());
    const std::string now_source = SourceText(now.source());
    if (was.value() != now.value()) {
      lines.push_back(
          absl::StrCat(now.key(), " ", was.value(), " → ", now.value(), " (", now_source, ")"));
    } else if (was_source != now_source) {
      lines.push_back(
          absl::StrCat(now.key(), " ", now.value(), " (", was_source, " → ", now_source, ")"));
    }
  }
  return lines;
}

std::string FormatSettingsTable(const v1::VmSettings& settings) {
  std::string text = absl::StrCat("VM ", settings.vm().name(), " (", settings.vm().id(),
                                  "), group ", settings.group(), "\n\n");
  size_t key_width = 7, value_width = 5;
  for (const v1::EffectiveSetting& s : settings.effective()) {
    key_width = std::max(key_width, s.key().size());
    value_width = std::max(value_width, s.value().size());
  }
  absl::StrAppend(&text, absl::StrFormat("%-*s  %-*s  %s\n", key_width, "SETTING", value_width,
                                         "VALUE", "SOURCE"));
  for (const v1::EffectiveSetting& s : settings.effective()) {
    absl::StrAppend(&text, absl::StrFormat("%-*s  %-*s  %s\n", key_width, s.key(), value_width,
                                           s.value(), SourceText(s.source())));
  }
  std::vector<std::string> locked;
  for (const v1::LockedSetting& l : settings.locked()) {
    locked.push_back(absl::StrCat(l.key(), " (by ", l.group(), ")"));
  }
  absl::StrAppend(&text, "\nLocked: ", locked.empty() ? "none" : absl::StrJoin(locked, ", "), "\n");
  std::vector<std::string> local;
  for (const std::string& key : SetSettingKeys(settings.local())) {
    local.push_back(absl::StrCat(key, "=", SettingValueText(settings.local(), key)));
  }
  absl::StrAppend(&text, "Local settings: ", local.empty() ? "none" : absl::StrJoin(local, ", "),
                  "\n");
  return text;
}

}  // namespace vmscan
