#include "tools/vmscanctl/inventory_policy_format.h"

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmscan {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

const absl::Time kNow = absl::FromUnixSeconds(1795737600);  // 2026-11-27T00:00:00Z

int64_t Ago(absl::Duration d) { return absl::ToUnixMicros(kNow - d); }

std::vector<std::string> LinesOf(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

TEST(FormatAgoTest, Units) {
  EXPECT_EQ(FormatAgo(0, kNow), "never");
  EXPECT_EQ(FormatAgo(Ago(absl::Milliseconds(300)), kNow), "just now");
  EXPECT_EQ(FormatAgo(Ago(absl::Seconds(5)), kNow), "5s ago");
  EXPECT_EQ(FormatAgo(Ago(absl::Seconds(59)), kNow), "59s ago");
  EXPECT_EQ(FormatAgo(Ago(absl::Seconds(61)), kNow), "1m ago");
  EXPECT_EQ(FormatAgo(Ago(absl::Minutes(59)), kNow), "59m ago");
  EXPECT_EQ(FormatAgo(Ago(absl::Hours(3)), kNow), "3h ago");
  EXPECT_EQ(FormatAgo(Ago(absl::Hours(47)), kNow), "47h ago");
  EXPECT_EQ(FormatAgo(Ago(absl::Hours(24 * 4 + 5)), kNow), "4d ago");
  EXPECT_EQ(FormatAgo(Ago(-absl::Milliseconds(500)), kNow), "just now");  // clock skew
  EXPECT_EQ(FormatAgo(Ago(-absl::Minutes(5)), kNow), "in the future");
}

TEST(FormatSourceTest, EveryKind) {
  v1::SettingSource s;
  s.set_kind(v1::SettingSource::DEFAULT);
  EXPECT_EQ(FormatSource(s), "default");
  s.set_kind(v1::SettingSource::POLICY);
  s.set_group("Managed devices/Finance");
  EXPECT_EQ(FormatSource(s), "policy of Managed devices/Finance");
  s.set_kind(v1::SettingSource::LOCKED);
  s.set_group("Managed devices");
  EXPECT_EQ(FormatSource(s), "locked by Managed devices");
  s.set_kind(v1::SettingSource::LOCAL);
  EXPECT_EQ(FormatSource(s), "local");
}

v1::Group Group(const std::string& path, int vms, int children, bool policy) {
  v1::Group g;
  g.set_path(path);
  g.set_name(path.substr(path.rfind('/') + 1));
  g.set_vm_count(vms);
  g.set_child_count(children);
  g.set_has_policy(policy);
  return g;
}

TEST(FormatGroupTableTest, TreeOrderAlignedAndCounted) {
  v1::ListGroupsResponse response;  // sorted by path string, as the server does
  *response.add_groups() = Group("Managed devices", 0, 2, true);
  *response.add_groups() = Group("Managed devices/Finance", 12, 1, true);
  *response.add_groups() = Group("Managed devices/Finance Team", 1, 0, false);
  *response.add_groups() = Group("Managed devices/Finance/Desktops", 3, 0, false);
  const std::string table = FormatGroupTable(response);
  const std::vector<std::string> lines = LinesOf(table);
  ASSERT_EQ(lines.size(), 6u) << table;
  EXPECT_THAT(lines[0], HasSubstr("PATH"));
  // A subgroup follows its parent, before the parent's next sibling.
  EXPECT_EQ(lines[1].find("Managed devices "), 0u);
  EXPECT_EQ(lines[2].find("Managed devices/Finance "), 0u);
  EXPECT_EQ(lines[3].find("Managed devices/Finance/Desktops"), 0u);
  EXPECT_EQ(lines[4].find("Managed devices/Finance Team"), 0u);
  // Right-aligned counts end where the header's column ends.
  const size_t vms_end = lines[0].find("VMS") + 3;
  EXPECT_EQ(lines[2].substr(vms_end - 2, 2), "12");
  EXPECT_EQ(lines[3].substr(vms_end - 1, 1), "3");
  EXPECT_THAT(lines[1], testing::EndsWith("yes"));
  EXPECT_THAT(lines[4], testing::EndsWith("no"));
  EXPECT_EQ(lines[5], "4 groups");
  EXPECT_EQ(FormatGroupTable(v1::ListGroupsResponse()), "no groups\n");
}

v1::VmRecord Vm(const std::string& id, const std::string& name) {
  v1::VmRecord vm;
  vm.mutable_vm()->set_id(id);
  vm.mutable_vm()->set_name(name);
  vm.mutable_vm()->set_hypervisor_host("hv1");
  vm.set_hypervisor_type("kvm");
  vm.set_agent_version("0.1.0");
  vm.set_group("Managed devices/Finance");
  vm.set_state(v1::ConnectionState::CONNECTED);
  vm.set_last_seen_unix_micros(Ago(absl::Seconds(5)));
  vm.set_registered_unix_micros(Ago(absl::Hours(3)));
  vm.set_effective_action("DELETE");
  return vm;
}

TEST(FormatVmTableTest, ColumnsStatesAndSanitizedNames) {
  v1::ListVmsResponse response;
  *response.add_vms() = Vm("4c4c4544-0042-3510-8051-b4c04f384d32", "desk-7");
  v1::VmRecord* other = response.add_vms();
  *other = Vm("vm-2", "evil\x1b[31m");
  other->set_state(v1::ConnectionState::DISCONNECTED);
  other->set_last_seen_unix_micros(Ago(absl::Hours(50)));
  other->mutable_vm()->clear_hypervisor_host();
  other->clear_hypervisor_type();
  other->clear_agent_version();
  const std::string table = FormatVmTable(response, kNow);
  const std::vector<std::string> lines = LinesOf(table);
  ASSERT_EQ(lines.size(), 4u) << table;
  for (const char* column :
       {"NAME", "ID", "GROUP", "STATE", "LAST SEEN", "ACTION", "HYPERVISOR", "AGENT"}) {
    EXPECT_THAT(lines[0], HasSubstr(column));
  }
  EXPECT_THAT(lines[1], HasSubstr("desk-7"));
  EXPECT_THAT(lines[1], HasSubstr("connected"));
  EXPECT_THAT(lines[1], HasSubstr("5s ago"));
  EXPECT_THAT(lines[1], HasSubstr("DELETE"));
  EXPECT_THAT(lines[1], HasSubstr("hv1/kvm"));
  EXPECT_THAT(lines[1], HasSubstr("0.1.0"));
  EXPECT_THAT(lines[2], HasSubstr("disconnected"));
  EXPECT_THAT(lines[2], HasSubstr("2d ago"));
  EXPECT_THAT(lines[2], HasSubstr("-/-"));
  EXPECT_THAT(table, Not(HasSubstr("\x1b")));
  EXPECT_EQ(lines[1].find("4c4c4544"), lines[0].find("ID"));
  EXPECT_EQ(lines[2].find("vm-2"), lines[0].find("ID"));
  EXPECT_EQ(lines[1].find("Managed devices/Finance"), lines[0].find("GROUP"));
  EXPECT_EQ(lines[3], "2 VMs");
  EXPECT_EQ(FormatVmTable(v1::ListVmsResponse(), kNow), "no VMs\n");
}

TEST(FormatVmDetailsTest, EveryField) {
  v1::VmRecord vm = Vm("vm-1", "desk-7");
  vm.set_placed_by_admin(true);
  const std::string text = FormatVmDetails(vm, kNow);
  for (const char* want :
       {"id          vm-1\n", "name        desk-7\n",
        "group       Managed devices/Finance (moved by an administrator)\n",
        "state       connected\n", "last seen   2026-11-26 23:59:55 UTC (5s ago)\n",
        "registered  2026-11-26 21:00:00 UTC (3h ago)\n", "action      DELETE\n",
        "hypervisor  host hv1, type kvm\n", "agent       0.1.0\n"}) {
    EXPECT_THAT(text, HasSubstr(want));
  }
  vm.set_placed_by_admin(false);
  vm.set_last_seen_unix_micros(0);
  EXPECT_THAT(FormatVmDetails(vm, kNow),
              HasSubstr("(placed automatically: by a rule or as default)"));
  EXPECT_THAT(FormatVmDetails(vm, kNow), HasSubstr("last seen   never\n"));
}

TEST(FormatEffectiveSettingsTest, ValueAndSourcePerKey) {
  v1::VmSettings settings;
  settings.mutable_vm()->set_id("vm-1");
  settings.mutable_vm()->set_name("desk-7");
  settings.set_group("Managed devices/Finance");
  auto add = [&](const char* key, const char* value, v1::SettingSource::Kind kind,
                 const char* group) {
    v1::EffectiveSetting* s = settings.add_effective();
    s->set_key(key);
    s->set_value(value);
    s->mutable_source()->set_kind(kind);
    s->mutable_source()->set_group(group);
  };
  add("enabled", "true", v1::SettingSource::DEFAULT, "");
  add("action_on_threat", "DELETE", v1::SettingSource::LOCKED, "Managed devices");
  add("on_unscannable", "BLOCK", v1::SettingSource::POLICY, "Managed devices/Finance");
  add("backup.max_age_days", "7", v1::SettingSource::LOCAL, "");
  const std::string text = FormatEffectiveSettings(settings);
  const std::vector<std::string> lines = LinesOf(text);
  ASSERT_EQ(lines.size(), 7u) << text;
  EXPECT_EQ(lines[0], "vm     vm-1 (desk-7)");
  EXPECT_EQ(lines[1], "group  Managed devices/Finance");
  EXPECT_EQ(lines[2], "KEY                  VALUE   SOURCE");
  EXPECT_EQ(lines[3], "enabled              true    default");
  EXPECT_EQ(lines[4], "action_on_threat     DELETE  locked by Managed devices");
  EXPECT_EQ(lines[5], "on_unscannable       BLOCK   policy of Managed devices/Finance");
  EXPECT_EQ(lines[6], "backup.max_age_days  7       local");
}

v1::Policy Policy() {
  v1::Policy p;
  p.set_group("Managed devices/Finance");
  p.set_version(3);
  p.set_updated_unix_micros(absl::ToUnixMicros(kNow));
  p.set_updated_by("alice");
  p.mutable_settings()->set_action_on_threat(v1::ActionOnThreat::DELETE);
  p.mutable_settings()->mutable_limits()->set_max_files(100);
  p.add_locked("action_on_threat");
  p.add_locked("on_unscannable");  // locked, not set: the inherited value is locked
  return p;
}

TEST(FormatPolicyTest, SetAndLockedKeys) {
  const std::string text = FormatPolicy(Policy());
  EXPECT_THAT(
      LinesOf(text),
      ElementsAre("group    Managed devices/Finance",
                  "version  3, updated 2026-11-27 00:00:00 UTC by alice",
                  "KEY               VALUE        LOCKED", "action_on_threat  DELETE       yes",
                  "on_unscannable    (inherited)  yes", "limits.max_files  100          no"));
  v1::Policy none;
  none.set_group("Managed devices");
  EXPECT_EQ(FormatPolicy(none),
            "group    Managed devices\nversion  0: no policy, every setting is inherited\n");
  v1::Policy empty = none;
  empty.set_version(4);
  EXPECT_THAT(FormatPolicy(empty), HasSubstr("the policy sets and locks nothing\n"));
}

TEST(FormatPolicyHistoryTest, NewestFirstWithSettingsAndLocks) {
  v1::ListPolicyHistoryResponse response;
  *response.add_versions() = Policy();
  v1::Policy* first = response.add_versions();
  first->set_group("Managed devices/Finance");
  first->set_version(1);
  first->set_updated_unix_micros(absl::ToUnixMicros(kNow - absl::Hours(1)));
  first->set_updated_by("bob");
  first->mutable_settings()->set_enabled(false);
  const std::vector<std::string> lines = LinesOf(FormatPolicyHistory(response));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_THAT(lines[0], HasSubstr("VERSION  UPDATED (UTC)"));
  EXPECT_EQ(lines[1],
            "      3  2026-11-27 00:00:00  alice  action_on_threat=DELETE, limits.max_files=100  "
            "action_on_threat, on_unscannable");
  EXPECT_THAT(lines[2],
              testing::StartsWith("      1  2026-11-26 23:00:00  bob    enabled=false  "));
  EXPECT_THAT(lines[2], testing::EndsWith("  -"));
  EXPECT_EQ(lines[2].size(), lines[1].find("action_on_threat, on_unscannable") + 1);
  EXPECT_EQ(FormatPolicyHistory(v1::ListPolicyHistoryResponse()),
            "no versions: the group never had a policy\n");
}

TEST(FormatRuleTableTest, RulesThenTheDefaultGroup) {
  v1::ListRulesResponse response;
  v1::AssignmentRule* a = response.add_rules();
  a->set_id("r1");
  a->set_position(10);
  a->set_vm_name_pattern("fin-*");
  a->set_group("Managed devices/Finance");
  v1::AssignmentRule* b = response.add_rules();
  b->set_id("r2");
  b->set_position(20);
  b->set_hypervisor_host_pattern("hv[12]");
  b->set_group("Managed devices/Lab");
  response.set_default_group("Managed devices");
  EXPECT_THAT(LinesOf(FormatRuleTable(response)),
              ElementsAre("POS  ID  VM NAME  HOST    GROUP",
                          " 10  r1  fin-*    (any)   Managed devices/Finance",
                          " 20  r2  (any)    hv[12]  Managed devices/Lab",
                          "VMs no rule matches go to: Managed devices"));
  v1::ListRulesResponse none;
  none.set_default_group("Managed devices/New");
  EXPECT_EQ(FormatRuleTable(none),
            "no assignment rules\nVMs no rule matches go to: Managed devices/New\n");
}

}  // namespace
}  // namespace vmscan
