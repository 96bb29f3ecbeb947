// The real vmscan-server binary as a child process of a test (tests/smtp/smtp_peers.h's
// ChildProcess): its own temp dir (state, log), --set overrides, stopped by SIGTERM to its pid.
#ifndef VMSCAN_TESTS_INTEGRATION_SERVER_PROCESS_H_
#define VMSCAN_TESTS_INTEGRATION_SERVER_PROCESS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/smtp/smtp_peers.h"

namespace vmscan::testing {

struct ServerProcess {
  std::unique_ptr<ChildProcess> process;
  std::string dir;  // state under dir/state, the log in dir/server.log
  int port = 0;
  std::string address() const;  // "127.0.0.1:PORT"
  std::string log() const;      // what it wrote so far
};

// `server_bin` on 127.0.0.1:`port` with `sets` (KEY=VALUE). Port 0: any port, and Start returns
// once the server is ready (its --port-file written); another port: at once, ready or not.
absl::StatusOr<ServerProcess> StartServerProcess(const std::string& server_bin,
                                                 const std::string& name, int port,
                                                 const std::vector<std::string>& sets = {});

// The exit code of a waitpid status; -1 when it did not exit normally.
int ExitCode(int wait_status);

}  // namespace vmscan::testing

#endif  // VMSCAN_TESTS_INTEGRATION_SERVER_PROCESS_H_
