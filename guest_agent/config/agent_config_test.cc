#include "guest_agent/config/agent_config.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmscan {
namespace {

TEST(AgentConfigTest, EmbeddedDefaultsWithoutAFile) {
  absl::StatusOr<v1::AgentConfig> config = LoadAgentConfig("", {});
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->servers_size(), 1);
  EXPECT_EQ(config->servers(0), "127.0.0.1:7350");
  EXPECT_EQ(config->chunk_bytes(), 256u * 1024);
}

TEST(AgentConfigTest, FileThenOverrides) {
  std::string path = ::testing::TempDir() + "/agent_config_test.yaml";
  std::ofstream(path) << "servers: [\"10.0.0.5:7350\", \"10.0.0.6:7350\"]\nvm:\n  name: desk-1\n"
                         "tls: {cert_file: vm.pem, key_file: vm.key, ca_file: ca.pem}\n";
  absl::StatusOr<v1::AgentConfig> config = LoadAgentConfig(path, {"vm.id=abc"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->servers_size(), 2);
  EXPECT_EQ(config->vm().name(), "desk-1");
  EXPECT_EQ(config->vm().id(), "abc");
  EXPECT_EQ(config->tls().cert_file(), "vm.pem");
}

TEST(AgentConfigTest, PlaintextOnlyToLoopbackSvms) {
  EXPECT_TRUE(LoadAgentConfig("", {"servers=127.0.0.1:7350,[::1]:7351"}).ok());
  absl::StatusOr<v1::AgentConfig> remote =
      LoadAgentConfig("", {"servers=127.0.0.1:7350,10.0.0.5:7350"});
  ASSERT_FALSE(remote.ok());
  EXPECT_THAT(std::string(remote.status().message()),
              ::testing::HasSubstr("10.0.0.5:7350 is not a loopback address"));
  EXPECT_THAT(std::string(remote.status().message()), ::testing::HasSubstr("tls.cert_file"));
  absl::StatusOr<v1::AgentConfig> off = LoadAgentConfig("", {"tls.insecure_loopback=false"});
  ASSERT_FALSE(off.ok());
  EXPECT_THAT(std::string(off.status().message()),
              ::testing::HasSubstr("tls.insecure_loopback: true"));
}

TEST(AgentConfigTest, BadValuesAreRefusedWithTheFieldName) {
  absl::StatusOr<v1::AgentConfig> no_port = LoadAgentConfig("", {"servers=localhost"});
  EXPECT_EQ(no_port.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(no_port.status().message(), "servers")) << no_port.status();
  absl::StatusOr<v1::AgentConfig> empty = LoadAgentConfig("", {"servers="});
  EXPECT_FALSE(empty.ok());
  absl::StatusOr<v1::AgentConfig> typo = LoadAgentConfig("", {"vm.idd=1"});
  EXPECT_FALSE(typo.ok());
  EXPECT_TRUE(absl::StrContains(typo.status().message(), "vm.idd")) << typo.status();
}

TEST(AgentConfigTest, InterceptorDefaultsAndValidation) {
  absl::StatusOr<v1::AgentConfig> config = LoadAgentConfig("", {});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->on_no_scanner(), v1::OnNoScanner::TEMPFAIL);
  EXPECT_TRUE(config->smtp_proxy().listen().empty());
  EXPECT_EQ(config->smtp_proxy().max_message_bytes(), 50u << 20);
  EXPECT_EQ(config->smtp_proxy().bare_line_endings(), v1::BareLineEndings::REJECT);
  EXPECT_TRUE(config->milter().listen().empty());

  absl::StatusOr<v1::AgentConfig> no_upstream = LoadAgentConfig("", {"smtp_proxy.listen=:10025"});
  EXPECT_TRUE(absl::StrContains(no_upstream.status().message(), "smtp_proxy.upstream"))
      << no_upstream.status();
  absl::StatusOr<v1::AgentConfig> half_tls = LoadAgentConfig(
      "", {"smtp_proxy.listen=:10025", "smtp_proxy.upstream=mx:587", "smtp_proxy.tls_cert_file=x"});
  EXPECT_FALSE(half_tls.ok());
  absl::StatusOr<v1::AgentConfig> bad_socket = LoadAgentConfig("", {"milter.listen=8894"});
  EXPECT_TRUE(absl::StrContains(bad_socket.status().message(), "milter.listen"));
  absl::StatusOr<v1::AgentConfig> good = LoadAgentConfig(
      "", {"milter.listen=inet:127.0.0.1:8894", "milter.local_networks=10.0.0.0/8,::1",
           "on_no_scanner=DELIVER_UNSCANNED"});
  EXPECT_TRUE(good.ok()) << good.status();
}

TEST(AgentConfigTest, HeartbeatIntervalDefaultAndRange) {
  absl::StatusOr<v1::AgentConfig> config = LoadAgentConfig("", {});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->heartbeat_interval_ms(), 10000u);
  absl::StatusOr<v1::AgentConfig> fast = LoadAgentConfig("", {"heartbeat_interval_ms=5"});
  EXPECT_TRUE(absl::StrContains(fast.status().message(), "heartbeat_interval_ms")) << fast.status();
  EXPECT_TRUE(LoadAgentConfig("", {"heartbeat_interval_ms=300"}).ok());
}

TEST(AgentConfigTest, TheShippedExampleLoads) {
  absl::StatusOr<v1::AgentConfig> config =
      LoadAgentConfig(VMSCAN_SOURCE_DIR "/deploy/config/agent.yaml", {});
  EXPECT_TRUE(config.ok()) << config.status();
}

}  // namespace
}  // namespace vmscan
