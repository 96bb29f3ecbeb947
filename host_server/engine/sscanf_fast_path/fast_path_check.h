// The start-up check of a binary that links the sscanf fast path: does libclamav's sscanf reach
// it? Two things can make the fast path silently useless: the dynamic linker resolving the name
// elsewhere (an executable linked so that it does not export its definition), or libclamav
// calling a string scanner the fast path does not define (glibc 2.38 headers turn sscanf into
// __isoc23_sscanf; another build could call vsscanf). Either way the results stay glibc's, only
// the speed is lost; so this warns, it never refuses to start.
//
//   LogSscanfFastPathCheck();  // once, in main, after the log level is set
//
// Only libclamav's string scanners (names ending in "sscanf") are checked: it also imports scanf
// and fscanf, which read streams and are not what the fast path is for.
//
// Thread-safe.
#ifndef VMSCAN_HOST_SERVER_ENGINE_SSCANF_FAST_PATH_FAST_PATH_CHECK_H_
#define VMSCAN_HOST_SERVER_ENGINE_SSCANF_FAST_PATH_FAST_PATH_CHECK_H_

#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vmscan {

struct FastPathCheck {
  std::vector<std::string> info;      // log lines at INFO
  std::vector<std::string> warnings;  // log lines at WARNING
};

// Judges libclamav's imports (as DynamicImports reports them, or why they could not be read)
// given whether each fast-path symbol is bound in this process.
FastPathCheck CheckSscanfFastPath(const absl::StatusOr<std::vector<std::string>>& libclamav_imports,
                                  absl::FunctionRef<bool(absl::string_view symbol)> bound);

// Runs the check on this process (libclamav as loaded, SscanfFastPathBound) and logs it.
void LogSscanfFastPathCheck();

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_ENGINE_SSCANF_FAST_PATH_FAST_PATH_CHECK_H_
