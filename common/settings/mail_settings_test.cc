#include "common/settings/mail_settings.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmscan {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

TEST(SettingKeysTest, EveryLeafInDeclarationOrder) {
  EXPECT_THAT(SettingKeys(), ElementsAre("enabled", "action_on_threat", "on_unscannable",
                                         "limits.max_message_bytes", "limits.max_scan_bytes",
                                         "limits.max_file_bytes", "limits.max_recursion",
                                         "limits.max_files", "limits.max_scan_time_ms",
                                         "backup.max_age_days", "backup.max_total_bytes"));
}

TEST(CanonicalSettingKeyTest, ProtoOrJsonNamesWithOrWithoutThePrefix) {
  EXPECT_EQ(*CanonicalSettingKey("action_on_threat"), "action_on_threat");
  EXPECT_EQ(*CanonicalSettingKey("mail_antivirus.action_on_threat"), "action_on_threat");
  EXPECT_EQ(*CanonicalSettingKey(" actionOnThreat "), "action_on_threat");
  EXPECT_EQ(*CanonicalSettingKey("limits.maxMessageBytes"), "limits.max_message_bytes");
  EXPECT_EQ(*CanonicalSettingKey("mailAntivirus.backup.max_age_days"), "backup.max_age_days");
  for (const std::string& key : SettingKeys()) EXPECT_EQ(*CanonicalSettingKey(key), key);
}

TEST(CanonicalSettingKeyTest, UnknownKeysAreNamedWithTheClosestKey) {
  absl::StatusOr<std::string> typo = CanonicalSettingKey("action_on_thret");
  EXPECT_EQ(typo.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(typo.status().message(),
            "unknown setting 'action_on_thret'; did you mean 'action_on_threat'?");
  // A nested typo is suggested with its full path, by proto name even when typed in JSON.
  EXPECT_THAT(CanonicalSettingKey("mail_antivirus.limits.max_mesage_bytes").status().message(),
              HasSubstr("did you mean 'limits.max_message_bytes'?"));
  EXPECT_THAT(CanonicalSettingKey("limits.maxMesageBytes").status().message(),
              HasSubstr("did you mean 'limits.max_message_bytes'?"));
  EXPECT_EQ(CanonicalSettingKey("frobnicate").status().message(), "unknown setting 'frobnicate'");
  EXPECT_THAT(CanonicalSettingKey("limits").status().message(),
              HasSubstr("'limits' is a group of settings, not one: give one of "
                        "limits.max_message_bytes, limits.max_scan_bytes"));
  EXPECT_THAT(CanonicalSettingKey("enabled.x").status().message(),
              HasSubstr("unknown setting 'enabled.x'"));
  EXPECT_EQ(CanonicalSettingKey("").status().message(), "empty setting key");
  EXPECT_EQ(CanonicalSettingKey("mail_antivirus.").status().message(), "empty setting key");
  EXPECT_FALSE(CanonicalSettingKey("limits..max_files").ok());
  EXPECT_FALSE(CanonicalSettingKey("limits.").ok());
}

TEST(MailSettingsTest, HasClearCopyAndText) {
  v1::MailAntivirusSettings settings;
  EXPECT_THAT(SetSettingKeys(settings), IsEmpty());
  EXPECT_FALSE(HasSetting(settings, "limits.max_files"));
  EXPECT_EQ(SettingValueText(settings, "limits.max_files"), "");
  ClearSetting(&settings, "limits.max_files");
  EXPECT_FALSE(settings.has_limits()) << "clearing what is not set creates nothing";

  settings.mutable_backup()->set_max_age_days(7);
  settings.set_action_on_threat(v1::ActionOnThreat::BLOCK);
  settings.set_enabled(false);
  settings.mutable_limits()->set_max_file_bytes(0);  // set to zero is still set
  EXPECT_THAT(
      SetSettingKeys(settings),
      ElementsAre("enabled", "action_on_threat", "limits.max_file_bytes", "backup.max_age_days"));
  EXPECT_EQ(SettingValueText(settings, "enabled"), "false");
  EXPECT_EQ(SettingValueText(settings, "action_on_threat"), "BLOCK");
  EXPECT_EQ(SettingValueText(settings, "limits.max_file_bytes"), "0");
  EXPECT_EQ(SettingValueText(settings, "backup.max_age_days"), "7");

  v1::MailAntivirusSettings copy;
  copy.set_on_unscannable(v1::OnUnscannable::BLOCK);
  for (const std::string& key : SettingKeys()) CopySetting(settings, key, &copy);
  EXPECT_EQ(copy.SerializeAsString(), settings.SerializeAsString());

  ClearSetting(&settings, "limits.max_file_bytes");
  EXPECT_FALSE(settings.limits().has_max_file_bytes());
  EXPECT_THAT(SetSettingKeys(settings),
              ElementsAre("enabled", "action_on_threat", "backup.max_age_days"));
}

TEST(SettingValuesTest, ReadAsTheConfigReadsThemAndPrintedCanonically) {
  EXPECT_EQ(*ParseSettingValue("action_on_threat", "delete"), "DELETE");
  EXPECT_EQ(*ParseSettingValue("on_unscannable", "Block"), "BLOCK");
  EXPECT_EQ(*ParseSettingValue("enabled", "no"), "false");
  EXPECT_EQ(*ParseSettingValue("limits.max_message_bytes", "10485760"), "10485760");

  v1::MailAntivirusSettings settings;
  ASSERT_TRUE(SetSettingFromText(&settings, "limits.max_files", "100").ok());
  EXPECT_EQ(settings.limits().max_files(), 100u);
  ASSERT_TRUE(SetSettingFromText(&settings, "action_on_threat", "disinfect").ok());
  EXPECT_EQ(settings.action_on_threat(), v1::ActionOnThreat::DISINFECT);
}

TEST(SettingValuesTest, BadValuesAndUnspecifiedAreRefusedListingTheValues) {
  v1::MailAntivirusSettings settings;
  settings.set_action_on_threat(v1::ActionOnThreat::BLOCK);
  const v1::MailAntivirusSettings before = settings;
  struct Case {
    const char* key;
    const char* text;
    const char* message;
  } cases[] = {
      {"action_on_threat", "DELET",
       "action_on_threat is one of AUTO, DISINFECT_ELSE_DELETE, DISINFECT, DELETE, BLOCK "
       "(in any case)"},
      {"on_unscannable", "DELETE", "on_unscannable is one of DELIVER_WITH_HEADER, BLOCK"},
      {"action_on_threat", "UNSPECIFIED",
       "UNSPECIFIED is not a value to set: action_on_threat is one of AUTO,"},
      {"action_on_threat", "0", "UNSPECIFIED is not a value to set"},
      {"enabled", "maybe", "key 'enabled' expects bool"},
      {"limits.max_recursion", "4294967296", "key 'limits.max_recursion' expects uint32"},
      {"backup.max_age_days", "-1", "got '-1'"},
      {"limits.max_files", "ten", "got 'ten'"},
      {"limits.max_files", "", "got ''"},
  };
  for (const Case& c : cases) {
    absl::Status status = SetSettingFromText(&settings, c.key, c.text);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_THAT(status.message(), HasSubstr(c.message));
    EXPECT_THAT(status.message(), Not(HasSubstr("override"))) << "the loader's context is dropped";
    EXPECT_EQ(settings.SerializeAsString(), before.SerializeAsString()) << c.message;
    EXPECT_EQ(ParseSettingValue(c.key, c.text).status(), status);
  }
}

TEST(SettingValuesTest, UnspecifiedIsTheZeroOfAnEnumByNameOrNumber) {
  EXPECT_TRUE(IsUnspecifiedSettingValue("action_on_threat", "unspecified"));
  EXPECT_TRUE(IsUnspecifiedSettingValue("on_unscannable", "0"));
  EXPECT_FALSE(IsUnspecifiedSettingValue("action_on_threat", "AUTO"));
  EXPECT_FALSE(IsUnspecifiedSettingValue("action_on_threat", "nonsense"));
  EXPECT_FALSE(IsUnspecifiedSettingValue("limits.max_files", "0"));
}

}  // namespace
}  // namespace vmscan
