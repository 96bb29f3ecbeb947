// What the verdict cache keeps of a MailAnalysis and how a hit becomes one again
// (docs/verdict-cache.md). A cached verdict belongs to the message's content without its
// delivery fields, so it is kept only when nothing in it can come from those fields or from the
// message's exact size, and every hit scans the copy's own header block, where a threat of that
// copy alone would be.
//
// Thread-safe: pure functions (the engine is thread-safe).
#ifndef VMSCAN_HOST_SERVER_SCAN_CACHED_ANALYSIS_H_
#define VMSCAN_HOST_SERVER_SCAN_CACHED_ANALYSIS_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "host_server/cache/verdict_cache.h"
#include "host_server/engine/scan_bounds.h"
#include "host_server/engine/scan_engine.h"
#include "host_server/scan/mail_analysis.h"

namespace vmscan {

// Whether `analysis` may serve other copies: CLEAN; INFECTED with every threat tied to a MIME
// part (a threat only the raw scan found may sit in a delivery field); UNSCANNABLE because of
// encryption. Never a time-out or an engine error (they need not repeat), never exceeded limits
// (a copy with longer delivery fields is larger).
bool Cacheable(const MailAnalysis& analysis);

CachedVerdict ToCached(const MailAnalysis& analysis);

// A hit for a copy whose top-level header block is `header_block`: the cached verdict plus what
// a scan of that header block finds (its threats join as untied ones, so the copy cannot be
// "disinfected" of them). nullopt when the header block could not be scanned completely: the
// caller then scans the copy in full.
absl::StatusOr<std::optional<MailAnalysis>> AnalysisFromHit(const ScanEngine& engine,
                                                            const CachedVerdict& cached,
                                                            absl::string_view header_block,
                                                            const ScanBounds& bounds);

// The bounds as part of a cache key ("" when there are none).
std::string BoundsKey(const ScanBounds& bounds);

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_SCAN_CACHED_ANALYSIS_H_
