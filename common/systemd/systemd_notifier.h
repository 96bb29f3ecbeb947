// SystemdNotifier: tells systemd how a Type=notify service is doing (sd_notify(3)): STATUS=
// lines for `systemctl status`, READY=1 once it serves, STOPPING=1 when it drains, and
// WATCHDOG=1 pings while its main loop runs, within the WatchdogSec= systemd set
// (docs/design.md §7, "systemd"). Outside systemd (no NOTIFY_SOCKET) every call does nothing.
//
//   SystemdNotifier systemd;
//   systemd.Status("loading the signature database");
//   ... start ...
//   systemd.Ready("serving on 127.0.0.1:7350");
//   while (!stop) { wait up to systemd.watchdog_interval(); systemd.Watchdog(); }
//   systemd.Stopping("draining scans in flight");
//
// Thread-compatible; sd_notify itself may be called from any thread.
#ifndef VMSCAN_COMMON_SYSTEMD_SYSTEMD_NOTIFIER_H_
#define VMSCAN_COMMON_SYSTEMD_SYSTEMD_NOTIFIER_H_

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace vmscan {

class SystemdNotifier {
 public:
  // Reads NOTIFY_SOCKET and WATCHDOG_USEC (and WATCHDOG_PID) of this process.
  SystemdNotifier();

  // True when started by systemd with a notification socket.
  bool enabled() const { return enabled_; }
  // Half the watchdog timeout systemd asked for (ping at least this often); InfiniteDuration()
  // when there is no watchdog.
  absl::Duration watchdog_interval() const { return watchdog_interval_; }

  void Status(absl::string_view status) const;
  void Ready(absl::string_view status) const;
  void Stopping(absl::string_view status) const;
  void Watchdog() const;

 private:
  void Notify(absl::string_view state) const;

  bool enabled_ = false;
  absl::Duration watchdog_interval_ = absl::InfiniteDuration();
};

}  // namespace vmscan

#endif  // VMSCAN_COMMON_SYSTEMD_SYSTEMD_NOTIFIER_H_
