// Scanner: the verdict pipeline of docs/design.md §3 for one message, independent of gRPC.
//
//   analyse (raw + parts) → decide the action (SMTP rule, settings) → disinfect and rescan when
//   the action asks for it → commit the Backup copy for delete/disinfect → the reply.
//
// A Backup copy is committed durably before Scan() returns an outcome that reports DELETE or
// DELIVER_DISINFECTED; if it cannot be committed, Scan() fails (UNAVAILABLE) and the agent
// holds the message back instead of acting on it.
//
// Thread-safe: Scan() runs on many worker threads at once.
#ifndef VMSCAN_HOST_SERVER_SCAN_SCANNER_H_
#define VMSCAN_HOST_SERVER_SCAN_SCANNER_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "host_server/backup/backup_store.h"
#include "host_server/scan/engine_slot.h"
#include "vmscan/v1/config.pb.h"
#include "vmscan/v1/policy.pb.h"
#include "vmscan/v1/scan.pb.h"

namespace vmscan {

struct ScanOutcome {
  v1::ScanResult result;
  std::string cleaned;  // the disinfected message, for DELIVER_DISINFECTED.
};

// The effective Mail Anti-Virus settings of the VM a message comes from (the control plane's
// ControlPlane::ScanSettings). Called on a worker thread for every scan.
struct VmScanSettings {
  v1::MailAntivirusSettings settings;
  std::string group;  // the VM's group path, recorded in Backup records
};
using VmSettingsSource = std::function<absl::StatusOr<VmScanSettings>(const v1::VmIdentity& vm)>;

class Scanner {
 public:
  // `engines` and `backup` must outlive the Scanner. `settings` apply to every scan unless
  // `per_vm` is given: then each scan gets its VM's effective action_on_threat, on_unscannable,
  // enabled and limits (a non-zero limit is applied as a ScanBounds / message size check: the
  // source leaves 0 where the VM's limit is not tighter than the engine's), and `settings` only
  // when `per_vm` fails (logged).
  Scanner(const EngineSlot* engines, BackupStore* backup, v1::MailAntivirusConfig settings,
          VmSettingsSource per_vm = nullptr);

  absl::StatusOr<ScanOutcome> Scan(const v1::ScanMetadata& metadata,
                                   absl::string_view message) const;

 private:
  const EngineSlot* engines_;
  BackupStore* backup_;
  const v1::MailAntivirusConfig settings_;
  const VmSettingsSource per_vm_;
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_SCAN_SCANNER_H_
