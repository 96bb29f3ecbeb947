// vmscanctl's control-plane commands as an administrator runs them: the real vmscanctl binary
// against a real host server (in-process, real gRPC on a free loopback port, real LMDB control
// store) — groups, policies with locks and versions, the VM inventory, effective settings and
// assignment rules — with bad input (non-empty group, rename into the group's own
// subtree, missing parent, stale --if-version, unknown key). VMs join the inventory the way an
// agent's registration makes them join (ControlPlane::Register, which AgentControl.Register
// calls); the agent's side is tested with real agents elsewhere.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/test_server.h"
#include "tests/integration/vmscanctl_runner.h"
#include "tests/testing/test_mail.h"
#include "vmscan/v1/control.pb.h"
#include "vmscan/v1/inventory.pb.h"
#include "vmscan/v1/policy.pb.h"

namespace vmscan::testing {
namespace {

using ::testing::ContainsRegex;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::Not;

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

class VmscanctlControlTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<HostServer>> server = StartTestServer();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  // Runs vmscanctl with `args` (a shell command line: quote paths with spaces).
  static CommandRun Ctl(const std::string& args, const std::string& env = "SUDO_USER=alice") {
    return RunVmscanctl(server_->address(), args, env);
  }

  static v1::Policy PolicyOf(const std::string& group) {
    CommandRun run = Ctl("--json policy show '" + group + "'");
    EXPECT_EQ(run.exit_code, 0) << run.err;
    return FromJson<v1::Policy>(run.out);
  }

  // A VM joins the inventory as its agent's registration makes it join.
  static void Register(const std::string& id, const std::string& name, const std::string& host) {
    v1::RegisterRequest request;
    request.mutable_vm()->set_id(id);
    request.mutable_vm()->set_name(name);
    request.mutable_vm()->set_hypervisor_host(host);
    request.set_hypervisor_type("kvm");
    request.set_agent_version("0.1.0-test");
    absl::StatusOr<v1::VmSettings> settings = server_->control()->Register(request);
    ASSERT_TRUE(settings.ok()) << settings.status();
  }

  static HostServer* server_;
};

HostServer* VmscanctlControlTest::server_ = nullptr;

TEST_F(VmscanctlControlTest, GroupsCreateListRenameDelete) {
  CommandRun created = Ctl("groups create 'Managed devices/Finance'");
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_EQ(created.out, "created group Managed devices/Finance\n");
  ASSERT_EQ(Ctl("groups create 'Managed devices/Finance/Desktops'").exit_code, 0);
  ASSERT_EQ(Ctl("groups create 'Finance Team'").exit_code, 0);  // the root may be left out

  CommandRun list = Ctl("groups list");
  ASSERT_EQ(list.exit_code, 0) << list.err;
  std::vector<std::string> lines = Lines(list.out);
  ASSERT_GE(lines.size(), 5u) << list.out;
  EXPECT_THAT(lines[0], HasSubstr("PATH"));
  EXPECT_THAT(lines[0], HasSubstr("SUBGROUPS"));
  // Tree order: Finance's subgroup comes before Finance Team.
  size_t finance = 0, desktops = 0, team = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].rfind("Managed devices/Finance  ", 0) == 0) finance = i;
    if (lines[i].rfind("Managed devices/Finance/Desktops", 0) == 0) desktops = i;
    if (lines[i].rfind("Managed devices/Finance Team", 0) == 0) team = i;
  }
  EXPECT_GT(finance, 0u) << list.out;
  EXPECT_EQ(desktops, finance + 1) << list.out;
  EXPECT_GT(team, desktops) << list.out;
  EXPECT_THAT(lines[finance], MatchesRegex("Managed devices/Finance +0 +1 +no"));

  const v1::ListGroupsResponse groups =
      FromJson<v1::ListGroupsResponse>(Ctl("--json groups list").out);
  bool root_seen = false;
  for (const v1::Group& g : groups.groups()) root_seen |= g.path() == "Managed devices";
  EXPECT_TRUE(root_seen);

  // Bad input, each with the server's reason and nothing changed.
  CommandRun again = Ctl("groups create 'Managed devices/Finance'");
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_THAT(again.err, HasSubstr("already exists"));
  CommandRun orphan = Ctl("groups create 'Managed devices/Nowhere/Child'");
  EXPECT_EQ(orphan.exit_code, 1);  // the server answers NOT_FOUND for the missing parent
  EXPECT_THAT(orphan.err, HasSubstr("not found"));
  EXPECT_THAT(orphan.err, HasSubstr("Managed devices/Nowhere"));
  CommandRun malformed = Ctl("groups create 'Managed devices//x'");
  EXPECT_EQ(malformed.exit_code, 64);
  EXPECT_THAT(malformed.err, HasSubstr("invalid request"));
  CommandRun cycle =
      Ctl("groups rename 'Managed devices/Finance' 'Managed devices/Finance/Desktops/F'");
  EXPECT_EQ(cycle.exit_code, 2);
  EXPECT_THAT(cycle.err, HasSubstr("inside the group itself"));
  CommandRun non_empty = Ctl("groups delete 'Managed devices/Finance'");
  EXPECT_EQ(non_empty.exit_code, 2);
  EXPECT_THAT(non_empty.err, HasSubstr("refused (FAILED_PRECONDITION)"));
  EXPECT_THAT(non_empty.err, HasSubstr("is not empty"));
  EXPECT_EQ(Ctl("groups delete 'Managed devices'").exit_code, 2);  // the root stays
  EXPECT_THAT(Ctl("groups list").out, HasSubstr("Managed devices/Finance/Desktops"));

  CommandRun renamed =
      Ctl("groups rename 'Managed devices/Finance/Desktops' 'Managed devices/Finance/Laptops'");
  ASSERT_EQ(renamed.exit_code, 0) << renamed.err;
  EXPECT_EQ(renamed.out,
            "renamed group Managed devices/Finance/Desktops to Managed devices/Finance/Laptops\n");
  list = Ctl("groups list");
  EXPECT_THAT(list.out, HasSubstr("Managed devices/Finance/Laptops"));
  EXPECT_THAT(list.out, Not(HasSubstr("Desktops")));

  CommandRun deleted = Ctl("groups delete 'Managed devices/Finance/Laptops'");
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_EQ(deleted.out, "deleted group Managed devices/Finance/Laptops\n");
  CommandRun json = Ctl("--json groups delete 'Managed devices/Finance'");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_THAT(json.out, HasSubstr("\"deleted\":true"));
  CommandRun gone = Ctl("groups delete 'Managed devices/Finance'");
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_THAT(gone.err, HasSubstr("no group 'Managed devices/Finance'"));
  EXPECT_EQ(Ctl("groups delete 'Finance Team'").exit_code, 0);
}

TEST_F(VmscanctlControlTest, PolicySetShowUnsetHistoryWithLocks) {
  const std::string group = "Managed devices/Policies";
  ASSERT_EQ(Ctl("groups create '" + group + "'").exit_code, 0);
  CommandRun empty = Ctl("policy show '" + group + "'");
  ASSERT_EQ(empty.exit_code, 0) << empty.err;
  EXPECT_THAT(empty.out, HasSubstr("version  0: no policy"));

  // Two keys at once, both locked, one version; values are checked and sent canonical.
  CommandRun set = Ctl("policy set '" + group +
                       "' mail_antivirus.action_on_threat=delete limits.max_files=100 --lock");
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_EQ(set.out, "policy of " + group + " is now at version 1\n");
  v1::Policy policy = PolicyOf(group);
  EXPECT_EQ(policy.version(), 1u);
  EXPECT_EQ(policy.settings().action_on_threat(), v1::ActionOnThreat::DELETE);
  EXPECT_EQ(policy.settings().limits().max_files(), 100u);
  EXPECT_THAT(policy.locked(), ElementsAre("action_on_threat", "limits.max_files"));
  EXPECT_EQ(policy.updated_by(), "alice");  // $SUDO_USER

  // Only a lock: the value stays. A lock on a key the policy does not set locks the inherited
  // value.
  ASSERT_EQ(Ctl("policy set '" + group + "' limits.max_files --unlock").exit_code, 0);
  ASSERT_EQ(
      Ctl("policy set '" + group + "' on_unscannable --lock", "SUDO_USER= USER=bob").exit_code, 0);
  policy = PolicyOf(group);
  EXPECT_EQ(policy.version(), 3u);
  EXPECT_EQ(policy.settings().limits().max_files(), 100u);
  EXPECT_THAT(policy.locked(), ElementsAre("action_on_threat", "on_unscannable"));
  EXPECT_EQ(policy.updated_by(), "bob");  // $USER without sudo
  CommandRun show = Ctl("policy show '" + group + "'");
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_THAT(show.out, HasSubstr("version  3, updated "));
  EXPECT_THAT(show.out, HasSubstr(" by bob\n"));
  EXPECT_THAT(show.out, ContainsRegex("action_on_threat +DELETE +yes\n"));
  EXPECT_THAT(show.out, ContainsRegex("on_unscannable +\\(inherited\\) +yes\n"));
  EXPECT_THAT(show.out, ContainsRegex("limits.max_files +100 +no\n"));

  CommandRun unset = Ctl("--json policy unset '" + group + "' limits.max_files");
  ASSERT_EQ(unset.exit_code, 0) << unset.err;
  policy = FromJson<v1::Policy>(unset.out);
  EXPECT_EQ(policy.version(), 4u);
  EXPECT_FALSE(policy.settings().limits().has_max_files());

  // A stale --if-version is refused whole: exit 2 with the server's reason, nothing applied.
  CommandRun stale =
      Ctl("policy set '" + group + "' action_on_threat=BLOCK enabled=false --if-version 1");
  EXPECT_EQ(stale.exit_code, 2);
  EXPECT_THAT(stale.err, HasSubstr("conflict (ABORTED)"));
  EXPECT_THAT(stale.err, HasSubstr("version 4"));
  policy = PolicyOf(group);
  EXPECT_EQ(policy.version(), 4u);
  EXPECT_EQ(policy.settings().action_on_threat(), v1::ActionOnThreat::DELETE);
  EXPECT_FALSE(policy.settings().has_enabled());
  ASSERT_EQ(Ctl("policy set '" + group + "' action_on_threat=BLOCK --if-version 4").exit_code, 0);
  EXPECT_EQ(PolicyOf(group).settings().action_on_threat(), v1::ActionOnThreat::BLOCK);

  // Bad keys and values never reach the server.
  CommandRun typo = Ctl("policy set '" + group + "' action_on_thret=DELETE");
  EXPECT_EQ(typo.exit_code, 64);
  EXPECT_THAT(typo.err, HasSubstr("did you mean 'action_on_threat'?"));
  CommandRun value = Ctl("policy set '" + group + "' on_unscannable=DELETE");
  EXPECT_EQ(value.exit_code, 64);
  EXPECT_THAT(value.err, HasSubstr("on_unscannable"));
  EXPECT_EQ(Ctl("policy unset '" + group + "' limits.max_flies").exit_code, 64);
  EXPECT_EQ(PolicyOf(group).version(), 5u);
  CommandRun missing = Ctl("policy set 'Managed devices/Nope' enabled=false");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("Managed devices/Nope"));
  EXPECT_EQ(Ctl("policy show 'Managed devices/Nope'").exit_code, 1);

  // History: newest first, every version.
  const v1::ListPolicyHistoryResponse history = FromJson<v1::ListPolicyHistoryResponse>(
      Ctl("--json policy history '" + group + "' --limit 2").out);
  ASSERT_EQ(history.versions_size(), 2);
  EXPECT_EQ(history.versions(0).version(), 5u);
  EXPECT_EQ(history.versions(1).version(), 4u);
  CommandRun text = Ctl("policy history '" + group + "'");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  const std::vector<std::string> lines = Lines(text.out);
  ASSERT_EQ(lines.size(), 6u) << text.out;  // header + 5 versions
  EXPECT_THAT(lines[0], HasSubstr("VERSION"));
  EXPECT_THAT(lines[1], HasSubstr("action_on_threat=BLOCK"));
  EXPECT_THAT(lines[5], HasSubstr("action_on_threat=DELETE, limits.max_files=100"));
  EXPECT_THAT(lines[5], HasSubstr("alice"));

  // Unset with --unlock drops value and lock in one version.
  ASSERT_EQ(Ctl("policy unset '" + group + "' action_on_threat on_unscannable --unlock").exit_code,
            0);
  policy = PolicyOf(group);
  EXPECT_FALSE(policy.settings().has_action_on_threat());
  EXPECT_THAT(policy.locked(), IsEmpty());
  EXPECT_EQ(policy.version(), 6u);
}

TEST_F(VmscanctlControlTest, VmsListShowMoveEffectiveDelete) {
  const std::string ops = "Managed devices/Ops";
  ASSERT_EQ(Ctl("groups create '" + ops + "'").exit_code, 0);
  ASSERT_EQ(Ctl("groups create '" + ops + "/Web'").exit_code, 0);
  Register("vm-uuid-1", "desk-1", "hv1");
  Register("vm-uuid-2", "desk-2", "hv2");

  // The root group itself: other tests' VMs are placed elsewhere.
  CommandRun list = Ctl("vms list --group 'Managed devices'");
  ASSERT_EQ(list.exit_code, 0) << list.err;
  std::vector<std::string> lines = Lines(list.out);
  ASSERT_EQ(lines.size(), 4u) << list.out;
  for (const char* column :
       {"NAME", "ID", "GROUP", "STATE", "LAST SEEN", "ACTION", "HYPERVISOR", "AGENT"}) {
    EXPECT_THAT(lines[0], HasSubstr(column));
  }
  EXPECT_THAT(lines[1], HasSubstr("desk-1"));
  EXPECT_THAT(lines[1], HasSubstr("vm-uuid-1"));
  EXPECT_THAT(lines[1], HasSubstr("connected"));
  EXPECT_THAT(lines[1], ContainsRegex("(just now|[0-9]+s ago)"));
  EXPECT_THAT(lines[1], HasSubstr("hv1/kvm"));
  EXPECT_THAT(lines[1], HasSubstr("0.1.0-test"));
  EXPECT_EQ(lines[3], "2 VMs");

  CommandRun moved = Ctl("vms move desk-1 '" + ops + "/Web'");  // by name
  ASSERT_EQ(moved.exit_code, 0) << moved.err;
  EXPECT_EQ(moved.out, "moved VM desk-1 (vm-uuid-1) to group " + ops + "/Web\n");
  EXPECT_EQ(Ctl("vms move vm-uuid-2 'Managed devices/Nope'").exit_code, 1);
  EXPECT_EQ(Ctl("vms move no-such-vm '" + ops + "'").exit_code, 1);

  v1::ListVmsResponse only =
      FromJson<v1::ListVmsResponse>(Ctl("--json vms list --group '" + ops + "'").out);
  EXPECT_TRUE(only.vms().empty());
  only =
      FromJson<v1::ListVmsResponse>(Ctl("--json vms list --group '" + ops + "' --recursive").out);
  ASSERT_EQ(only.vms_size(), 1);
  EXPECT_EQ(only.vms(0).vm().id(), "vm-uuid-1");
  EXPECT_EQ(only.vms(0).group(), ops + "/Web");
  EXPECT_EQ(Ctl("vms list --group 'Managed devices/Nope'").exit_code, 1);

  CommandRun show = Ctl("vms show vm-uuid-1");
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_THAT(show.out, HasSubstr("name        desk-1\n"));
  EXPECT_THAT(show.out, HasSubstr("group       " + ops + "/Web (moved by an administrator)\n"));
  EXPECT_THAT(show.out, HasSubstr("hypervisor  host hv1, type kvm\n"));

  // Where each effective value comes from: a locked parent policy, a child policy, a local
  // setting, the defaults.
  ASSERT_EQ(Ctl("policy set '" + ops + "' on_unscannable=BLOCK --lock").exit_code, 0);
  ASSERT_EQ(Ctl("policy set '" + ops + "/Web' action_on_threat=DELETE").exit_code, 0);
  v1::UpdateLocalSettingsRequest local;
  local.set_vm_id("vm-uuid-1");
  v1::SettingChange* change = local.add_changes();
  change->set_key("backup.max_age_days");
  change->set_value("7");
  ASSERT_TRUE(server_->control()->UpdateLocalSettings(local).ok());
  CommandRun effective = Ctl("vms effective desk-1");
  ASSERT_EQ(effective.exit_code, 0) << effective.err;
  EXPECT_THAT(effective.out, HasSubstr("group  " + ops + "/Web\n"));
  EXPECT_THAT(effective.out, ContainsRegex("on_unscannable +BLOCK +locked by " + ops));
  EXPECT_THAT(effective.out, ContainsRegex("action_on_threat +DELETE +policy of " + ops + "/Web"));
  EXPECT_THAT(effective.out, ContainsRegex("backup.max_age_days +7 +local"));
  EXPECT_THAT(effective.out, ContainsRegex("enabled +true +default"));
  const v1::VmSettings settings =
      FromJson<v1::VmSettings>(Ctl("--json vms effective vm-uuid-1").out);
  EXPECT_EQ(settings.values().action_on_threat(), v1::ActionOnThreat::DELETE);
  EXPECT_THAT(Ctl("vms list").out, ContainsRegex("desk-1 .* DELETE "));

  CommandRun deleted = Ctl("vms delete vm-uuid-2");
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_EQ(deleted.out, "deleted VM vm-uuid-2 from the inventory\n");
  CommandRun gone = Ctl("vms show vm-uuid-2");
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_THAT(gone.err, HasSubstr("vm-uuid-2"));
  EXPECT_EQ(Ctl("vms effective vm-uuid-2").exit_code, 1);

  // A group holding a VM cannot go; the message says which VM.
  CommandRun busy = Ctl("groups delete '" + ops + "/Web'");
  EXPECT_EQ(busy.exit_code, 2);
  EXPECT_THAT(busy.err, HasSubstr("desk-1"));
}

// A server of its own: the inventory of the suite's server fills up.
TEST(VmscanctlControlEmptyTest, VmsListOnAnEmptyInventory) {
  absl::StatusOr<std::unique_ptr<HostServer>> server = StartTestServer();
  ASSERT_TRUE(server.ok()) << server.status();
  auto ctl = [&](const std::string& args) { return RunVmscanctl((*server)->address(), args); };
  CommandRun none = ctl("vms list");
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_EQ(none.out, "no VMs\n");
  CommandRun json = ctl("--json vms list");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_TRUE(FromJson<v1::ListVmsResponse>(json.out).vms().empty());
  CommandRun show = ctl("vms show desk-1");
  EXPECT_EQ(show.exit_code, 1);
  EXPECT_THAT(show.err, HasSubstr("vms show desk-1: not found"));
}

TEST_F(VmscanctlControlTest, RulesAddListPlaceDelete) {
  const std::string lab = "Managed devices/Lab";
  ASSERT_EQ(Ctl("groups create '" + lab + "'").exit_code, 0);
  CommandRun empty = Ctl("rules list");
  ASSERT_EQ(empty.exit_code, 0) << empty.err;
  EXPECT_THAT(empty.out, HasSubstr("VMs no rule matches go to: Managed devices\n"));

  CommandRun by_name = Ctl("--json rules add --group '" + lab + "' --name 'lab-*'");
  ASSERT_EQ(by_name.exit_code, 0) << by_name.err;
  const v1::AssignmentRule rule = FromJson<v1::AssignmentRule>(by_name.out);
  EXPECT_FALSE(rule.id().empty());
  EXPECT_EQ(rule.group(), lab);
  EXPECT_EQ(rule.vm_name_pattern(), "lab-*");
  EXPECT_EQ(rule.position(), 1u);  // after the last rule (there is none)
  CommandRun by_host = Ctl("rules add --group '" + lab + "' --host 'hv-lab[0-9]' --position 50");
  ASSERT_EQ(by_host.exit_code, 0) << by_host.err;
  EXPECT_THAT(by_host.out, HasSubstr("at position 50: VMs with host hv-lab[0-9] go to " + lab));

  CommandRun list = Ctl("rules list");
  ASSERT_EQ(list.exit_code, 0) << list.err;
  const std::vector<std::string> lines = Lines(list.out);
  ASSERT_EQ(lines.size(), 4u) << list.out;
  EXPECT_THAT(lines[0], MatchesRegex("POS +ID +VM NAME +HOST +GROUP"));
  EXPECT_THAT(lines[1], HasSubstr(rule.id()));
  EXPECT_THAT(lines[1], HasSubstr("lab-*"));
  EXPECT_THAT(lines[2], ContainsRegex("50 .*\\(any\\) +hv-lab\\[0-9\\] +" + lab));

  // A new VM is placed by the rules.
  Register("vm-lab-1", "LAB-7", "hv9");
  EXPECT_EQ(FromJson<v1::VmRecord>(Ctl("--json vms show vm-lab-1").out).group(), lab);

  EXPECT_EQ(Ctl("rules add --group 'Managed devices/Nope' --name x").exit_code, 1);
  ASSERT_EQ(Ctl("vms delete vm-lab-1").exit_code, 0);  // the group now holds only the rule
  CommandRun in_use = Ctl("groups delete '" + lab + "'");
  EXPECT_EQ(in_use.exit_code, 2);
  EXPECT_THAT(in_use.err, HasSubstr("delete the rule first"));

  CommandRun deleted = Ctl("rules delete " + rule.id());
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_EQ(deleted.out, "deleted rule " + rule.id() + "\n");
  EXPECT_THAT(Ctl("rules list").out, Not(HasSubstr(rule.id())));
  CommandRun again = Ctl("rules delete " + rule.id());
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.err, HasSubstr(rule.id()));
}

}  // namespace
}  // namespace vmscan::testing
