#include "guest_agent/control/fake_agent_control.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <chrono>
#include <filesystem>

#include "absl/strings/str_cat.h"

namespace vmscan {

void FakeSvmTest::SetUp() {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&fake_);
  server_ = builder.BuildAndStart();
  ASSERT_NE(server_, nullptr);
  address_ = absl::StrCat("127.0.0.1:", port);
  state_dir_ = (std::filesystem::path(::testing::TempDir()) /
                ::testing::UnitTest::GetInstance()->current_test_info()->name())
                   .string();
  std::filesystem::remove_all(state_dir_);
  config_.add_servers(address_);
  config_.mutable_tls()->set_insecure_loopback(true);  // the fake listens on loopback
  config_.set_state_dir(state_dir_);
  config_.set_connect_timeout_ms(1000);
  config_.set_timeout_ms(5000);
  config_.set_heartbeat_interval_ms(100);
  vm_.set_id("vm-1");
  vm_.set_name("desk-1");
}

void FakeSvmTest::TearDown() { StopSvm(); }

void FakeSvmTest::StopSvm() {
  if (server_) server_->Shutdown(std::chrono::system_clock::now());
  server_.reset();
}

}  // namespace vmscan
