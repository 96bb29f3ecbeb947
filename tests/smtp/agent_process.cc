#include "tests/smtp/agent_process.h"

#include <sys/wait.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/testing/test_mail.h"

namespace vmscan::testing {

absl::StatusOr<AgentProcess> StartAgent(const std::vector<std::string>& sets) {
  const std::string dir = TempDir("agent");
  AgentProcess agent;
  agent.log_file = dir + "/agent.log";
  const std::string port_file = dir + "/port";
  std::vector<std::string> argv = {VMSCAN_AGENT_BIN, "run",   "--port-file",
                                   port_file,        "--set", "state_dir=" + dir + "/state"};
  for (const std::string& s : sets) {
    argv.push_back("--set");
    argv.push_back(s);
  }
  absl::StatusOr<std::unique_ptr<ChildProcess>> p = ChildProcess::Start(argv, agent.log_file);
  if (!p.ok()) return p.status();
  agent.process = std::move(*p);
  for (int i = 0; i < 200 && !std::filesystem::exists(port_file); ++i) {
    int status = 0;
    if (waitpid(agent.process->pid(), &status, WNOHANG) == agent.process->pid()) {
      return absl::UnavailableError(
          absl::StrCat("vmscan-agent run exited: ", ReadFile(agent.log_file).value_or("")));
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  if (!std::filesystem::exists(port_file)) {
    return absl::UnavailableError(absl::StrCat("vmscan-agent run did not get ready: ",
                                               ReadFile(agent.log_file).value_or("")));
  }
  // One "NAME ADDRESS" line per interceptor; the port is what follows the address's last ':'.
  std::ifstream lines(port_file);
  std::string name, address;
  while (lines >> name >> address) agent.listening[name] = address;
  auto port_of = [&](const std::string& interceptor) {
    auto it = agent.listening.find(interceptor);
    int port = 0;
    if (it != agent.listening.end()) {
      (void)absl::SimpleAtoi(it->second.substr(it->second.rfind(':') + 1), &port);
    }
    return port;
  };
  agent.proxy_port = port_of("smtp-proxy");
  agent.milter_port = port_of("milter");
  return agent;
}

}  // namespace vmscan::testing
