#include "host_server/policy/effective_settings.h"

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"

namespace vmscan {
namespace {

bool IsKey(absl::string_view key) { return absl::c_linear_search(SettingKeys(), key); }

bool Locks(const v1::Policy& policy, absl::string_view key) {
  return absl::c_linear_search(policy.locked(), key);
}

}  // namespace

absl::StatusOr<ResolvedSettings> ResolveSettings(const v1::MailAntivirusSettings& defaults,
                                                 absl::Span<const v1::Policy* const> chain,
                                                 const v1::MailAntivirusSettings& local) {
  ResolvedSettings resolved;
  for (const std::string& key : SettingKeys()) {
    if (!HasSetting(defaults, key)) {
      return absl::InvalidArgumentError(absl::StrCat("defaults do not set '", key, "'"));
    }
    const v1::MailAntivirusSettings* from = &defaults;
    v1::SettingSource source;
    source.set_kind(v1::SettingSource::DEFAULT);
    bool locked = false;
    for (const v1::Policy* policy : chain) {
      if (policy == nullptr) continue;
      if (HasSetting(policy->settings(), key)) {
        from = &policy->settings();
        source.set_kind(v1::SettingSource::POLICY);
        source.set_group(policy->group());
      }
      if (Locks(*policy, key)) {
        // The top-most lock wins: descendants and the VM cannot change the value any more.
        source.set_kind(v1::SettingSource::LOCKED);
        source.set_group(policy->group());
        locked = true;
        break;
      }
    }
    if (!locked && HasSetting(local, key)) {
      from = &local;
      source.set_kind(v1::SettingSource::LOCAL);
      source.clear_group();
    }
    CopySetting(*from, key, &resolved.values);
    v1::EffectiveSetting& setting = resolved.provenance.emplace_back();
    setting.set_key(key);
    setting.set_value(SettingValueText(*from, key));
    *setting.mutable_source() = std::move(source);
  }
  return resolved;
}

absl::Status CheckLocalChangeAllowed(absl::Span<const v1::Policy* const> chain,
                                     absl::string_view key) {
  if (!IsKey(key)) {
    return absl::InvalidArgumentError(absl::StrCat("unknown setting '", key, "'"));
  }
  for (const v1::Policy* policy : chain) {
    if (policy != nullptr && Locks(*policy, key)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "setting '", key, "' is locked by the policy of group '", policy->group(), "'"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidatePolicy(const v1::Policy& policy) {
  if (policy.group().empty()) return absl::InvalidArgumentError("policy names no group");
  for (const std::string& key : policy.locked()) {
    if (!IsKey(key)) {
      return absl::InvalidArgumentError(
          absl::StrCat("policy of '", policy.group(), "' locks unknown setting '", key, "'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace vmscan
