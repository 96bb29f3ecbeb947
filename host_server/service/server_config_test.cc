#include "host_server/service/server_config.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace vmscan {
namespace {

TEST(ServerConfigTest, DefaultsAreValidAndDocumented) {
  v1::ServerConfig config = DefaultServerConfig();
  EXPECT_TRUE(ValidateServerConfig(config).ok());
  EXPECT_EQ(config.listen(), "127.0.0.1:7350");
  EXPECT_EQ(config.limits().max_message_bytes(), 50ull << 20);
  EXPECT_EQ(config.mail_antivirus().action_on_threat(), v1::ActionOnThreat::AUTO);
  EXPECT_EQ(config.mail_antivirus().on_unscannable(), v1::OnUnscannable::DELIVER_WITH_HEADER);
  EXPECT_EQ(config.backup().max_age_days(), 30u);
  EXPECT_EQ(config.backup().max_total_bytes(), 1ull << 30);
  EXPECT_GE(config.workers(), 1u);
  EXPECT_EQ(config.max_inflight_bytes(), 1ull << 30);
  config.set_max_inflight_bytes(0);  // no bound
  EXPECT_TRUE(ValidateServerConfig(config).ok());
}

TEST(ServerConfigTest, ErrorsNameTheField) {
  struct Case {
    void (*mutate)(v1::ServerConfig*);
    const char* field;
  };
  const Case cases[] = {
      {[](v1::ServerConfig* c) { c->set_workers(0); }, "workers"},
      {[](v1::ServerConfig* c) { c->set_listen(""); }, "listen"},
      {[](v1::ServerConfig* c) { c->set_state_dir(""); }, "state_dir"},
      {[](v1::ServerConfig* c) { c->mutable_limits()->set_max_message_bytes(0); },
       "limits.max_message_bytes"},
      {[](v1::ServerConfig* c) { c->set_scan_deadline_ms(5); }, "scan_deadline_ms"},
      {[](v1::ServerConfig* c) { c->mutable_limits()->set_max_file_bytes(1 << 20); },
       "limits.max_file_bytes"},
      {[](v1::ServerConfig* c) { c->set_log_level("loud"); }, "log level"},
      {[](v1::ServerConfig* c) { c->set_max_inflight_bytes(1 << 20); }, "max_inflight_bytes"},
      {[](v1::ServerConfig* c) { c->mutable_scheduler()->set_max_vm_share_percent(0); },
       "scheduler.max_vm_share_percent"},
      {[](v1::ServerConfig* c) { c->mutable_scheduler()->set_max_vm_share_percent(101); },
       "scheduler.max_vm_share_percent"},
      // 10% of 100 MiB cannot hold one 50 MiB message.
      {[](v1::ServerConfig* c) {
         c->set_max_inflight_bytes(100 << 20);
         c->mutable_scheduler()->set_max_vm_share_percent(10);
       },
       "scheduler.max_vm_share_percent"},
      {[](v1::ServerConfig* c) { c->mutable_scheduler()->set_quantum_bytes(0); },
       "scheduler.quantum_bytes"},
      {[](v1::ServerConfig* c) { c->mutable_engine()->set_reload_nice(20); }, "engine.reload_nice"},
      {[](v1::ServerConfig* c) { c->mutable_engine()->set_watch_interval_ms(5); },
       "engine.watch_interval_ms"},
      // Plaintext beyond loopback, or without insecure_loopback, or half a TLS set-up.
      {[](v1::ServerConfig* c) { c->set_listen("0.0.0.0:7350"); }, "tls.cert_file"},
      {[](v1::ServerConfig* c) { c->mutable_tls()->set_insecure_loopback(false); },
       "tls.insecure_loopback"},
      {[](v1::ServerConfig* c) { c->mutable_tls()->set_cert_file("svm.pem"); }, "tls.key_file"},
  };
  for (const Case& c : cases) {
    v1::ServerConfig config = DefaultServerConfig();
    c.mutate(&config);
    absl::Status status = ValidateServerConfig(config);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_TRUE(absl::StrContains(status.message(), c.field)) << status;
  }
}

// A VM's shares: of the byte budget (0 when there is no bound to share) and of the queue.
TEST(ServerConfigTest, PerVmSharesFollowTheSchedulerPercent) {
  v1::ServerConfig config = DefaultServerConfig();
  EXPECT_TRUE(ValidateServerConfig(config).ok());
  EXPECT_EQ(MaxVmInflightBytes(config), 512ull << 20);  // 50% of 1 GiB
  EXPECT_EQ(MaxVmQueuedScans(config), 32);              // 50% of 64
  config.set_queue_depth(1);
  EXPECT_EQ(MaxVmQueuedScans(config), 1);  // never 0: a VM can always queue one scan
  config.mutable_scheduler()->set_max_vm_share_percent(100);
  EXPECT_EQ(MaxVmInflightBytes(config), 0u);
  EXPECT_EQ(MaxVmQueuedScans(config), 0);
  EXPECT_TRUE(ValidateServerConfig(config).ok());
  config.mutable_scheduler()->set_max_vm_share_percent(50);
  config.set_max_inflight_bytes(0);
  EXPECT_EQ(MaxVmInflightBytes(config), 0u);
  EXPECT_TRUE(ValidateServerConfig(config).ok());
}

}  // namespace
}  // namespace vmscan
