#include "host_server/scan/cached_analysis.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace vmscan {

bool Cacheable(const MailAnalysis& analysis) {
  switch (analysis.verdict) {
    case v1::CLEAN:
      return true;
    case v1::INFECTED:
      return analysis.mime_parsed && !analysis.has_untied_threat();
    case v1::UNSCANNABLE:
      return analysis.unscannable_reason == v1::ENCRYPTED;
    default:
      return false;
  }
}

CachedVerdict ToCached(const MailAnalysis& analysis) {
  CachedVerdict cached;
  cached.verdict = analysis.verdict;
  cached.unscannable_reason = analysis.unscannable_reason;
  cached.unscannable_detail = analysis.unscannable_detail;
  cached.threats = analysis.threats;
  return cached;
}

absl::StatusOr<std::optional<MailAnalysis>> AnalysisFromHit(const ScanEngine& engine,
                                                            const CachedVerdict& cached,
                                                            absl::string_view header_block,
                                                            const ScanBounds& bounds) {
  MailAnalysis analysis;
  analysis.verdict = cached.verdict;
  analysis.unscannable_reason = cached.unscannable_reason;
  analysis.unscannable_detail = cached.unscannable_detail;
  analysis.threats = cached.threats;
  analysis.mime_parsed = true;  // only parsed messages' verdicts are kept with tied threats
  VMSCAN_ASSIGN_OR_RETURN(EngineVerdict headers, engine.Scan(header_block, "header block", bounds));
  if (headers.unscannable.has_value()) return std::nullopt;
  for (const std::string& name : headers.threats) {
    v1::Threat threat;
    threat.set_name(name);  // no part: it is in this copy's header block
    analysis.threats.push_back(threat);
  }
  if (!headers.threats.empty()) analysis.verdict = v1::INFECTED;
  return analysis;
}

std::string BoundsKey(const ScanBounds& bounds) {
  if (bounds.none()) return "";
  return absl::StrCat(bounds.max_scan_bytes, ",", bounds.max_file_bytes, ",", bounds.max_recursion,
                      ",", bounds.max_files, ",", bounds.max_scan_time_ms);
}

}  // namespace vmscan
