#include "host_server/policy/setting_changes.h"

#include "absl/strings/match.h"
#include "common/settings/mail_settings.h"
#include "gtest/gtest.h"

namespace vmscan {
namespace {

v1::SettingChange Change(std::string key, std::string value,
                         v1::SettingChange::Lock lock = v1::SettingChange::KEEP) {
  v1::SettingChange change;
  change.set_key(std::move(key));
  change.set_value(std::move(value));
  change.set_lock(lock);
  return change;
}

v1::SettingChange Unset(std::string key) {
  v1::SettingChange change;
  change.set_key(std::move(key));
  change.set_unset(true);
  return change;
}

struct Target {
  v1::MailAntivirusSettings settings;
  google::protobuf::RepeatedPtrField<std::string> locked;
  absl::Status Apply(std::vector<v1::SettingChange> list,
                     SettingsTarget target = SettingsTarget::kPolicy) {
    google::protobuf::RepeatedPtrField<v1::SettingChange> changes(list.begin(), list.end());
    return ApplySettingChanges(changes, target, &settings, &locked);
  }
};

TEST(SettingChangesTest, SetsValuesByKeyWithOrWithoutThePrefixByProtoOrJsonName) {
  Target t;
  ASSERT_TRUE(t.Apply({Change("mail_antivirus.action_on_threat", "delete"),
                       Change("limits.maxMessageBytes", "1048576"), Change("enabled", "off")})
                  .ok());
  EXPECT_EQ(t.settings.action_on_threat(), v1::ActionOnThreat::DELETE);
  EXPECT_EQ(t.settings.limits().max_message_bytes(), 1048576u);
  EXPECT_TRUE(t.settings.has_enabled());
  EXPECT_FALSE(t.settings.enabled());
  EXPECT_EQ(SetSettingKeys(t.settings),
            (std::vector<std::string>{"enabled", "action_on_threat", "limits.max_message_bytes"}));
}

TEST(SettingChangesTest, UnsetRemovesTheKeySoItInheritsAgain) {
  Target t;
  ASSERT_TRUE(t.Apply({Change("backup.max_age_days", "7")}).ok());
  ASSERT_TRUE(t.Apply({Unset("backup.max_age_days")}).ok());
  EXPECT_FALSE(t.settings.backup().has_max_age_days());
  EXPECT_TRUE(SetSettingKeys(t.settings).empty());
  // Unsetting what is not set is harmless.
  EXPECT_TRUE(t.Apply({Unset("on_unscannable")}).ok());
}

TEST(SettingChangesTest, LocksAreKeptInKeyOrderAndCanBeRemoved) {
  Target t;
  ASSERT_TRUE(t.Apply({Change("on_unscannable", "BLOCK", v1::SettingChange::LOCK),
                       Change("action_on_threat", "", v1::SettingChange::LOCK)})
                  .ok());
  EXPECT_EQ(std::vector<std::string>(t.locked.begin(), t.locked.end()),
            (std::vector<std::string>{"action_on_threat", "on_unscannable"}));
  EXPECT_FALSE(t.settings.has_action_on_threat()) << "a lock alone does not set a value";
  ASSERT_TRUE(t.Apply({Change("action_on_threat", "", v1::SettingChange::UNLOCK)}).ok());
  EXPECT_EQ(std::vector<std::string>(t.locked.begin(), t.locked.end()),
            (std::vector<std::string>{"on_unscannable"}));
}

TEST(SettingChangesTest, BadChangesNameTheProblemAndChangeNothing) {
  Target t;
  ASSERT_TRUE(t.Apply({Change("action_on_threat", "BLOCK")}).ok());
  const v1::MailAntivirusSettings before = t.settings;
  struct Case {
    std::vector<v1::SettingChange> changes;
    std::string expected;
  } cases[] = {
      {{Change("action_on_threat", "DELETE"), Change("action_on_thret", "DELETE")},
       "unknown setting 'action_on_thret'"},
      {{Change("action_on_threat", "DELETE"), Change("limits.max_files", "many")},
       "bad value 'many' for 'limits.max_files'"},
      {{Change("action_on_threat", "UNSPECIFIED")},
       "bad value 'UNSPECIFIED' for 'action_on_threat': UNSPECIFIED is not a value to set: "
       "action_on_threat is one of AUTO"},
      {{Change("action_on_threat", "0")}, "UNSPECIFIED is not a value to set"},
      {{Change("action_on_threat", "EXPLODE")},
       "bad value 'EXPLODE' for 'action_on_threat': action_on_threat is one of AUTO"},
      {{Change("limits", "5")}, "'limits' is a group of settings"},
      {{Change("enabled", "")}, "no value, unset or lock"},
      {{}, "no setting to change"},
  };
  for (const Case& c : cases) {
    absl::Status status = t.Apply(c.changes);
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << c.expected << ": " << status;
    EXPECT_TRUE(absl::StrContains(status.message(), c.expected)) << status;
    EXPECT_EQ(t.settings.SerializeAsString(), before.SerializeAsString()) << c.expected;
    EXPECT_TRUE(t.locked.empty());
  }
}

TEST(SettingChangesTest, LocalSettingsCannotLock) {
  Target t;
  absl::Status status = t.Apply({Change("action_on_threat", "DELETE", v1::SettingChange::LOCK)},
                                SettingsTarget::kLocal);
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_FALSE(t.settings.has_action_on_threat());
  EXPECT_TRUE(t.Apply({Change("action_on_threat", "DELETE")}, SettingsTarget::kLocal).ok());
}

}  // namespace
}  // namespace vmscan
