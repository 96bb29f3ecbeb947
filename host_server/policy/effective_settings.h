// Effective Mail Anti-Virus settings of one VM (docs/design.md §4), as a pure function:
//
//   from the root group down to the VM's group, a child policy overrides its parent except where
//   a parent locked the setting; then the VM's local settings apply to every setting no policy
//   locked; then the defaults.
//
//   VMSCAN_ASSIGN_OR_RETURN(ResolvedSettings s, ResolveSettings(defaults, {&root, &finance},
//   local)); s.values.action_on_threat();     // what the SVM uses for this VM's scans
//   s.provenance;                    // each key's value and where it came from, for the admin
//
// Keys are the canonical leaf field paths of vmscan.v1.MailAntivirusSettings ("action_on_threat",
// "limits.max_message_bytes", ...; SettingKeys() in common/settings/mail_settings.h). Thread-safe:
// no state.
#ifndef VMSCAN_HOST_SERVER_POLICY_EFFECTIVE_SETTINGS_H_
#define VMSCAN_HOST_SERVER_POLICY_EFFECTIVE_SETTINGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/settings/mail_settings.h"
#include "vmscan/v1/policy.pb.h"

namespace vmscan {

struct ResolvedSettings {
  v1::MailAntivirusSettings values;              // every key set
  std::vector<v1::EffectiveSetting> provenance;  // one entry per key, in SettingKeys() order
};

// `defaults` must set every key (InvalidArgument naming the first that it does not). `chain`
// holds the policies from the root group down to the VM's group; groups without a policy are
// simply absent. A lock on a key that its policy does not set locks the inherited value.
absl::StatusOr<ResolvedSettings> ResolveSettings(const v1::MailAntivirusSettings& defaults,
                                                 absl::Span<const v1::Policy* const> chain,
                                                 const v1::MailAntivirusSettings& local);

// OK when the VM may change `key` locally; FailedPrecondition naming the locking group when a
// policy of `chain` locks it; InvalidArgument for an unknown key.
absl::Status CheckLocalChangeAllowed(absl::Span<const v1::Policy* const> chain,
                                     absl::string_view key);

// InvalidArgument when the policy locks an unknown key or names no group.
absl::Status ValidatePolicy(const v1::Policy& policy);

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_POLICY_EFFECTIVE_SETTINGS_H_
