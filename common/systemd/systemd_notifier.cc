#include "common/systemd/systemd_notifier.h"

#include <systemd/sd-daemon.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/logging.h"

namespace vmscan {
namespace {

// A STATUS= value is one line.
std::string OneLine(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"\n", " "}, {"\r", " "}});
}

}  // namespace

SystemdNotifier::SystemdNotifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && *socket != '\0';
  uint64_t usec = 0;
  // > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID, if set, is this process.
  if (enabled_ && sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    watchdog_interval_ = absl::Microseconds(usec) / 2;
  }
}

void SystemdNotifier::Notify(absl::string_view state) const {
  if (!enabled_) return;
  const std::string text(state);
  int rc = sd_notify(0, text.c_str());
  if (rc < 0) {
    VMSCAN_LOG(WARNING) << "sd_notify failed: " << rc;
  }
}

void SystemdNotifier::Status(absl::string_view status) const {
  Notify(absl::StrCat("STATUS=", OneLine(status)));
}

void SystemdNotifier::Ready(absl::string_view status) const {
  Notify(absl::StrCat("READY=1\nSTATUS=", OneLine(status)));
}

void SystemdNotifier::Stopping(absl::string_view status) const {
  Notify(absl::StrCat("STOPPING=1\nSTATUS=", OneLine(status)));
}

void SystemdNotifier::Watchdog() const {
  if (watchdog_interval_ != absl::InfiniteDuration()) Notify("WATCHDOG=1");
}

}  // namespace vmscan
