#include "guest_agent/config/agent_config.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/config/config_loader.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace vmscan {

v1::AgentConfig DefaultAgentConfig() {
  v1::AgentConfig config;
  config.add_servers("127.0.0.1:7350");
  config.set_state_dir("./var/agent");
  config.set_chunk_bytes(256 * 1024);
  config.set_timeout_ms(300000);
  config.set_connect_timeout_ms(3000);
  config.set_log_level("info");
  return config;
}

absl::Status ValidateAgentConfig(const v1::AgentConfig& config) {
  if (config.servers().empty()) {
    return absl::InvalidArgumentError("servers must list at least one SVM address (host:port)");
  }
  for (const std::string& server : config.servers()) {
    if (server.empty() || !absl::StrContains(server, ':')) {
      return absl::InvalidArgumentError(
          absl::StrCat("servers: '", server, "' is not an address of the form host:port"));
    }
  }
  if (config.chunk_bytes() < 1024 || config.chunk_bytes() > (4u << 20)) {
    return absl::InvalidArgumentError(
        absl::StrCat("chunk_bytes must be between 1024 and 4194304, got ", config.chunk_bytes()));
  }
  if (config.timeout_ms() < 100) return absl::InvalidArgumentError("timeout_ms must be >= 100");
  if (config.connect_timeout_ms() < 10) {
    return absl::InvalidArgumentError("connect_timeout_ms must be >= 10");
  }
  absl::StatusOr<LogLevel> level = ParseLogLevel(config.log_level());
  if (!level.ok()) return level.status();
  return absl::OkStatus();
}

absl::StatusOr<v1::AgentConfig> LoadAgentConfig(const std::string& config_file,
                                                const std::vector<std::string>& sets) {
  v1::AgentConfig config = DefaultAgentConfig();
  if (!config_file.empty()) VMSCAN_RETURN_IF_ERROR(MergeConfigFile(config_file, &config));
  for (const std::string& set : sets) VMSCAN_RETURN_IF_ERROR(ApplyOverride(set, &config));
  VMSCAN_RETURN_IF_ERROR(ValidateAgentConfig(config));
  return config;
}

}  // namespace vmscan
