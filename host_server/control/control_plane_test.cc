#include "host_server/control/control_plane.h"

#include <filesystem>
#include <thread>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "host_server/control/store/lmdb_control_store.h"
#include "tests/testing/test_settings.h"

namespace vmscan {
namespace {

using ::vmscan::testing::CompleteDefaultSettings;

v1::UpdatePolicyRequest Set(std::string group, std::string key, std::string value,
                            v1::SettingChange::Lock lock = v1::SettingChange::KEEP) {
  v1::UpdatePolicyRequest request;
  request.set_group(std::move(group));
  v1::SettingChange* change = request.add_changes();
  change->set_key(std::move(key));
  change->set_value(std::move(value));
  change->set_lock(lock);
  request.set_updated_by("test");
  return request;
}

v1::RegisterRequest Vm(std::string id, std::string name, std::string host = "hv1") {
  v1::RegisterRequest request;
  request.mutable_vm()->set_id(std::move(id));
  request.mutable_vm()->set_name(std::move(name));
  request.mutable_vm()->set_hypervisor_host(std::move(host));
  request.set_hypervisor_type("kvm");
  request.set_agent_version("test");
  return request;
}

class ControlPlaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    Open();
  }
  void Open(std::string default_group = "Managed devices/Unassigned") {
    control_.reset();
    store_.reset();
    LmdbControlStoreOptions store_options;
    store_options.dir = dir_.string();
    absl::StatusOr<std::unique_ptr<LmdbControlStore>> store = LmdbControlStore::Open(store_options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    ControlPlane::Options options;
    options.default_group = default_group;
    options.defaults = CompleteDefaultSettings();
    options.heartbeat_timeout = absl::Seconds(30);
    options.now = [this] {
      absl::MutexLock lock(&clock_mu_);
      return now_;
    };
    absl::StatusOr<std::unique_ptr<ControlPlane>> control =
        ControlPlane::Create(store_.get(), options);
    ASSERT_TRUE(control.ok()) << control.status();
    control_ = std::move(*control);
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&clock_mu_);
    now_ += d;
  }
  std::vector<std::string> GroupPaths() {
    std::vector<std::string> paths;
    absl::StatusOr<std::vector<v1::Group>> groups = control_->ListGroups();
    EXPECT_TRUE(groups.ok()) << groups.status();
    if (!groups.ok()) return paths;
    for (const v1::Group& g : *groups) paths.push_back(g.path());
    return paths;
  }
  v1::ActionOnThreat::Value ActionOf(const std::string& vm_id) {
    v1::VmIdentity vm;
    vm.set_id(vm_id);
    absl::StatusOr<v1::MailAntivirusSettings> s = control_->ScanSettings(vm);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? s->action_on_threat() : v1::ActionOnThreat::UNSPECIFIED;
  }

  std::filesystem::path dir_;
  absl::Mutex clock_mu_;
  absl::Time now_ = absl::FromUnixSeconds(1800000000);
  std::unique_ptr<LmdbControlStore> store_;
  std::unique_ptr<ControlPlane> control_;
};

TEST_F(ControlPlaneTest, RootAndDefaultGroupExistFromTheStart) {
  EXPECT_EQ(GroupPaths(),
            (std::vector<std::string>{"Managed devices", "Managed devices/Unassigned"}));
}

TEST_F(ControlPlaneTest, GroupTreeCreateRenameDeleteWithErrors) {
  ASSERT_TRUE(control_->CreateGroup("Managed devices/Finance").ok());
  ASSERT_TRUE(control_->CreateGroup("Finance/Desktops").ok()) << "the root may be left out";
  EXPECT_TRUE(absl::IsAlreadyExists(control_->CreateGroup("Managed devices/Finance").status()));
  absl::Status missing = control_->CreateGroup("Managed devices/HR/Desktops").status();
  EXPECT_TRUE(absl::IsNotFound(missing)) << missing;
  EXPECT_TRUE(absl::StrContains(missing.message(), "Managed devices/HR")) << missing;
  EXPECT_TRUE(absl::IsInvalidArgument(control_->CreateGroup("Managed devices//x").status()));

  // A cycle: a group cannot move into its own subtree.
  absl::Status cycle =
      control_->RenameGroup("Managed devices/Finance", "Managed devices/Finance/Desktops/F")
          .status();
  EXPECT_TRUE(absl::IsFailedPrecondition(cycle)) << cycle;
  EXPECT_TRUE(absl::IsFailedPrecondition(
      control_->RenameGroup("Managed devices", "Managed devices/Root").status()));

  // Rename moves the subtree, its policy and its VMs along (they refer to the group's id).
  ASSERT_TRUE(
      control_->UpdatePolicy(Set("Managed devices/Finance/Desktops", "action_on_threat", "DELETE"))
          .ok());
  ASSERT_TRUE(control_->Register(Vm("vm-1", "desk-1")).ok());
  ASSERT_TRUE(control_->MoveVm("desk-1", "Managed devices/Finance/Desktops").ok());
  absl::StatusOr<v1::Group> renamed =
      control_->RenameGroup("Managed devices/Finance", "Managed devices/Accounting");
  ASSERT_TRUE(renamed.ok()) << renamed.status();
  EXPECT_EQ(renamed->path(), "Managed devices/Accounting");
  EXPECT_EQ(control_->GetVm("vm-1")->group(), "Managed devices/Accounting/Desktops");
  EXPECT_EQ(ActionOf("vm-1"), v1::ActionOnThreat::DELETE);

  // Non-empty groups are refused, with the reason; nothing is half-deleted.
  absl::Status has_children = control_->DeleteGroup("Managed devices/Accounting");
  EXPECT_TRUE(absl::IsFailedPrecondition(has_children)) << has_children;
  EXPECT_TRUE(absl::StrContains(has_children.message(), "subgroups")) << has_children;
  absl::Status has_vms = control_->DeleteGroup("Managed devices/Accounting/Desktops");
  EXPECT_TRUE(absl::IsFailedPrecondition(has_vms)) << has_vms;
  EXPECT_TRUE(absl::StrContains(has_vms.message(), "desk-1")) << has_vms;
  EXPECT_TRUE(absl::IsFailedPrecondition(control_->DeleteGroup("Managed devices/Unassigned")))
      << "the default group stays";
  EXPECT_TRUE(absl::IsFailedPrecondition(control_->DeleteGroup("Managed devices")));

  ASSERT_TRUE(control_->MoveVm("vm-1", "Managed devices").ok());
  ASSERT_TRUE(control_->DeleteGroup("Managed devices/Accounting/Desktops").ok());
  EXPECT_TRUE(absl::IsNotFound(control_->GetPolicy("Managed devices/Accounting/Desktops").status()))
      << "its policy went with it";
  EXPECT_TRUE(absl::IsNotFound(control_->MoveVm("vm-1", "Managed devices/Nowhere").status()));
}

TEST_F(ControlPlaneTest, PoliciesAreVersionedAndConcurrentEditsAreDetected) {
  ASSERT_TRUE(control_->CreateGroup("Finance").ok());
  absl::StatusOr<v1::Policy> v1 =
      control_->UpdatePolicy(Set("Finance", "action_on_threat", "BLOCK"));
  ASSERT_TRUE(v1.ok()) << v1.status();
  EXPECT_EQ(v1->version(), 1u);
  EXPECT_EQ(v1->group(), "Managed devices/Finance");
  v1::UpdatePolicyRequest second = Set("Finance", "limits.max_files", "100");
  second.set_expected_version(1);
  ASSERT_TRUE(control_->UpdatePolicy(second).ok());
  // Someone else's edit came first: the stale version is refused and nothing changes.
  v1::UpdatePolicyRequest stale = Set("Finance", "action_on_threat", "DELETE");
  stale.set_expected_version(1);
  EXPECT_TRUE(absl::IsAborted(control_->UpdatePolicy(stale).status()));
  // A bad key in a batch applies none of the batch.
  v1::UpdatePolicyRequest bad = Set("Finance", "action_on_threat", "DELETE");
  *bad.add_changes() = Set("", "no_such_key", "1").changes(0);
  EXPECT_TRUE(absl::IsInvalidArgument(control_->UpdatePolicy(bad).status()));
  absl::StatusOr<v1::Policy> now = control_->GetPolicy("Finance");
  EXPECT_EQ(now->version(), 2u);
  EXPECT_EQ(now->settings().action_on_threat(), v1::ActionOnThreat::BLOCK);
  absl::StatusOr<std::vector<v1::Policy>> history = control_->PolicyHistory("Finance", 0);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].version(), 2u);
  EXPECT_EQ((*history)[1].settings().limits().has_max_files(), false);
}

TEST_F(ControlPlaneTest, ConcurrentUpdatesLoseNothing) {
  ASSERT_TRUE(control_->CreateGroup("Finance").ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 5; ++i) {
        absl::StatusOr<v1::Policy> p = control_->UpdatePolicy(
            Set("Finance", "limits.max_files", std::to_string(1000 + t * 10 + i)));
        EXPECT_TRUE(p.ok()) << p.status();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(control_->GetPolicy("Finance")->version(), 40u);
  EXPECT_EQ(control_->PolicyHistory("Finance", 1000)->size(), 40u);
}

TEST_F(ControlPlaneTest, RegistrationPlacesVmsByRulesThenDefault) {
  ASSERT_TRUE(control_->CreateGroup("Finance").ok());
  ASSERT_TRUE(control_->CreateGroup("Lab").ok());
  v1::AssignmentRule by_name;
  by_name.set_vm_name_pattern("fin-*");
  by_name.set_group("Finance");
  ASSERT_TRUE(control_->AddRule(by_name).ok());
  v1::AssignmentRule by_host;
  by_host.set_hypervisor_host_pattern("lab-hv?");
  by_host.set_group("Managed devices/Lab");
  ASSERT_TRUE(control_->AddRule(by_host).ok());
  v1::AssignmentRule empty;
  empty.set_group("Lab");
  EXPECT_TRUE(absl::IsInvalidArgument(control_->AddRule(empty).status()));

  ASSERT_TRUE(control_->Register(Vm("a", "FIN-Desk-7")).ok());
  ASSERT_TRUE(control_->Register(Vm("b", "build-1", "lab-hv2")).ok());
  ASSERT_TRUE(control_->Register(Vm("c", "other", "hv9")).ok());
  EXPECT_EQ(control_->GetVm("a")->group(), "Managed devices/Finance");
  EXPECT_EQ(control_->GetVm("b")->group(), "Managed devices/Lab");
  EXPECT_EQ(control_->GetVm("c")->group(), "Managed devices/Unassigned");
  EXPECT_TRUE(absl::IsFailedPrecondition(control_->DeleteGroup("Lab"))) << "a rule points at it";

  // A VM the administrator moved stays where it was put when it registers again.
  ASSERT_TRUE(control_->MoveVm("a", "Lab").ok());
  ASSERT_TRUE(control_->Register(Vm("a", "FIN-Desk-7")).ok());
  EXPECT_EQ(control_->GetVm("a")->group(), "Managed devices/Lab");
  EXPECT_TRUE(control_->GetVm("a")->placed_by_admin());
  EXPECT_EQ(control_->ListVms("Lab", false)->size(), 2u);
  EXPECT_EQ(control_->ListVms("Managed devices", true)->size(), 3u);
  EXPECT_EQ(control_->ListVms("Managed devices", false)->size(), 0u);
}

TEST_F(ControlPlaneTest, HeartbeatsKeepVmsConnectedUntilTheyStopOrSayGoodbye) {
  ASSERT_TRUE(control_->Register(Vm("a", "one")).ok());
  EXPECT_EQ(control_->GetVm("a")->state(), v1::ConnectionState::CONNECTED);
  Advance(absl::Seconds(20));
  ASSERT_TRUE(control_->Heartbeat("a").ok());
  Advance(absl::Seconds(20));
  EXPECT_EQ(control_->GetVm("a")->state(), v1::ConnectionState::CONNECTED);
  Advance(absl::Seconds(11));
  EXPECT_EQ(control_->GetVm("a")->state(), v1::ConnectionState::DISCONNECTED);
  ASSERT_TRUE(control_->Heartbeat("a").ok());
  EXPECT_EQ(control_->GetVm("a")->state(), v1::ConnectionState::CONNECTED);
  ASSERT_TRUE(control_->Unregister("a").ok());
  EXPECT_EQ(control_->GetVm("a")->state(), v1::ConnectionState::DISCONNECTED);
  // A heartbeat sent before the goodbye but handled after it does not revive the VM; only a
  // new registration does.
  ASSERT_TRUE(control_->Heartbeat("a").ok());
  EXPECT_EQ(control_->GetVm("a")->state(), v1::ConnectionState::DISCONNECTED);
  ASSERT_TRUE(control_->Register(Vm("a", "one")).ok());
  EXPECT_EQ(control_->GetVm("a")->state(), v1::ConnectionState::CONNECTED);
  ASSERT_TRUE(control_->Unregister("a").ok());
  EXPECT_TRUE(absl::IsNotFound(control_->Heartbeat("nobody").status()));
  ASSERT_TRUE(control_->DeleteVm("a").ok());
  EXPECT_TRUE(absl::IsNotFound(control_->Heartbeat("a").status())) << "deleted: register again";
}

TEST_F(ControlPlaneTest, EffectiveSettingsLocksAndLocalSettingsThreeLevelsDeep) {
  ASSERT_TRUE(control_->CreateGroup("Finance").ok());
  ASSERT_TRUE(control_->CreateGroup("Finance/Desktops").ok());
  ASSERT_TRUE(control_->Register(Vm("a", "desk")).ok());
  ASSERT_TRUE(control_->MoveVm("a", "Finance/Desktops").ok());
  ASSERT_TRUE(
      control_
          ->UpdatePolicy(Set("Managed devices", "on_unscannable", "BLOCK", v1::SettingChange::LOCK))
          .ok());
  ASSERT_TRUE(control_->UpdatePolicy(Set("Finance", "action_on_threat", "DELETE")).ok());
  ASSERT_TRUE(
      control_->UpdatePolicy(Set("Finance/Desktops", "on_unscannable", "DELIVER_WITH_HEADER"))
          .ok());

  // The root's lock beats the deeper policy; the local change of an open key wins over policies.
  v1::UpdateLocalSettingsRequest local;
  local.set_vm_id("a");
  v1::SettingChange* change = local.add_changes();
  change->set_key("mail_antivirus.action_on_threat");
  change->set_value("BLOCK");
  absl::StatusOr<v1::VmSettings> settings = control_->UpdateLocalSettings(local);
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->values().action_on_threat(), v1::ActionOnThreat::BLOCK);
  EXPECT_EQ(settings->values().on_unscannable(), v1::OnUnscannable::BLOCK);
  ASSERT_EQ(settings->locked_size(), 1);
  EXPECT_EQ(settings->locked(0).group(), "Managed devices");
  for (const v1::EffectiveSetting& s : settings->effective()) {
    if (s.key() == "action_on_threat") {
      EXPECT_EQ(s.source().kind(), v1::SettingSource::LOCAL);
    }
    if (s.key() == "on_unscannable") {
      EXPECT_EQ(s.source().kind(), v1::SettingSource::LOCKED);
      EXPECT_EQ(s.source().group(), "Managed devices");
    }
  }

  // Finance now locks the action: the local value no longer applies and cannot be changed.
  ASSERT_TRUE(
      control_->UpdatePolicy(Set("Finance", "action_on_threat", "", v1::SettingChange::LOCK)).ok());
  EXPECT_EQ(ActionOf("a"), v1::ActionOnThreat::DELETE);
  change->set_value("AUTO");
  absl::Status refused = control_->UpdateLocalSettings(local).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(refused)) << refused;
  EXPECT_TRUE(absl::StrContains(refused.message(), "Managed devices/Finance")) << refused;
  EXPECT_EQ(control_->Settings("a")->local().action_on_threat(), v1::ActionOnThreat::BLOCK)
      << "the refused change left the local settings as they were";
}

// What the periodic Backup retention reads: each VM's effective backup.* values, a policy's
// only for the VMs under it.
TEST_F(ControlPlaneTest, ListSettingsGivesEveryVmItsOwnEffectiveValues) {
  ASSERT_TRUE(control_->CreateGroup("Short").ok());
  ASSERT_TRUE(control_->Register(Vm("short-vm", "s")).ok());
  ASSERT_TRUE(control_->Register(Vm("normal-vm", "n")).ok());
  ASSERT_TRUE(control_->MoveVm("short-vm", "Short").ok());
  ASSERT_TRUE(control_->UpdatePolicy(Set("Short", "backup.max_total_bytes", "1")).ok());
  absl::StatusOr<std::vector<v1::VmSettings>> all = control_->ListSettings();
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].vm().id(), "normal-vm");
  EXPECT_EQ((*all)[0].values().backup().max_total_bytes(), uint64_t{1} << 30) << "the default";
  EXPECT_EQ((*all)[1].vm().id(), "short-vm");
  EXPECT_EQ((*all)[1].group(), "Managed devices/Short");
  EXPECT_EQ((*all)[1].values().backup().max_total_bytes(), 1u);
  EXPECT_EQ((*all)[1].values().backup().max_age_days(), 30u);
}

TEST_F(ControlPlaneTest, SubscribersHearOnlyChangesThatAffectTheirVm) {
  ASSERT_TRUE(control_->CreateGroup("Finance").ok());
  ASSERT_TRUE(control_->CreateGroup("Lab").ok());
  ASSERT_TRUE(control_->Register(Vm("a", "fin")).ok());
  ASSERT_TRUE(control_->MoveVm("a", "Finance").ok());
  absl::Mutex mu;
  std::vector<v1::VmSettings> heard;
  absl::StatusOr<std::unique_ptr<ControlPlane::Subscription>> subscription =
      control_->Subscribe("a", [&](const v1::VmSettings& s) {
        absl::MutexLock lock(&mu);
        heard.push_back(s);
      });
  ASSERT_TRUE(subscription.ok()) << subscription.status();
  ASSERT_TRUE(control_->UpdatePolicy(Set("Lab", "action_on_threat", "BLOCK")).ok());
  ASSERT_TRUE(control_->UpdatePolicy(Set("Finance", "action_on_threat", "DELETE")).ok());
  {
    absl::MutexLock lock(&mu);
    ASSERT_EQ(heard.size(), 2u) << "the current settings, then Finance's change only";
    EXPECT_EQ(heard[0].values().action_on_threat(), v1::ActionOnThreat::AUTO);
    EXPECT_EQ(heard[1].values().action_on_threat(), v1::ActionOnThreat::DELETE);
  }
  subscription->reset();
  ASSERT_TRUE(control_->UpdatePolicy(Set("Finance", "action_on_threat", "BLOCK")).ok());
  {
    absl::MutexLock lock(&mu);
    EXPECT_EQ(heard.size(), 2u);
  }
  EXPECT_TRUE(
      absl::IsNotFound(control_->Subscribe("nobody", [](const v1::VmSettings&) {}).status()));
}

TEST_F(ControlPlaneTest, ScansOfUnknownVmsAddThemAndEverythingSurvivesARestart) {
  ASSERT_TRUE(control_->CreateGroup("Finance").ok());
  ASSERT_TRUE(control_->UpdatePolicy(Set("Finance", "action_on_threat", "DELETE")).ok());
  v1::AssignmentRule rule;
  rule.set_vm_name_pattern("fin-*");
  rule.set_group("Finance");
  ASSERT_TRUE(control_->AddRule(rule).ok());
  v1::VmIdentity vm;
  vm.set_id("cli-vm");
  vm.set_name("fin-cli");
  absl::StatusOr<v1::MailAntivirusSettings> s = control_->ScanSettings(vm);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->action_on_threat(), v1::ActionOnThreat::DELETE);
  EXPECT_EQ(control_->GetVm("cli-vm")->state(), v1::ConnectionState::DISCONNECTED)
      << "a scan alone is not a connected agent";

  Open();
  EXPECT_EQ(control_->GetVm("fin-cli")->group(), "Managed devices/Finance");
  EXPECT_EQ(control_->GetPolicy("Finance")->version(), 1u);
  EXPECT_EQ(control_->ListRules()->rules_size(), 1);
  EXPECT_EQ(ActionOf("cli-vm"), v1::ActionOnThreat::DELETE);
}

}  // namespace
}  // namespace vmscan
