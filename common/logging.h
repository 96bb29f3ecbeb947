// Minimal leveled logging to stderr, shared by the server, the agent and libclamav's messages.
//
//   VMSCAN_LOG(INFO) << "loaded " << n << " signatures";
//
// Thread-safe: each message is formatted into its own buffer and written with one write(2).
// The level is process-wide (an atomic), set once from config at start-up.
#ifndef VMSCAN_COMMON_LOGGING_H_
#define VMSCAN_COMMON_LOGGING_H_

#include <sstream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vmscan {

enum class LogLevel { kDEBUG = 0, kINFO = 1, kWARNING = 2, kERROR = 3 };

void SetLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);
// Accepts "debug", "info", "warning", "error" (any case); "" means info.
absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view name);

class LogMessage {
 public:
  LogMessage(LogLevel level, const char* file, int line);
  ~LogMessage();
  LogMessage(const LogMessage&) = delete;
  LogMessage& operator=(const LogMessage&) = delete;
  std::ostream& stream() { return stream_; }

 private:
  LogLevel level_;
  std::ostringstream stream_;
};

}  // namespace vmscan

#define VMSCAN_LOG(level)                                    \
  if (!::vmscan::LogEnabled(::vmscan::LogLevel::k##level)) { \
  } else                                                     \
    ::vmscan::LogMessage(::vmscan::LogLevel::k##level, __FILE__, __LINE__).stream()

#endif  // VMSCAN_COMMON_LOGGING_H_
