// `vmscan-agent run` as a child process of a test, ready once its --port-file exists.
#ifndef VMSCAN_TESTS_SMTP_AGENT_PROCESS_H_
#define VMSCAN_TESTS_SMTP_AGENT_PROCESS_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/smtp/smtp_peers.h"

namespace vmscan::testing {

struct AgentProcess {
  std::unique_ptr<ChildProcess> process;
  std::string log_file;
  // From --port-file: each interceptor started and its address ("smtp-proxy" → "127.0.0.1:PORT").
  std::map<std::string, std::string> listening;
  int proxy_port = 0;   // the SMTP proxy's port (0 when it is off)
  int milter_port = 0;  // the milter's port (0 when it is off or on a unix socket)
};

// Starts VMSCAN_AGENT_BIN run with the `sets`, in its own temp dir (state_dir, log).
absl::StatusOr<AgentProcess> StartAgent(const std::vector<std::string>& sets);

}  // namespace vmscan::testing

#endif  // VMSCAN_TESTS_SMTP_AGENT_PROCESS_H_
