#include "host_server/policy/effective_settings.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/testing/test_settings.h"

namespace vmscan {
namespace {

using v1::ActionOnThreat;
using v1::SettingSource;
using ::vmscan::testing::CompleteDefaultSettings;

v1::Policy MakePolicy(const std::string& group, int action /* 0: unset */, bool lock_action,
                      uint64_t max_message_bytes = 0, bool lock_size = false) {
  v1::Policy p;
  p.set_group(group);
  if (action != 0) p.mutable_settings()->set_action_on_threat(ActionOnThreat::Value(action));
  if (lock_action) p.add_locked("action_on_threat");
  if (max_message_bytes != 0)
    p.mutable_settings()->mutable_limits()->set_max_message_bytes(max_message_bytes);
  if (lock_size) p.add_locked("limits.max_message_bytes");
  return p;
}

const v1::EffectiveSetting& Find(const ResolvedSettings& r, const std::string& key) {
  for (const v1::EffectiveSetting& s : r.provenance) {
    if (s.key() == key) return s;
  }
  static const v1::EffectiveSetting* none = new v1::EffectiveSetting();
  ADD_FAILURE() << "no provenance for " << key;
  return *none;
}

// One row: what root / middle / leaf policies and the local settings say about
// action_on_threat, and what the VM must get.
struct Row {
  const char* name;
  int root, middle, leaf, local;           // ActionOnThreat values, 0 = not set
  bool lock_root, lock_middle, lock_leaf;  // locks on action_on_threat
  ActionOnThreat::Value expected;
  SettingSource::Kind kind;
  const char* group;          // expected source group ("" for DEFAULT/LOCAL)
  bool local_change_allowed;  // CheckLocalChangeAllowed("action_on_threat")
};

TEST(EffectiveSettingsTest, InheritanceLocksAndLocalThreeLevelsDeep) {
  const char* kRoot = "Managed devices";
  const char* kMiddle = "Managed devices/Finance";
  const char* kLeaf = "Managed devices/Finance/Desktops";
  const int A = ActionOnThreat::AUTO, D = ActionOnThreat::DELETE, B = ActionOnThreat::BLOCK,
            DI = ActionOnThreat::DISINFECT;
  const std::vector<Row> rows = {
      {"nothing set: default", 0, 0, 0, 0, false, false, false, ActionOnThreat::AUTO,
       SettingSource::DEFAULT, "", true},
      {"root sets", D, 0, 0, 0, false, false, false, ActionOnThreat::DELETE, SettingSource::POLICY,
       kRoot, true},
      {"child overrides parent", D, B, 0, 0, false, false, false, ActionOnThreat::BLOCK,
       SettingSource::POLICY, kMiddle, true},
      {"deepest wins", D, B, DI, 0, false, false, false, ActionOnThreat::DISINFECT,
       SettingSource::POLICY, kLeaf, true},
      {"local over unlocked policies", D, B, DI, A, false, false, false, ActionOnThreat::AUTO,
       SettingSource::LOCAL, "", true},
      {"local over defaults", 0, 0, 0, B, false, false, false, ActionOnThreat::BLOCK,
       SettingSource::LOCAL, "", true},
      {"root lock beats children and local", D, B, DI, A, true, false, false,
       ActionOnThreat::DELETE, SettingSource::LOCKED, kRoot, false},
      {"middle lock beats leaf and local", D, B, DI, A, false, true, false, ActionOnThreat::BLOCK,
       SettingSource::LOCKED, kMiddle, false},
      {"leaf lock beats local", D, B, DI, A, false, false, true, ActionOnThreat::DISINFECT,
       SettingSource::LOCKED, kLeaf, false},
      {"lock without value locks the inherited value", D, 0, B, A, false, true, false,
       ActionOnThreat::DELETE, SettingSource::LOCKED, kMiddle, false},
      {"lock on defaults", 0, 0, B, A, true, false, false, ActionOnThreat::AUTO,
       SettingSource::LOCKED, kRoot, false},
      {"top-most of several locks wins", D, B, DI, A, false, true, true, ActionOnThreat::BLOCK,
       SettingSource::LOCKED, kMiddle, false},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    v1::Policy root = MakePolicy(kRoot, row.root, row.lock_root);
    v1::Policy middle = MakePolicy(kMiddle, row.middle, row.lock_middle);
    v1::Policy leaf = MakePolicy(kLeaf, row.leaf, row.lock_leaf);
    v1::MailAntivirusSettings local;
    if (row.local != 0) local.set_action_on_threat(ActionOnThreat::Value(row.local));
    const v1::Policy* chain[] = {&root, &middle, &leaf};
    absl::StatusOr<ResolvedSettings> r = ResolveSettings(CompleteDefaultSettings(), chain, local);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->values.action_on_threat(), row.expected);
    const v1::EffectiveSetting& s = Find(*r, "action_on_threat");
    EXPECT_EQ(s.value(), ActionOnThreat::Value_Name(row.expected));
    EXPECT_EQ(s.source().kind(), row.kind);
    EXPECT_EQ(s.source().group(), row.group);
    EXPECT_EQ(CheckLocalChangeAllowed(chain, "action_on_threat").ok(), row.local_change_allowed);
  }
}

TEST(EffectiveSettingsTest, KeysAreIndependent) {
  // The size limit is locked at the root while the action stays open to the VM.
  v1::Policy root = MakePolicy("Managed devices", ActionOnThreat::DELETE, false, 10 << 20, true);
  v1::Policy leaf = MakePolicy("Managed devices/Lab", 0, false, 99 << 20, false);
  v1::MailAntivirusSettings local;
  local.set_action_on_threat(ActionOnThreat::BLOCK);
  local.mutable_limits()->set_max_message_bytes(1);
  const v1::Policy* chain[] = {&root, &leaf};
  absl::StatusOr<ResolvedSettings> r = ResolveSettings(CompleteDefaultSettings(), chain, local);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->values.action_on_threat(), ActionOnThreat::BLOCK);
  EXPECT_EQ(r->values.limits().max_message_bytes(), 10u << 20);
  EXPECT_EQ(Find(*r, "limits.max_message_bytes").source().kind(), SettingSource::LOCKED);
  EXPECT_EQ(Find(*r, "limits.max_message_bytes").value(), "10485760");
  EXPECT_EQ(Find(*r, "limits.max_files").source().kind(), SettingSource::DEFAULT);
  EXPECT_EQ(r->values.limits().max_files(), 10000u);
  EXPECT_EQ(r->provenance.size(), SettingKeys().size());
  absl::Status refused = CheckLocalChangeAllowed(chain, "limits.max_message_bytes");
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(refused.message(), "Managed devices")) << refused;
  EXPECT_TRUE(CheckLocalChangeAllowed(chain, "action_on_threat").ok());
}

TEST(EffectiveSettingsTest, MissingGroupsInTheChainAreSkipped) {
  v1::Policy leaf = MakePolicy("Managed devices/A/B", ActionOnThreat::BLOCK, false);
  const v1::Policy* chain[] = {nullptr, nullptr, &leaf};
  absl::StatusOr<ResolvedSettings> r = ResolveSettings(CompleteDefaultSettings(), chain, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->values.action_on_threat(), ActionOnThreat::BLOCK);
}

TEST(EffectiveSettingsTest, BadInput) {
  v1::MailAntivirusSettings incomplete = CompleteDefaultSettings();
  incomplete.mutable_limits()->clear_max_files();
  absl::StatusOr<ResolvedSettings> r = ResolveSettings(incomplete, {}, {});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(r.status().message(), "limits.max_files")) << r.status();
  EXPECT_EQ(CheckLocalChangeAllowed({}, "action_on_thread").code(),
            absl::StatusCode::kInvalidArgument);
  v1::Policy bad = MakePolicy("Managed devices", 0, false);
  bad.add_locked("limits.max_size");
  EXPECT_EQ(ValidatePolicy(bad).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(ValidatePolicy(MakePolicy("Managed devices", 0, true, 5, true)).ok());
  EXPECT_FALSE(ValidatePolicy(v1::Policy()).ok());
}

}  // namespace
}  // namespace vmscan
