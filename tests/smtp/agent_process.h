// `vmscan-agent run` as a child process of a test, ready once its --port-file exists.
#ifndef VMSCAN_TESTS_SMTP_AGENT_PROCESS_H_
#define VMSCAN_TESTS_SMTP_AGENT_PROCESS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/smtp/smtp_peers.h"

namespace vmscan::testing {

struct AgentProcess {
  std::unique_ptr<ChildProcess> process;
  std::string log_file;
  int proxy_port = 0;  // from --port-file (0 when the proxy is off)
};

// Starts VMSCAN_AGENT_BIN run with the `sets`, in its own temp dir (state_dir, log).
absl::StatusOr<AgentProcess> StartAgent(const std::vector<std::string>& sets);

}  // namespace vmscan::testing

#endif  // VMSCAN_TESTS_SMTP_AGENT_PROCESS_H_
