// ControlLoop, ControlClient and `vmscan-agent settings` against a fake AgentControl served by
// real gRPC on a loopback port: registration with the local settings file, heartbeats,
// re-registration after NOT_FOUND, the settings stream into settings.json, prompt stops, and the
// exit codes of `settings show|set`.
#include "guest_agent/control/control_loop.h"

#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "guest_agent/control/control_client.h"
#include "guest_agent/control/settings_command.h"
#include "guest_agent/settings/settings_files.h"

namespace vmscan {
namespace {

class FakeAgentControl final : public v1::AgentControl::Service {
 public:
  grpc::Status Register(grpc::ServerContext*, const v1::RegisterRequest* request,
                        v1::VmSettings* reply) override {
    absl::MutexLock lock(&mu_);
    registrations_.push_back(*request);
    known_ = true;
    if (request->has_local()) local_ = request->local();
    *reply = SettingsLocked(request->vm());
    return grpc::Status::OK;
  }
  grpc::Status Heartbeat(grpc::ServerContext*, const v1::HeartbeatRequest*,
                         v1::HeartbeatResponse* reply) override {
    absl::MutexLock lock(&mu_);
    ++heartbeats_;
    if (!known_) return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown VM");
    reply->set_revision(revision_);
    return grpc::Status::OK;
  }
  grpc::Status Unregister(grpc::ServerContext*, const v1::HeartbeatRequest* request,
                          v1::HeartbeatResponse*) override {
    absl::MutexLock lock(&mu_);
    unregistered_.push_back(request->vm_id());
    return grpc::Status::OK;
  }
  grpc::Status WatchSettings(grpc::ServerContext* context, const v1::WatchSettingsRequest* request,
                             grpc::ServerWriter<v1::VmSettings>* writer) override {
    {
      absl::MutexLock lock(&mu_);
      ++watches_opened_;
    }
    uint64_t sent = 0;
    for (;;) {
      v1::VmSettings settings;
      {
        absl::MutexLock lock(&mu_);
        const uint64_t seen = sent;
        auto changed = [this, seen]()
                           ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return revision_ != seen; };
        mu_.AwaitWithTimeout(absl::Condition(&changed), absl::Milliseconds(50));
        if (context->IsCancelled()) return grpc::Status::CANCELLED;
        if (revision_ == sent || (mute_watches_ && sent != 0)) continue;
        v1::VmIdentity vm;
        vm.set_id(request->vm_id());
        settings = SettingsLocked(vm);
        sent = revision_;
      }
      if (!writer->Write(settings)) return grpc::Status::CANCELLED;
    }
  }
  grpc::Status GetSettings(grpc::ServerContext*, const v1::GetSettingsRequest* request,
                           v1::VmSettings* reply) override {
    absl::MutexLock lock(&mu_);
    if (!known_) return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown VM");
    v1::VmIdentity vm;
    vm.set_id(request->vm_id());
    *reply = SettingsLocked(vm);
    return grpc::Status::OK;
  }
  grpc::Status UpdateLocalSettings(grpc::ServerContext*,
                                   const v1::UpdateLocalSettingsRequest* request,
                                   v1::VmSettings* reply) override {
    absl::MutexLock lock(&mu_);
    for (const v1::SettingChange& change : request->changes()) {
      if (change.key() == "on_unscannable") {
        return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                            "setting 'on_unscannable' is locked by the policy of group "
                            "'Managed devices/Finance'");
      }
    }
    for (const v1::SettingChange& change : request->changes()) {
      if (change.key() != "action_on_threat") continue;
      if (change.unset()) {
        local_.clear_action_on_threat();
      } else {
        // Like the SVM, refuse what is not a value rather than store an indeterminate one.
        v1::ActionOnThreat::Value value = v1::ActionOnThreat::UNSPECIFIED;
        if (!v1::ActionOnThreat::Value_Parse(change.value(), &value) ||
            value == v1::ActionOnThreat::UNSPECIFIED) {
          return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                              "bad value '" + change.value() + "' for 'action_on_threat'");
        }
        local_.set_action_on_threat(value);
      }
    }
    ++revision_;
    v1::VmIdentity vm;
    vm.set_id(request->vm_id());
    *reply = SettingsLocked(vm);
    return grpc::Status::OK;
  }

  // Test controls.
  // Open streams send their first settings, then nothing: a stream broken without an error.
  void MuteWatches(bool mute) {
    absl::MutexLock lock(&mu_);
    mute_watches_ = mute;
  }
  int watches_opened() {
    absl::MutexLock lock(&mu_);
    return watches_opened_;
  }
  void SetPolicyAction(const std::string& action) {
    absl::MutexLock lock(&mu_);
    policy_action_ = action;
    ++revision_;
  }
  void Forget() {
    absl::MutexLock lock(&mu_);
    known_ = false;
  }
  std::vector<v1::RegisterRequest> registrations() {
    absl::MutexLock lock(&mu_);
    return registrations_;
  }
  int heartbeats() {
    absl::MutexLock lock(&mu_);
    return heartbeats_;
  }
  std::vector<std::string> unregistered() {
    absl::MutexLock lock(&mu_);
    return unregistered_;
  }
  v1::MailAntivirusSettings local() {
    absl::MutexLock lock(&mu_);
    return local_;
  }

 private:
  v1::VmSettings SettingsLocked(const v1::VmIdentity& vm) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    v1::VmSettings s;
    *s.mutable_vm() = vm;
    s.set_group("Managed devices/Finance");
    s.set_revision(revision_);
    *s.mutable_local() = local_;
    v1::EffectiveSetting* action = s.add_effective();
    action->set_key("action_on_threat");
    if (local_.has_action_on_threat()) {
      action->set_value(v1::ActionOnThreat::Value_Name(local_.action_on_threat()));
      action->mutable_source()->set_kind(v1::SettingSource::LOCAL);
    } else if (policy_action_.empty()) {
      action->set_value("AUTO");
      action->mutable_source()->set_kind(v1::SettingSource::DEFAULT);
    } else {
      action->set_value(policy_action_);
      action->mutable_source()->set_kind(v1::SettingSource::POLICY);
      action->mutable_source()->set_group("Managed devices/Finance");
    }
    v1::EffectiveSetting* unscannable = s.add_effective();
    unscannable->set_key("on_unscannable");
    unscannable->set_value("BLOCK");
    unscannable->mutable_source()->set_kind(v1::SettingSource::LOCKED);
    unscannable->mutable_source()->set_group("Managed devices/Finance");
    v1::LockedSetting* locked = s.add_locked();
    locked->set_key("on_unscannable");
    locked->set_group("Managed devices/Finance");
    return s;
  }

  absl::Mutex mu_;
  bool known_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t revision_ ABSL_GUARDED_BY(mu_) = 1;
  std::string policy_action_ ABSL_GUARDED_BY(mu_);
  v1::MailAntivirusSettings local_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::RegisterRequest> registrations_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> unregistered_ ABSL_GUARDED_BY(mu_);
  int heartbeats_ ABSL_GUARDED_BY(mu_) = 0;
  bool mute_watches_ ABSL_GUARDED_BY(mu_) = false;
  int watches_opened_ ABSL_GUARDED_BY(mu_) = 0;
};

class ControlLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
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
    config_.set_state_dir(state_dir_);
    config_.set_connect_timeout_ms(1000);
    config_.set_timeout_ms(5000);
    config_.set_heartbeat_interval_ms(100);
    vm_.set_id("vm-1");
    vm_.set_name("desk-1");
  }
  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
  }

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
  std::vector<std::string> Args(std::vector<std::string> words) {
    words.insert(words.end(), {"--set", "servers=" + address_, "--set", "state_dir=" + state_dir_,
                               "--set", "vm.id=vm-1", "--set", "connect_timeout_ms=500"});
    return words;
  }

  FakeAgentControl fake_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  std::string state_dir_;
  v1::AgentConfig config_;
  v1::VmIdentity vm_;
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

  // The local setting goes (as `settings set --unset` would); the policy's value arrives by the
  // stream and lands in settings.json quickly.
  ASSERT_EQ(RunSettingsCommand(Args({"set", "--unset", "action_on_threat"}), std::cout, std::cerr),
            kSettingsExitOk);
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

TEST_F(ControlLoopTest, SettingsCommandExitCodes) {
  std::ostringstream out, err;
  // Not registered yet: the SVM does not know the VM.
  EXPECT_EQ(RunSettingsCommand(Args({"show"}), out, err), kSettingsExitFailed) << err.str();

  ASSERT_TRUE(ControlClient::Create(config_)
                  ->Register([&] {
                    v1::RegisterRequest r;
                    *r.mutable_vm() = vm_;
                    return r;
                  }())
                  .ok());
  out.str("");
  EXPECT_EQ(RunSettingsCommand(Args({"show"}), out, err), kSettingsExitOk) << err.str();
  EXPECT_TRUE(absl::StrContains(out.str(), "group Managed devices/Finance")) << out.str();
  EXPECT_TRUE(absl::StrContains(out.str(), "locked by group Managed devices/Finance")) << out.str();

  // Bad key or value: refused on the VM, nothing sent.
  err.str("");
  EXPECT_EQ(RunSettingsCommand(Args({"set", "action_on_threat=EXPLODE"}), out, err),
            kSettingsExitUsage);
  EXPECT_TRUE(absl::StrContains(err.str(), "EXPLODE")) << err.str();
  EXPECT_EQ(RunSettingsCommand(Args({"set", "--unset", "no_such_key"}), out, err),
            kSettingsExitUsage);
  EXPECT_EQ(RunSettingsCommand(Args({"set"}), out, err), kSettingsExitUsage);

  // Locked: refused by the SVM, naming the group; nothing saved.
  err.str("");
  EXPECT_EQ(RunSettingsCommand(Args({"set", "mail_antivirus.on_unscannable=DELIVER_WITH_HEADER"}),
                               out, err),
            kSettingsExitLocked);
  EXPECT_TRUE(absl::StrContains(err.str(), "Managed devices/Finance")) << err.str();
  EXPECT_FALSE(std::filesystem::exists(LocalSettingsPath(state_dir_)));

  // Accepted: saved locally, effective values printed.
  out.str("");
  EXPECT_EQ(RunSettingsCommand(Args({"set", "mail_antivirus.action_on_threat=delete"}), out, err),
            kSettingsExitOk)
      << err.str();
  EXPECT_TRUE(absl::StrContains(out.str(), "action_on_threat  DELETE  local")) << out.str();
  absl::StatusOr<std::optional<v1::MailAntivirusSettings>> saved = ReadLocalSettings(state_dir_);
  ASSERT_TRUE(saved.ok() && saved->has_value()) << saved.status();
  EXPECT_EQ((*saved)->action_on_threat(), v1::ActionOnThreat::DELETE);
  EXPECT_EQ(fake_.local().action_on_threat(), v1::ActionOnThreat::DELETE);

  // No SVM: show prints the cached settings with a note, set changes nothing; both exit 3.
  server_->Shutdown(std::chrono::system_clock::now());
  server_.reset();
  out.str("");
  err.str("");
  EXPECT_EQ(RunSettingsCommand(Args({"show"}), out, err), kSettingsExitNoScanner);
  EXPECT_TRUE(absl::StrContains(err.str(), "last received")) << err.str();
  EXPECT_TRUE(absl::StrContains(out.str(), "DELETE")) << out.str();
  EXPECT_EQ(RunSettingsCommand(Args({"set", "action_on_threat=BLOCK"}), out, err),
            kSettingsExitNoScanner);
  EXPECT_EQ((*ReadLocalSettings(state_dir_))->action_on_threat(), v1::ActionOnThreat::DELETE);
}

}  // namespace
}  // namespace vmscan
