// Applying SettingChanges (vmscanctl policy set/unset, vmscan-agent settings set) to a policy or
// to a VM's local settings: one pure function, all or nothing.
//
//   v1::Policy next = current;
//   VMSCAN_RETURN_IF_ERROR(ApplySettingChanges(request.changes(), SettingsTarget::kPolicy,
//                                              next.mutable_settings(), next.mutable_locked()));
//
// Keys and values are read as common/settings/mail_settings.h reads them: keys by proto or JSON
// name, with or without a "mail_antivirus." prefix; values as in config files and --set ("DELETE"
// or "delete", "10485760", "false"); an enum's UNSPECIFIED is not a value.
#ifndef VMSCAN_HOST_SERVER_POLICY_SETTING_CHANGES_H_
#define VMSCAN_HOST_SERVER_POLICY_SETTING_CHANGES_H_

#include <string>

#include "absl/status/status.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "vmscan/v1/control.pb.h"
#include "vmscan/v1/policy.pb.h"

namespace vmscan {

enum class SettingsTarget { kPolicy, kLocal };

// Applies every change to *settings and *locked, or returns InvalidArgument naming the first bad
// change and leaves both untouched. A change sets its value (when not empty), or removes the key
// (`unset`), and then applies its lock; locks are refused for kLocal. A change that does
// nothing at all (no value, no unset, no lock) is an error too.
absl::Status ApplySettingChanges(
    const google::protobuf::RepeatedPtrField<v1::SettingChange>& changes, SettingsTarget target,
    v1::MailAntivirusSettings* settings, google::protobuf::RepeatedPtrField<std::string>* locked);

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_POLICY_SETTING_CHANGES_H_
