// The agent's settings files in its state dir:
//
//   <state_dir>/local-settings.json  the VM's local settings (MailAntivirusSettings), written by
//                                    `vmscan-agent settings set` once the SVM accepted them and
//                                    sent with every registration, so that an SVM that lost its
//                                    store learns them again. Mode 0600.
//   <state_dir>/settings.json        the VmSettings last received from the SVM, written by
//                                    `vmscan-agent run`; `settings show` falls back to it when no
//                                    SVM is reachable.
//
// Files are JSON (proto field names, enums by name) and are replaced atomically (temp file in
// the same directory, fsync, rename), so a reader sees the old or the new content, never a mix.
// Thread-compatible: concurrent writers of one file must be serialised by the caller.
#ifndef VMSCAN_GUEST_AGENT_SETTINGS_SETTINGS_FILES_H_
#define VMSCAN_GUEST_AGENT_SETTINGS_SETTINGS_FILES_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "vmscan/v1/inventory.pb.h"
#include "vmscan/v1/policy.pb.h"

namespace vmscan {

std::string LocalSettingsPath(absl::string_view state_dir);
std::string CachedSettingsPath(absl::string_view state_dir);

// Creates the directory when missing; `content` lands in `path` with `mode`, or nothing changes.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view content, int mode);

// nullopt when the file does not exist; InvalidArgument naming the path when it does not parse.
absl::StatusOr<std::optional<v1::MailAntivirusSettings>> ReadLocalSettings(
    absl::string_view state_dir);
absl::Status WriteLocalSettings(absl::string_view state_dir,
                                const v1::MailAntivirusSettings& settings);

absl::StatusOr<std::optional<v1::VmSettings>> ReadCachedSettings(absl::string_view state_dir);
absl::Status WriteCachedSettings(absl::string_view state_dir, const v1::VmSettings& settings);

// Indented JSON with proto field names; only the fields that are set.
std::string SettingsToJson(const google::protobuf::Message& message);

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_SETTINGS_SETTINGS_FILES_H_
