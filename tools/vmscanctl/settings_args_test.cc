#include "tools/vmscanctl/settings_args.h"

#include <string>
#include <vector>

#include "common/settings/mail_settings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/vmscanctl/vmscanctl.h"

namespace vmscan {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

TEST(SettingKeysTest, EveryKeyIsInTheUsage) {
  // A key added to the schema must be documented in --help.
  for (const std::string& key : SettingKeys()) {
    EXPECT_THAT(std::string(kVmscanctlUsage), HasSubstr(key)) << key;
  }
}

TEST(SettingKeyArgsTest, BadKeysPointAtTheUsageAndAreShownSafely) {
  absl::StatusOr<std::vector<v1::SettingChange>> typo = ParseUnsetArgs({"action_on_thret"});
  EXPECT_EQ(typo.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(typo.status().message(),
            "unknown setting 'action_on_thret'; did you mean 'action_on_threat'? (the keys are "
            "listed in 'vmscanctl --help')");
  EXPECT_THAT(ParseSetArgs({"limits"}, v1::SettingChange::LOCK).status().message(),
              HasSubstr("'limits' is a group of settings, not one: give one of "
                        "limits.max_message_bytes"));
  EXPECT_FALSE(ParseUnsetArgs({""}).ok());
  // Terminal escapes in a key do not reach the message; a long key is cut.
  EXPECT_THAT(ParseUnsetArgs({"\x1b[2Jx"}).status().message(), Not(HasSubstr("\x1b")));
  const std::string long_key(500, 'k');
  absl::StatusOr<std::vector<v1::SettingChange>> long_unset = ParseUnsetArgs({long_key});
  EXPECT_THAT(long_unset.status().message(), HasSubstr("unknown setting 'kkk"));
  EXPECT_THAT(long_unset.status().message(), Not(HasSubstr(long_key)));
  EXPECT_THAT(ParseSetArgs({"\x1b[2J=1"}, v1::SettingChange::KEEP).status().message(),
              Not(HasSubstr("\x1b")));
}

TEST(ParseSetArgsTest, CanonicalKeysValuesAndLocks) {
  absl::StatusOr<std::vector<v1::SettingChange>> changes =
      ParseSetArgs({"mail_antivirus.action_on_threat=delete", "enabled=no",
                    "limits.max_message_bytes=10485760", "on_unscannable=Block"},
                   v1::SettingChange::LOCK);
  ASSERT_TRUE(changes.ok()) << changes.status();
  ASSERT_EQ(changes->size(), 4u);
  EXPECT_EQ((*changes)[0].key(), "action_on_threat");
  EXPECT_EQ((*changes)[0].value(), "DELETE");
  EXPECT_EQ((*changes)[0].lock(), v1::SettingChange::LOCK);
  EXPECT_FALSE((*changes)[0].unset());
  EXPECT_EQ((*changes)[1].value(), "false");
  EXPECT_EQ((*changes)[2].key(), "limits.max_message_bytes");
  EXPECT_EQ((*changes)[2].value(), "10485760");
  EXPECT_EQ((*changes)[3].value(), "BLOCK");

  // A bare key changes only its lock.
  changes = ParseSetArgs({"action_on_threat"}, v1::SettingChange::UNLOCK);
  ASSERT_TRUE(changes.ok()) << changes.status();
  EXPECT_EQ((*changes)[0].key(), "action_on_threat");
  EXPECT_EQ((*changes)[0].value(), "");
  EXPECT_EQ((*changes)[0].lock(), v1::SettingChange::UNLOCK);

  changes = ParseSetArgs({"backup.max_age_days=7"}, v1::SettingChange::KEEP);
  ASSERT_TRUE(changes.ok()) << changes.status();
  EXPECT_EQ((*changes)[0].lock(), v1::SettingChange::KEEP);
}

TEST(ParseSetArgsTest, BadArgumentsNameWhatIsWrong) {
  struct Case {
    std::vector<std::string> args;
    v1::SettingChange::Lock lock;
    const char* message;
  };
  const std::vector<Case> cases = {
      {{"action_on_thret=DELETE"}, v1::SettingChange::KEEP, "did you mean 'action_on_threat'?"},
      {{"action_on_threat=DELET"},
       v1::SettingChange::KEEP,
       "'action_on_threat=DELET': action_on_threat is one of AUTO, DISINFECT_ELSE_DELETE, "
       "DISINFECT, DELETE, BLOCK (in any case)"},
      {{"on_unscannable=DELETE"},
       v1::SettingChange::KEEP,
       "on_unscannable is one of DELIVER_WITH_HEADER, BLOCK"},
      {{"action_on_threat="}, v1::SettingChange::LOCK, "'action_on_threat='"},
      {{"action_on_threat=UNSPECIFIED"},
       v1::SettingChange::KEEP,
       "'vmscanctl policy unset GROUP action_on_threat' makes it inherit again"},
      {{"action_on_threat=0"}, v1::SettingChange::KEEP, "UNSPECIFIED is not a value"},
      {{"on_unscannable=\x1b[2J"}, v1::SettingChange::KEEP, "'on_unscannable=?[2J': "},
      {{"enabled=maybe"}, v1::SettingChange::KEEP, "key 'enabled' expects bool"},
      {{"limits.max_recursion=4294967296"}, v1::SettingChange::KEEP, "limits.max_recursion"},
      {{"backup.max_age_days=-1"}, v1::SettingChange::KEEP, "got '-1'"},
      {{"limits.max_files=ten"}, v1::SettingChange::KEEP, "got 'ten'"},
      {{"action_on_threat"}, v1::SettingChange::KEEP, "want KEY=VALUE"},
      {{"enabled=true", "mail_antivirus.enabled=false"},
       v1::SettingChange::KEEP,
       "setting 'enabled' given twice"},
      {{"limits=1"}, v1::SettingChange::KEEP, "is a group of settings"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::vector<v1::SettingChange>> changes = ParseSetArgs(c.args, c.lock);
    EXPECT_EQ(changes.status().code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_THAT(changes.status().message(), HasSubstr(c.message));
  }
}

TEST(ParseUnsetArgsTest, KeysOnly) {
  absl::StatusOr<std::vector<v1::SettingChange>> changes =
      ParseUnsetArgs({"mail_antivirus.enabled", "limits.maxFiles"});
  ASSERT_TRUE(changes.ok()) << changes.status();
  ASSERT_EQ(changes->size(), 2u);
  EXPECT_EQ((*changes)[0].key(), "enabled");
  EXPECT_TRUE((*changes)[0].unset());
  EXPECT_EQ((*changes)[0].lock(), v1::SettingChange::KEEP);
  EXPECT_EQ((*changes)[1].key(), "limits.max_files");
  EXPECT_THAT(ParseUnsetArgs({"enabled=true"}).status().message(), HasSubstr("without a value"));
  EXPECT_THAT(ParseUnsetArgs({"enabeld"}).status().message(), HasSubstr("did you mean"));
  EXPECT_THAT(ParseUnsetArgs({"enabled", "enabled"}).status().message(), HasSubstr("twice"));
}

TEST(SetSettingsTest, OnlyTheKeysThatAreSetInOrder) {
  v1::MailAntivirusSettings settings;
  EXPECT_TRUE(SetSettings(settings).empty());
  settings.mutable_backup()->set_max_age_days(7);
  settings.set_action_on_threat(v1::ActionOnThreat::BLOCK);
  settings.set_enabled(false);
  settings.mutable_limits()->set_max_file_bytes(0);  // set to zero is still set
  EXPECT_THAT(SetSettings(settings),
              ElementsAre(Pair("enabled", "false"), Pair("action_on_threat", "BLOCK"),
                          Pair("limits.max_file_bytes", "0"), Pair("backup.max_age_days", "7")));
}

}  // namespace
}  // namespace vmscan
