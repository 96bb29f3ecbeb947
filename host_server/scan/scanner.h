// Scanner: the verdict pipeline of docs/design.md §3 for one message, independent of gRPC.
//
//   the VM's settings → the shared verdict cache (a hit: the cached verdict + a scan of this
//   copy's header block), else analyse (raw + parts) and keep the verdict when it may serve
//   other copies → decide the action (SMTP rule, settings) → disinfect and rescan when the
//   action asks for it → commit the Backup copy for delete/disinfect → the reply.
//
// Probe() is the hash-first half (docs/verdict-cache.md): from the message's verdict key and
// header block alone it answers when a cache hit decides the outcome without the original
// (deliver, block), and otherwise asks for the message, which then goes through Scan().
//
// A Backup copy is committed durably before Scan() returns an outcome that reports DELETE or
// DELIVER_DISINFECTED; if it cannot be committed, Scan() fails (ABORTED, never UNAVAILABLE,
// which agents read as "no scanner") and the agent holds the message back instead of acting on
// it.
//
// Thread-safe: Scan() runs on many worker threads at once.
#ifndef VMSCAN_HOST_SERVER_SCAN_SCANNER_H_
#define VMSCAN_HOST_SERVER_SCAN_SCANNER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "host_server/backup/backup_store.h"
#include "host_server/cache/verdict_cache.h"
#include "host_server/engine/scan_bounds.h"
#include "host_server/scan/engine_slot.h"
#include "host_server/scan/mail_analysis.h"
#include "vmscan/v1/config.pb.h"
#include "vmscan/v1/policy.pb.h"
#include "vmscan/v1/scan.pb.h"

namespace vmscan {

struct ScanOutcome {
  v1::ScanResult result;
  std::string cleaned;  // the disinfected message, for DELIVER_DISINFECTED.
};

struct ProbeOutcome {
  bool need_message = true;  // false: `outcome` is the answer
  ScanOutcome outcome;
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

  // Uses `cache` (shared by every scan; may be null: no caching) from now on.
  // `engine_settings` fingerprints the engine options and limits that change verdicts;
  // messages larger than `max_cached_bytes` are neither looked up nor kept (their verdict may
  // depend on their exact size under the limits). Call before the Scanner is shared.
  void UseCache(VerdictCache* cache, std::string engine_settings, uint64_t max_cached_bytes);

  absl::StatusOr<ScanOutcome> Scan(const v1::ScanMetadata& metadata,
                                   absl::string_view message) const;
  absl::StatusOr<ProbeOutcome> Probe(const v1::ScanMetadata& metadata,
                                     const v1::CacheProbe& probe) const;

 private:
  // The VM's settings for one scan; `early` when no scan is needed (disabled, over its size).
  struct Prepared {
    v1::MailAntivirusConfig settings;
    ScanBounds bounds;
    std::string group;
    std::optional<ScanOutcome> early;
  };
  Prepared Prepare(const v1::ScanMetadata& metadata, uint64_t size, const ScanEngine& engine) const;
  bool MayCache(uint64_t size, const ScanBounds& bounds) const;
  std::string CacheKey(absl::string_view digest, const ScanEngine& engine,
                       const ScanBounds& bounds) const;
  // The verdict from the cache for this copy, if there is one.
  absl::StatusOr<std::optional<MailAnalysis>> FromCache(const std::string& key,
                                                        absl::string_view header_block,
                                                        const ScanEngine& engine,
                                                        const ScanBounds& bounds) const;

  const EngineSlot* engines_;
  BackupStore* backup_;
  const v1::MailAntivirusConfig settings_;
  const VmSettingsSource per_vm_;
  VerdictCache* cache_ = nullptr;
  std::string engine_settings_;
  uint64_t max_cached_bytes_ = 0;
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_SCAN_SCANNER_H_
