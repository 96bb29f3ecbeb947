// `vmscan-agent run`: the long-running agent. Loads the config, resolves the VM identity, starts
// the interceptors the config enables (smtp_proxy.listen, milter.listen; possibly none) over one
// SVM client and the control loop (registration, heartbeats, settings stream: ControlLoop),
// logs what it does, and on SIGTERM/SIGINT unregisters, stops accepting, lets sessions in
// flight finish for up to shutdown_grace_ms, and exits 0.
#ifndef VMSCAN_GUEST_AGENT_COMMANDS_RUN_COMMAND_H_
#define VMSCAN_GUEST_AGENT_COMMANDS_RUN_COMMAND_H_

#include <iosfwd>
#include <string>
#include <vector>

namespace vmscan {

extern const char kRunUsage[];

// `args` are the words after "run". Blocks until a stop signal. Exit codes: 0 stopped cleanly,
// 64 usage or config error, 69 an interceptor could not start (address in use, bad TLS files).
int RunAgentCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_COMMANDS_RUN_COMMAND_H_
