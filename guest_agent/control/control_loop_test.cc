// ControlLoop and AgentControlClient against a fake AgentControl served by real gRPC on a
// loopback port: registration with the local settings file, heartbeats, re-registration after
// NOT_FOUND, the settings stream into settings.json, prompt stops.
#include "guest_agent/control/control_loop.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "guest_agent/control/agent_control_client.h"
#include "guest_agent/control/fake_agent_control.h"
#include "guest_agent/settings/settings_files.h"

namespace vmscan {
namespace {

class ControlLoopTest : public FakeSvmTest {
 protected:
  // Waits up to `limit` for `done`.
  template <typename F>
  bool Eventually(F done, absl::Duration limit = absl::Seconds(5)) {
    const absl::Time end = absl::Now() + limit;
    while (absl::Now() < end) {
      if (done()) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return done();
  }
  std::string CachedAction() {
    absl::StatusOr<std::optional<v1::VmSettings>> cached = ReadCachedSettings(state_dir_);
    if (!cached.ok() || !cached->has_value() || (*cached)->effective().empty()) return "";
    return (*cached)->effective(0).value();
  }
};

TEST_F(ControlLoopTest, RegistersHeartbeatsWatchesAndSaysGoodbye) {
  v1::MailAntivirusSettings local;
  local.set_action_on_threat(v1::ActionOnThreat::BLOCK);
  ASSERT_TRUE(WriteLocalSettings(state_dir_, local).ok());
  std::unique_ptr<ControlLoop> loop = ControlLoop::Start(config_, vm_, "kvm");
  ASSERT_TRUE(Eventually([&] { return loop->registered(); }));
  std::vector<v1::RegisterRequest> registrations = fake_.registrations();
  ASSERT_EQ(registrations.size(), 1u);
  EXPECT_EQ(registrations[0].vm().id(), "vm-1");
  EXPECT_EQ(registrations[0].hypervisor_type(), "kvm");
  EXPECT_EQ(registrations[0].agent_version(), VMSCAN_VERSION);
  EXPECT_EQ(registrations[0].local().action_on_threat(), v1::ActionOnThreat::BLOCK);
  EXPECT_TRUE(Eventually([&] { return CachedAction() == "BLOCK"; }));
  EXPECT_TRUE(Eventually([&] { return fake_.heartbeats() >= 3; }));

  // The local setting goes (as `settings set --unset` makes it go); the policy's value arrives by
  // the stream and lands in settings.json quickly.
  v1::SettingChange unset;
  unset.set_key("action_on_threat");
  unset.set_unset(true);
  ASSERT_TRUE(AgentControlClient::Create(config_)->UpdateLocalSettings("vm-1", {unset}).ok());
  fake_.SetPolicyAction("DELETE");
  EXPECT_TRUE(Eventually([&] { return CachedAction() == "DELETE"; }, absl::Seconds(1)));

  const absl::Time stop_start = absl::Now();
  loop->Stop();
  EXPECT_LT(absl::Now() - stop_start, absl::Seconds(2));
  EXPECT_EQ(fake_.unregistered(), std::vector<std::string>{"vm-1"});
}

TEST_F(ControlLoopTest, RegistersAgainWhenTheSvmForgetsTheVm) {
  std::unique_ptr<ControlLoop> loop = ControlLoop::Start(config_, vm_, "kvm");
  ASSERT_TRUE(Eventually([&] { return fake_.registrations().size() == 1; }));
  fake_.Forget();  // as after `vmscanctl vms delete`
  EXPECT_TRUE(Eventually([&] { return fake_.registrations().size() == 2; }));
}

TEST_F(ControlLoopTest, HeartbeatRevisionCatchesAStaleStream) {
  fake_.MuteWatches(true);
  std::unique_ptr<ControlLoop> loop = ControlLoop::Start(config_, vm_, "kvm");
  ASSERT_TRUE(Eventually([&] { return CachedAction() == "AUTO"; }));
  const int opened = fake_.watches_opened();
  fake_.SetPolicyAction("DELETE");  // the stream stays silent; heartbeats see the new revision
  EXPECT_TRUE(Eventually([&] { return CachedAction() == "DELETE"; }, absl::Seconds(3)));
  EXPECT_TRUE(Eventually([&] { return fake_.watches_opened() > opened; }));  // reopened
}

TEST_F(ControlLoopTest, StopsPromptlyDuringLongWaits) {
  config_.set_heartbeat_interval_ms(3600000);
  std::unique_ptr<ControlLoop> loop = ControlLoop::Start(config_, vm_, "kvm");
  ASSERT_TRUE(Eventually([&] { return loop->registered(); }));
  absl::SleepFor(absl::Milliseconds(200));  // in the heartbeat sleep and the stream read
  absl::Time start = absl::Now();
  loop->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));

  // No SVM at all: registration retries in the background; Stop is still prompt and sends no
  // goodbye.
  v1::AgentConfig nowhere = config_;
  nowhere.set_servers(0, "127.0.0.1:1");
  nowhere.set_connect_timeout_ms(3000);
  std::unique_ptr<ControlLoop> lonely = ControlLoop::Start(nowhere, vm_, "kvm");
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_FALSE(lonely->registered());
  start = absl::Now();
  lonely->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
}

}  // namespace
}  // namespace vmscan
