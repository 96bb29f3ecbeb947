// vmscan-server under a stand-in for systemd: the test owns the notification socket
// (NOTIFY_SOCKET, a unix datagram socket, as systemd does for Type=notify) and a watchdog
// (WATCHDOG_USEC), starts the real binary and reads what it says: a STATUS while the signatures
// load, READY=1 only once it serves, WATCHDOG=1 pings, STOPPING=1 on SIGTERM, then exit 0.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/integration/server_process.h"
#include "tests/smtp/smtp_peers.h"

namespace vmscan::testing {
namespace {

// The receiving end of NOTIFY_SOCKET.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address = {};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
    bound_ = fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    timeval timeout = {1, 0};  // Receive() polls in 1 s steps up to its own deadline
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~NotifySocket() {
    if (fd_ >= 0) close(fd_);
    unlink(path_.c_str());
  }
  bool bound() const { return bound_; }

  // The next datagram, or "" when none came within `timeout`.
  std::string Receive(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    char buffer[4096];
    while (absl::Now() < deadline) {
      ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
      if (n > 0) return std::string(buffer, static_cast<size_t>(n));
    }
    return "";
  }
  // Datagrams until one contains `wanted` (included), or until `timeout`.
  std::vector<std::string> ReceiveUntil(absl::string_view wanted, absl::Duration timeout) {
    std::vector<std::string> got;
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      std::string message = Receive(deadline - absl::Now());
      if (message.empty()) break;
      got.push_back(message);
      if (absl::StrContains(message, wanted)) break;
    }
    return got;
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

bool AnyContains(const std::vector<std::string>& messages, absl::string_view text) {
  for (const std::string& message : messages) {
    if (absl::StrContains(message, text)) return true;
  }
  return false;
}

TEST(SystemdNotifyTest, StatusReadyWatchdogStopping) {
  const std::string dir = TempDir("systemd-notify");
  NotifySocket notify(dir + "/notify");
  ASSERT_TRUE(notify.bound());
  // The child inherits these, as from systemd; this process does not read them.
  setenv("NOTIFY_SOCKET", (dir + "/notify").c_str(), 1);
  setenv("WATCHDOG_USEC", "400000", 1);  // pings at least every 0.2 s
  absl::StatusOr<ServerProcess> server =
      StartServerProcess(VMSCAN_SERVER_BIN, "systemd-notify-server", 0);
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  ASSERT_TRUE(server.ok()) << server.status();

  std::vector<std::string> starting = notify.ReceiveUntil("READY=1", absl::Seconds(60));
  ASSERT_FALSE(starting.empty()) << "nothing on NOTIFY_SOCKET";
  EXPECT_EQ(starting.front(), "STATUS=loading the signature database");
  ASSERT_TRUE(absl::StrContains(starting.back(), "READY=1")) << starting.back();
  // READY names the address it serves on, with the port it really bound.
  EXPECT_TRUE(absl::StrContains(starting.back(),
                                absl::StrCat("STATUS=serving on ", server->address(), " with ")))
      << starting.back();

  // Watchdog pings, every 0.2 s at most: several within two seconds.
  int pings = 0;
  const absl::Time until = absl::Now() + absl::Seconds(2);
  while (absl::Now() < until) {
    if (notify.Receive(until - absl::Now()) == "WATCHDOG=1") ++pings;
  }
  EXPECT_GE(pings, 3);

  server->process->Terminate();
  std::vector<std::string> stopping = notify.ReceiveUntil("STOPPING=1", absl::Seconds(10));
  ASSERT_TRUE(AnyContains(stopping, "STOPPING=1"));
  EXPECT_TRUE(AnyContains(stopping, "STATUS=draining"));
  EXPECT_EQ(ExitCode(server->process->Stop()), 0);
}

}  // namespace
}  // namespace vmscan::testing
