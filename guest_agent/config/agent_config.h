// The agent's embedded defaults, the one place its configuration is validated, and the loading
// order shared by every agent command: defaults → --config file → --set overrides.
#ifndef VMSCAN_GUEST_AGENT_CONFIG_AGENT_CONFIG_H_
#define VMSCAN_GUEST_AGENT_CONFIG_AGENT_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "vmscan/v1/config.pb.h"

namespace vmscan {

v1::AgentConfig DefaultAgentConfig();
absl::Status ValidateAgentConfig(const v1::AgentConfig& config);
absl::StatusOr<v1::AgentConfig> LoadAgentConfig(const std::string& config_file,
                                                const std::vector<std::string>& sets);

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_CONFIG_AGENT_CONFIG_H_
