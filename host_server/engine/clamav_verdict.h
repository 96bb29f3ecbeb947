// Turns what libclamav said about one scan (its return code, the alert names it reported and any
// error it logged) into an EngineVerdict. Kept apart from ClamavEngine so that every branch of
// the mapping can be tested without provoking each libclamav failure for real.
//
// Mapping:
//   "Heuristics.Encrypted.*"                    -> unscannable ENCRYPTED
//   "Heuristics.Limits.Exceeded.MaxScanTime"    -> unscannable TIMEOUT
//   other "Heuristics.Limits.Exceeded.*"        -> unscannable LIMITS_EXCEEDED
//   "Detected.By.Callback"                      -> unscannable LIMITS_EXCEEDED: only vmscan's own
//     archive-metadata callback makes libclamav raise it, to block a member over max_file_bytes
//     that libclamav's zip reader would otherwise cut short and report clean
//     (`callback_detail` says which member)
//   any other name                              -> threat (de-duplicated, first-seen order)
//   CL_CLEAN, CL_VIRUS (and CL_VERIFIED, CL_BREAK, which mean "clean by callback") -> as above
//   CL_ETIMEOUT                                 -> TIMEOUT
//   CL_EMAXSIZE, CL_EMAXFILES, CL_EMAXREC       -> LIMITS_EXCEEDED
//   any other return code                       -> ENGINE_ERROR (cl_strerror text)
//   an error logged by libclamav during the scan -> ENGINE_ERROR: libclamav returns CL_CLEAN
//     when it cannot even start (e.g. its temp directory vanished), so a logged error is the
//     only sign that "clean" means "not scanned".
// The first unscannable reason met wins; unscannable_detail lists every reason's words.
// Threats and an unscannable reason may both be present (the caller decides; infected wins).
#ifndef VMSCAN_HOST_SERVER_ENGINE_CLAMAV_VERDICT_H_
#define VMSCAN_HOST_SERVER_ENGINE_CLAMAV_VERDICT_H_

#include <clamav.h>

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "host_server/engine/scan_engine.h"

namespace vmscan {

inline constexpr char kCallbackAlert[] = "Detected.By.Callback";

EngineVerdict ClamavVerdict(cl_error_t rc, const std::vector<std::string>& alerts,
                            absl::string_view logged_error, absl::string_view callback_detail = "");

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_ENGINE_CLAMAV_VERDICT_H_
