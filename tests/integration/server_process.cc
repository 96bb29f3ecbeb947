#include "tests/integration/server_process.h"

#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/testing/test_mail.h"

namespace vmscan::testing {

std::string ServerProcess::address() const { return absl::StrCat("127.0.0.1:", port); }

std::string ServerProcess::log() const { return ReadFile(dir + "/server.log").value_or(""); }

absl::StatusOr<ServerProcess> StartServerProcess(const std::string& server_bin,
                                                 const std::string& name, int port,
                                                 const std::vector<std::string>& sets) {
  ServerProcess server;
  server.dir = TempDir(name);
  const std::string port_file = server.dir + "/port";
  std::vector<std::string> argv = {server_bin, absl::StrCat("--set=listen=127.0.0.1:", port),
                                   absl::StrCat("--set=state_dir=", server.dir, "/state"),
                                   "--port-file", port_file};
  for (const std::string& set : sets) argv.push_back("--set=" + set);
  absl::StatusOr<std::unique_ptr<ChildProcess>> process =
      ChildProcess::Start(argv, server.dir + "/server.log");
  if (!process.ok()) return process.status();
  server.process = *std::move(process);
  server.port = port;
  if (port == 0) {
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (!std::filesystem::exists(port_file) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    std::ifstream(port_file) >> server.port;
    if (server.port == 0) {
      return absl::UnavailableError(absl::StrCat("vmscan-server did not start: ", server.log()));
    }
  }
  return server;
}

int ExitCode(int wait_status) { return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1; }

}  // namespace vmscan::testing
