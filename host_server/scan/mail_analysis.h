// Turns engine findings into a verdict on a whole message: the raw message and every decoded
// leaf MIME part are scanned, so a threat hidden from one parser (libclamav's or GMime's) is still
// found by the other, and each detection is tied to the part that holds it.
//
// Cost: libclamav already decodes and scans every part while scanning the raw message, and
// reports what it inspected (ScanEngine::ScanRecordingInspected). When the raw scan is clean
// and complete, a leaf whose content it inspected is not scanned again: byte for byte for any
// part, in the normalized text form (CRLF as LF, no trailing line ends) for text bodies, whose
// CRLF form libclamav's mail parser never reproduces exactly. The other leaves, the ones only
// GMime sees, are scanned as before; after a raw detection every leaf is (see BENCHMARKS.md).
//
// Bounds: every engine call for the message (the raw scan and each part scan) gets `bounds`, the
// VM's limits where they are tighter than the engine's (ScanBounds() for none).
//
// Thread-safe: a pure function of its inputs.
#ifndef VMSCAN_HOST_SERVER_SCAN_MAIL_ANALYSIS_H_
#define VMSCAN_HOST_SERVER_SCAN_MAIL_ANALYSIS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "host_server/engine/scan_engine.h"
#include "vmscan/v1/scan.pb.h"

namespace vmscan {

struct MailAnalysis {
  v1::Verdict verdict = v1::VERDICT_UNSPECIFIED;
  v1::UnscannableReason unscannable_reason = v1::UNSCANNABLE_REASON_UNSPECIFIED;
  std::string unscannable_detail;
  // Threats tied to a part first (document order), then those only the raw scan found
  // (part_path empty).
  std::vector<v1::Threat> threats;
  bool mime_parsed = false;  // false: GMime could not parse the message; only raw results exist.
  int leaf_count = 0;
  // Leaves not scanned on their own because the clean raw scan inspected their content.
  int parts_covered_by_raw_scan = 0;

  // True when at least one threat could not be tied to a removable part.
  bool has_untied_threat() const;
};

absl::StatusOr<MailAnalysis> AnalyzeMessage(const ScanEngine& engine, absl::string_view raw,
                                            const ScanBounds& bounds);

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_SCAN_MAIL_ANALYSIS_H_
