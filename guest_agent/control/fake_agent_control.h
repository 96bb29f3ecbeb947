// FakeAgentControl: the SVM's AgentControl service in memory, for tests of the agent's control
// plane (AgentControlClient, ControlLoop, `vmscan-agent settings`). It keeps one VM's
// registrations, heartbeats and local settings; action_on_threat follows the local setting, else
// the policy the test sets; on_unscannable is locked by "Managed devices/Finance" (changing it is
// FAILED_PRECONDITION). Thread-safe: gRPC calls it from its threads, the test from its own.
//
// FakeSvmTest serves one over real gRPC on a free loopback port and gives each test an agent
// config pointing at it, with a fresh state dir:
//
//   class MyTest : public FakeSvmTest {};
//   TEST_F(MyTest, X) { ... AgentControlClient::Create(config_) ... fake_.registrations() ... }
#ifndef VMSCAN_GUEST_AGENT_CONTROL_FAKE_AGENT_CONTROL_H_
#define VMSCAN_GUEST_AGENT_CONTROL_FAKE_AGENT_CONTROL_H_

#include <grpcpp/server.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "vmscan/v1/config.pb.h"
#include "vmscan/v1/control.grpc.pb.h"

namespace vmscan {

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

class FakeSvmTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Shuts the fake SVM down: from now on no SVM is reachable.
  void StopSvm();

  FakeAgentControl fake_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;     // "127.0.0.1:PORT" of the fake
  std::string state_dir_;   // fresh per test, not created
  v1::AgentConfig config_;  // servers = the fake, state_dir_, short timeouts, 100 ms heartbeats
  v1::VmIdentity vm_;       // vm-1, desk-1
};

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_CONTROL_FAKE_AGENT_CONTROL_H_
