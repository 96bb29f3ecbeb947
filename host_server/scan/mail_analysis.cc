#include "host_server/scan/mail_analysis.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "host_server/mail/mime_parts.h"

namespace vmscan {
namespace {

// Remembers the first reason the message could not be scanned completely.
void NoteUnscannable(const EngineVerdict& verdict, MailAnalysis* analysis) {
  if (!verdict.unscannable.has_value()) return;
  if (analysis->unscannable_reason != v1::UNSCANNABLE_REASON_UNSPECIFIED) return;
  analysis->unscannable_reason = *verdict.unscannable;
  analysis->unscannable_detail = verdict.unscannable_detail;
}

// A text part that the mail is read as, not a file handed around: only these are matched by their
// normalized text form. A named text attachment (a script, a CSV) is only skipped when the raw
// scan met it byte for byte, so a hash signature of its exact bytes still applies.
bool IsTextBody(const MimeLeaf& leaf) {
  return absl::StartsWith(leaf.content_type, "text/") && leaf.filename.empty();
}

}  // namespace

bool MailAnalysis::has_untied_threat() const {
  return std::any_of(threats.begin(), threats.end(),
                     [](const v1::Threat& t) { return t.part_path().empty(); });
}

absl::StatusOr<MailAnalysis> AnalyzeMessage(const ScanEngine& engine, absl::string_view raw,
                                            const ScanBounds& bounds) {
  MailAnalysis analysis;
  VMSCAN_ASSIGN_OR_RETURN(EngineVerdict raw_verdict,
                          engine.ScanRecordingInspected(raw, "message", bounds));
  NoteUnscannable(raw_verdict, &analysis);
  // When the raw scan inspected everything it met to the end and found nothing, a part whose
  // content it inspected would only be scanned again to the same "clean". When it found
  // something, every part is scanned to tie each threat to its part.
  const bool skip_inspected_parts = !raw_verdict.infected() && !raw_verdict.unscannable;

  absl::StatusOr<std::vector<MimeLeaf>> leaves = ExtractLeafParts(raw);
  absl::flat_hash_set<std::string> tied_names;
  if (leaves.ok()) {
    analysis.mime_parsed = true;
    analysis.leaf_count = static_cast<int>(leaves->size());
    for (const MimeLeaf& leaf : *leaves) {
      if (skip_inspected_parts && raw_verdict.inspected.Covers(leaf.decoded, IsTextBody(leaf))) {
        ++analysis.parts_covered_by_raw_scan;
        continue;
      }
      VMSCAN_ASSIGN_OR_RETURN(EngineVerdict part_verdict,
                              engine.Scan(leaf.decoded, leaf.path, bounds));
      NoteUnscannable(part_verdict, &analysis);
      for (const std::string& name : part_verdict.threats) {
        v1::Threat& threat = analysis.threats.emplace_back();
        threat.set_name(name);
        threat.set_part_path(leaf.path);
        threat.set_filename(leaf.filename);
        threat.set_content_type(leaf.content_type);
        tied_names.insert(name);
      }
    }
  } else {
    VMSCAN_LOG(DEBUG) << "MIME parse failed, raw scan only: " << leaves.status();
  }

  // A threat the raw scan found that no part scan found: in headers, in a part GMime does not
  // see, or hidden by a MIME trick. It is reported, but no part can be removed for it.
  for (const std::string& name : raw_verdict.threats) {
    if (tied_names.contains(name)) continue;
    analysis.threats.emplace_back().set_name(name);
    tied_names.insert(name);
  }

  if (!analysis.threats.empty()) {
    analysis.verdict = v1::INFECTED;
  } else if (analysis.unscannable_reason != v1::UNSCANNABLE_REASON_UNSPECIFIED) {
    analysis.verdict = v1::UNSCANNABLE;
  } else {
    analysis.verdict = v1::CLEAN;
  }
  return analysis;
}

}  // namespace vmscan
