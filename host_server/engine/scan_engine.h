// ScanEngine: the interface between vmscan and a content scanner (libclamav in production,
// fakes in unit tests). One engine object is a compiled signature set; it is immutable after
// creation and shared by all scans through shared_ptr<const ScanEngine>, so a signature reload
// can build a new engine beside the old one and swap it in while running scans keep theirs.
//
// Thread-safety: Scan() may be called from any number of threads at once.
#ifndef VMSCAN_HOST_SERVER_ENGINE_SCAN_ENGINE_H_
#define VMSCAN_HOST_SERVER_ENGINE_SCAN_ENGINE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "host_server/engine/inspected_content.h"
#include "host_server/engine/scan_bounds.h"
#include "vmscan/v1/scan.pb.h"

namespace vmscan {

// The engine's finding for one object.
struct EngineVerdict {
  // Real detections, de-duplicated, in the order the engine reported them. Heuristic "could not
  // scan" alerts are not threats: they go to `unscannable`.
  std::vector<std::string> threats;
  // Set when the object could not be scanned completely (limits, encryption, time, engine error).
  std::optional<v1::UnscannableReason> unscannable;
  std::string unscannable_detail;  // e.g. "Heuristics.Encrypted.Zip" or the engine's error text.
  // Filled by ScanRecordingInspected() only: what the engine looked at inside the object.
  InspectedContent inspected;

  bool infected() const { return !threats.empty(); }
};

class ScanEngine {
 public:
  virtual ~ScanEngine() = default;

  // Scans one object held in memory (a whole message or one decoded MIME part) within
  // `bounds` (the VM's limits where they are tighter than the engine's; ScanBounds() for none).
  // `name` is used for logs only. Engine failures on the content are reported as `unscannable`,
  // not as an error; an error Status means the engine itself could not be used (a bug or no
  // memory).
  virtual absl::StatusOr<EngineVerdict> Scan(absl::string_view data, absl::string_view name,
                                             const ScanBounds& bounds) const = 0;

  // Like Scan(), and also records in `inspected` objects the engine itself scanned while
  // scanning `data` (`data` and whatever it decoded or unpacked from it). Only what this one
  // call inspected is recorded, never what earlier scans did; the record may be incomplete (an
  // engine that answers a layer from its cache does not open it), never larger. An engine that
  // cannot tell records nothing, which is always safe: callers then scan every part alone.
  virtual absl::StatusOr<EngineVerdict> ScanRecordingInspected(absl::string_view data,
                                                               absl::string_view name,
                                                               const ScanBounds& bounds) const {
    return Scan(data, name, bounds);
  }

  // Identifies the signature set, for verdict caching and replies (changes on reload).
  virtual std::string version() const = 0;
  virtual uint64_t signature_count() const = 0;
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_ENGINE_SCAN_ENGINE_H_
