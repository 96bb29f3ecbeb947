#include "host_server/policy/setting_changes.h"

#include <algorithm>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "common/settings/mail_settings.h"
#include "common/status_macros.h"

namespace vmscan {

absl::Status ApplySettingChanges(
    const google::protobuf::RepeatedPtrField<v1::SettingChange>& changes, SettingsTarget target,
    v1::MailAntivirusSettings* settings, google::protobuf::RepeatedPtrField<std::string>* locked) {
  v1::MailAntivirusSettings next = *settings;
  std::vector<std::string> next_locked(locked->begin(), locked->end());
  if (changes.empty()) return absl::InvalidArgumentError("no setting to change");
  for (const v1::SettingChange& change : changes) {
    VMSCAN_ASSIGN_OR_RETURN(std::string key, CanonicalSettingKey(change.key()));
    if (target == SettingsTarget::kLocal && change.lock() != v1::SettingChange::KEEP) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", key, "': locks belong to policies, not to a VM's local settings"));
    }
    if (change.unset()) {
      ClearSetting(&next, key);
    } else if (!change.value().empty()) {
      absl::Status applied = SetSettingFromText(&next, key, change.value());
      if (!applied.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("bad value '", change.value(), "' for '", key, "': ", applied.message()));
      }
    } else if (change.lock() == v1::SettingChange::KEEP) {
      return absl::InvalidArgumentError(absl::StrCat("'", key, "': no value, unset or lock given"));
    }
    if (change.lock() == v1::SettingChange::LOCK && !absl::c_linear_search(next_locked, key)) {
      next_locked.push_back(key);
    } else if (change.lock() == v1::SettingChange::UNLOCK) {
      next_locked.erase(std::remove(next_locked.begin(), next_locked.end(), key),
                        next_locked.end());
    }
  }
  // Keep locks in the canonical key order, so that versions compare and print stably.
  std::vector<std::string> ordered;
  for (const std::string& key : SettingKeys()) {
    if (absl::c_linear_search(next_locked, key)) ordered.push_back(key);
  }
  *settings = std::move(next);
  locked->Assign(ordered.begin(), ordered.end());
  return absl::OkStatus();
}

}  // namespace vmscan
