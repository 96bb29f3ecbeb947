#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "guest_agent/settings/setting_keys.h"
#include "guest_agent/settings/settings_files.h"
#include "guest_agent/settings/settings_text.h"

namespace vmscan {
namespace {

TEST(SettingKeysTest, AssignmentsAreCheckedAndCanonical) {
  absl::StatusOr<v1::SettingChange> action =
      ParseSettingAssignment("mail_antivirus.action_on_threat=delete");
  ASSERT_TRUE(action.ok()) << action.status();
  EXPECT_EQ(action->key(), "action_on_threat");
  EXPECT_EQ(action->value(), "DELETE");
  EXPECT_FALSE(action->unset());

  absl::StatusOr<v1::SettingChange> enabled = ParseSettingAssignment("enabled=no");
  ASSERT_TRUE(enabled.ok()) << enabled.status();
  EXPECT_EQ(enabled->value(), "false");
  absl::StatusOr<v1::SettingChange> limit =
      ParseSettingAssignment("limits.max_message_bytes=10485760");
  ASSERT_TRUE(limit.ok()) << limit.status();
  EXPECT_EQ(limit->key(), "limits.max_message_bytes");
  EXPECT_EQ(limit->value(), "10485760");
  absl::StatusOr<v1::SettingChange> json = ParseSettingAssignment("limits.maxFiles=5");
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(json->key(), "limits.max_files");
}

TEST(SettingKeysTest, BadKeysAndValuesAreNamed) {
  absl::StatusOr<v1::SettingChange> unknown = ParseSettingAssignment("action_on_thread=DELETE");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(unknown.status().message(),
                                "unknown setting 'action_on_thread'; did you mean "
                                "'action_on_threat'? (the keys are listed in 'vmscan-agent "
                                "settings --help')"))
      << unknown.status();
  absl::StatusOr<v1::SettingChange> bad_value = ParseSettingAssignment("action_on_threat=EXPLODE");
  EXPECT_EQ(bad_value.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(bad_value.status().message(), "EXPLODE")) << bad_value.status();
  EXPECT_FALSE(ParseSettingAssignment("limits=5").ok());  // not a leaf
  EXPECT_FALSE(ParseSettingAssignment("limits.max_files=-1").ok());
  EXPECT_FALSE(ParseSettingAssignment("limits.max_files=99999999999").ok());  // uint32
  EXPECT_FALSE(ParseSettingAssignment("action_on_threat").ok());              // no '='
  absl::StatusOr<v1::SettingChange> unspecified =
      ParseSettingAssignment("action_on_threat=UNSPECIFIED");
  EXPECT_EQ(unspecified.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(unspecified.status().message(), "is one of AUTO"))
      << unspecified.status();
  EXPECT_TRUE(absl::StrContains(unspecified.status().message(),
                                "to inherit again use --unset action_on_threat"))
      << unspecified.status();
  EXPECT_FALSE(ParseSettingAssignment("mail_antivirus.=1").ok());

  absl::StatusOr<v1::SettingChange> unset = ParseSettingUnset("mail_antivirus.on_unscannable");
  ASSERT_TRUE(unset.ok()) << unset.status();
  EXPECT_EQ(unset->key(), "on_unscannable");
  EXPECT_TRUE(unset->unset());
  EXPECT_FALSE(ParseSettingUnset("nope").ok());
}

class SettingsFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::path(::testing::TempDir()) / "settings_files_test").string();
    std::filesystem::remove_all(dir_);
  }
  std::string dir_;
};

TEST_F(SettingsFilesTest, LocalSettingsRoundTripPrivately) {
  absl::StatusOr<std::optional<v1::MailAntivirusSettings>> none = ReadLocalSettings(dir_);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());  // no file: nothing to send

  v1::MailAntivirusSettings local;
  local.set_enabled(false);  // a set false must survive, not read back as "unset"
  local.set_action_on_threat(v1::ActionOnThreat::DELETE);
  local.mutable_limits()->set_max_files(7);
  ASSERT_TRUE(WriteLocalSettings(dir_, local).ok());  // creates the state dir
  struct stat st;
  ASSERT_EQ(stat(LocalSettingsPath(dir_).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  absl::StatusOr<std::optional<v1::MailAntivirusSettings>> back = ReadLocalSettings(dir_);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_TRUE(back->has_value());
  EXPECT_TRUE((*back)->has_enabled());
  EXPECT_FALSE((*back)->enabled());
  EXPECT_EQ((*back)->action_on_threat(), v1::ActionOnThreat::DELETE);
  EXPECT_FALSE((*back)->has_on_unscannable());
  EXPECT_EQ((*back)->limits().max_files(), 7u);
  EXPECT_FALSE((*back)->limits().has_max_message_bytes());

  // Replacing leaves no temp file behind.
  local.clear_enabled();
  ASSERT_TRUE(WriteLocalSettings(dir_, local).ok());
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    ++files;
    EXPECT_EQ(entry.path().filename(), "local-settings.json");
  }
  EXPECT_EQ(files, 1);
  EXPECT_FALSE((*ReadLocalSettings(dir_))->has_enabled());
}

TEST_F(SettingsFilesTest, CorruptFileIsAnErrorNamingIt) {
  std::filesystem::create_directories(dir_);
  std::ofstream(LocalSettingsPath(dir_)) << "{\"action_on_threat\": \"EXPLODE\"";
  absl::StatusOr<std::optional<v1::MailAntivirusSettings>> read = ReadLocalSettings(dir_);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(read.status().message(), "local-settings.json")) << read.status();
}

TEST_F(SettingsFilesTest, CachedSettingsRoundTrip) {
  v1::VmSettings settings;
  settings.mutable_vm()->set_id("vm-1");
  settings.set_group("Managed devices/Finance");
  settings.set_revision(42);
  ASSERT_TRUE(WriteCachedSettings(dir_, settings).ok());
  absl::StatusOr<std::optional<v1::VmSettings>> back = ReadCachedSettings(dir_);
  ASSERT_TRUE(back.ok() && back->has_value()) << back.status();
  EXPECT_EQ((*back)->group(), "Managed devices/Finance");
  EXPECT_EQ((*back)->revision(), 42u);
}

v1::EffectiveSetting* Add(v1::VmSettings* s, const std::string& key, const std::string& value,
                          v1::SettingSource::Kind kind, const std::string& group = "") {
  v1::EffectiveSetting* e = s->add_effective();
  e->set_key(key);
  e->set_value(value);
  e->mutable_source()->set_kind(kind);
  e->mutable_source()->set_group(group);
  return e;
}

TEST(SettingsTextTest, ChangesAreDescribedWithTheirSource) {
  v1::VmSettings before;
  before.set_group("Managed devices/Finance");
  Add(&before, "enabled", "true", v1::SettingSource::DEFAULT);
  Add(&before, "action_on_threat", "AUTO", v1::SettingSource::DEFAULT);
  v1::VmSettings after = before;
  after.mutable_effective(1)->set_value("DELETE");
  after.mutable_effective(1)->mutable_source()->set_kind(v1::SettingSource::POLICY);
  after.mutable_effective(1)->mutable_source()->set_group("Managed devices/Finance");
  std::vector<std::string> lines = DescribeSettingsChanges(&before, after);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "action_on_threat AUTO → DELETE (policy of group Managed devices/Finance)");

  // Same value, now locked; and a move.
  v1::VmSettings locked = after;
  locked.set_group("Managed devices/HR");
  locked.mutable_effective(1)->mutable_source()->set_kind(v1::SettingSource::LOCKED);
  lines = DescribeSettingsChanges(&after, locked);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "group Managed devices/Finance → Managed devices/HR");
  EXPECT_EQ(lines[1],
            "action_on_threat DELETE (policy of group Managed devices/Finance → locked by group "
            "Managed devices/Finance)");
  EXPECT_TRUE(DescribeSettingsChanges(&locked, locked).empty());

  // First settings: the group and what is not a default.
  lines = DescribeSettingsChanges(nullptr, after);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "group Managed devices/Finance");
  EXPECT_EQ(lines[1], "action_on_threat DELETE (policy of group Managed devices/Finance)");
}

TEST(SettingsTextTest, TableShowsSourcesLocksAndLocalValues) {
  v1::VmSettings s;
  s.mutable_vm()->set_id("vm-1");
  s.mutable_vm()->set_name("desk-7");
  s.set_group("Managed devices/Finance");
  Add(&s, "enabled", "true", v1::SettingSource::DEFAULT);
  Add(&s, "action_on_threat", "BLOCK", v1::SettingSource::LOCKED, "Managed devices");
  Add(&s, "on_unscannable", "BLOCK", v1::SettingSource::LOCAL);
  v1::LockedSetting* l = s.add_locked();
  l->set_key("action_on_threat");
  l->set_group("Managed devices");
  s.mutable_local()->set_on_unscannable(v1::OnUnscannable::BLOCK);
  const std::string table = FormatSettingsTable(s);
  EXPECT_TRUE(absl::StrContains(table, "VM desk-7 (vm-1), group Managed devices/Finance")) << table;
  EXPECT_TRUE(absl::StrContains(table, "locked by group Managed devices\n")) << table;
  EXPECT_TRUE(absl::StrContains(table, "Locked: action_on_threat (by Managed devices)")) << table;
  EXPECT_TRUE(absl::StrContains(table, "Local settings: on_unscannable=BLOCK")) << table;
}

}  // namespace
}  // namespace vmscan
