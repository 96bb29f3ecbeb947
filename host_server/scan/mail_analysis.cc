#include "host_server/scan/mail_analysis.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
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

}  // namespace

bool MailAnalysis::has_untied_threat() const {
  return std::any_of(threats.begin(), threats.end(),
                     [](const v1::Threat& t) { return t.part_path().empty(); });
}

absl::StatusOr<MailAnalysis> AnalyzeMessage(const ScanEngine& engine, absl::string_view raw) {
  MailAnalysis analysis;
  VMSCAN_ASSIGN_OR_RETURN(EngineVerdict raw_verdict, engine.Scan(raw, "message"));
  NoteUnscannable(raw_verdict, &analysis);

  absl::StatusOr<std::vector<MimeLeaf>> leaves = ExtractLeafParts(raw);
  absl::flat_hash_set<std::string> tied_names;
  if (leaves.ok()) {
    analysis.mime_parsed = true;
    analysis.leaf_count = static_cast<int>(leaves->size());
    for (const MimeLeaf& leaf : *leaves) {
      VMSCAN_ASSIGN_OR_RETURN(EngineVerdict part_verdict, engine.Scan(leaf.decoded, leaf.path));
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
