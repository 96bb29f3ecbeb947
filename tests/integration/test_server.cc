#include "tests/integration/test_server.h"

#include <unistd.h>

#include <atomic>

#include "absl/strings/str_cat.h"
#include "common/config/config_loader.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "guest_agent/config/agent_config.h"
#include "host_server/service/server_config.h"
#include "tests/testing/test_mail.h"

namespace vmscan::testing {

absl::StatusOr<v1::ServerConfig> TestServerConfig(const std::vector<std::string>& sets) {
  static std::atomic<int> counter{0};
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              absl::StrCat("vmscan-test-", getpid(), "-", counter++);
  std::filesystem::remove_all(dir);
  v1::ServerConfig config = DefaultServerConfig();
  config.set_listen("127.0.0.1:0");
  config.set_state_dir(dir.string());
  config.set_signatures_dir(SourcePath("deploy/signatures"));
  config.set_workers(2);
  config.set_log_level("warning");
  for (const std::string& set : sets) VMSCAN_RETURN_IF_ERROR(ApplyOverride(set, &config));
  SetLogLevel(*ParseLogLevel(config.log_level()));  // what vmscan-server's main does
  return config;
}

absl::StatusOr<std::unique_ptr<HostServer>> StartTestServer(const std::vector<std::string>& sets) {
  VMSCAN_ASSIGN_OR_RETURN(v1::ServerConfig config, TestServerConfig(sets));
  return HostServer::Start(config);
}

std::unique_ptr<ScanClient> ClientFor(const HostServer& server) {
  v1::AgentConfig config = DefaultAgentConfig();
  config.clear_servers();
  config.add_servers(server.address());
  config.set_timeout_ms(60000);
  return ScanClient::Create(config);
}

v1::ScanMetadata TestMetadata(v1::Channel channel, v1::Direction direction) {
  v1::ScanMetadata metadata;
  metadata.mutable_vm()->set_id("test-vm-1");
  metadata.mutable_vm()->set_name("test-vm");
  metadata.set_channel(channel);
  metadata.set_direction(direction);
  return metadata;
}

}  // namespace vmscan::testing
