#include "common/logging.h"

#include <unistd.h>

#include <atomic>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace vmscan {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kINFO)};

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDEBUG:
      return "DEBUG";
    case LogLevel::kINFO:
      return "INFO";
    case LogLevel::kWARNING:
      return "WARN";
    case LogLevel::kERROR:
      return "ERROR";
  }
  return "?";
}

}  // namespace

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }

bool LogEnabled(LogLevel level) { return static_cast<int>(level) >= g_level.load(); }

absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view name) {
  std::string lower = absl::AsciiStrToLower(name);
  if (lower.empty() || lower == "info") return LogLevel::kINFO;
  if (lower == "debug") return LogLevel::kDEBUG;
  if (lower == "warning" || lower == "warn") return LogLevel::kWARNING;
  if (lower == "error") return LogLevel::kERROR;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown log level '", name, "' (use debug, info, warning or error)"));
}

LogMessage::LogMessage(LogLevel level, const char* file, int line) : level_(level) {
  const char* base = std::strrchr(file, '/');
  stream_ << absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ ", absl::Now(), absl::UTCTimeZone())
          << LevelName(level_) << ' ' << (base ? base + 1 : file) << ':' << line << "] ";
}

LogMessage::~LogMessage() {
  stream_ << '\n';
  std::string text = stream_.str();
  // One write per message keeps lines whole when threads log at once.
  ssize_t ignored = ::write(STDERR_FILENO, text.data(), text.size());
  (void)ignored;
}

}  // namespace vmscan
