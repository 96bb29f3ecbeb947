#include "host_server/scan/action_policy.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace vmscan {
namespace {

using v1::ActionOnThreat;
using v1::OnUnscannable;

struct Route {
  v1::Channel channel;
  v1::Direction direction;
  bool outgoing_smtp;
};

const std::vector<Route>& Routes() {
  static const auto* routes = new std::vector<Route>{
      {v1::SMTP, v1::OUTGOING, true},    {v1::MILTER, v1::OUTGOING, true},
      {v1::MILTER, v1::INCOMING, false}, {v1::POP3, v1::INCOMING, false},
      {v1::IMAP, v1::INCOMING, false},   {v1::CLI, v1::INCOMING, false},
      {v1::CLI, v1::OUTGOING, false},  // not SMTP: the SMTP rule does not apply
  };
  return *routes;
}

v1::MailAntivirusConfig Settings(ActionOnThreat::Value action,
                                 OnUnscannable::Value unscannable = OnUnscannable::UNSPECIFIED) {
  v1::MailAntivirusConfig settings;
  settings.set_action_on_threat(action);
  settings.set_on_unscannable(unscannable);
  return settings;
}

// Expected action on an infected message that is not sent via SMTP.
struct InfectedRow {
  ActionOnThreat::Value setting;
  bool disinfection_succeeds;
  bool wants_disinfection;
  v1::Action expected;
};

TEST(ActionPolicyTest, InfectedEveryActionEveryChannel) {
  const std::vector<InfectedRow> rows = {
      {ActionOnThreat::UNSPECIFIED, true, true, v1::DELIVER_DISINFECTED},
      {ActionOnThreat::UNSPECIFIED, false, true, v1::DELETE},
      {ActionOnThreat::AUTO, true, true, v1::DELIVER_DISINFECTED},
      {ActionOnThreat::AUTO, false, true, v1::DELETE},
      {ActionOnThreat::DISINFECT_ELSE_DELETE, true, true, v1::DELIVER_DISINFECTED},
      {ActionOnThreat::DISINFECT_ELSE_DELETE, false, true, v1::DELETE},
      {ActionOnThreat::DISINFECT, true, true, v1::DELIVER_DISINFECTED},
      {ActionOnThreat::DISINFECT, false, true, v1::BLOCK},
      {ActionOnThreat::DELETE, true, false, v1::DELETE},
      {ActionOnThreat::DELETE, false, false, v1::DELETE},
      {ActionOnThreat::BLOCK, true, false, v1::BLOCK},
      {ActionOnThreat::BLOCK, false, false, v1::BLOCK},
  };
  for (const InfectedRow& row : rows) {
    for (const Route& route : Routes()) {
      SCOPED_TRACE(ActionOnThreat::Value_Name(row.setting) +
                   " disinfects=" + std::to_string(row.disinfection_succeeds) + " channel=" +
                   v1::Channel_Name(route.channel) + " " + v1::Direction_Name(route.direction));
      v1::MailAntivirusConfig settings = Settings(row.setting);
      bool wants = WantsDisinfection(settings, v1::INFECTED, route.channel, route.direction);
      ActionDecision d = DecideAction(settings, v1::INFECTED, route.channel, route.direction,
                                      row.disinfection_succeeds);
      if (route.outgoing_smtp) {
        EXPECT_FALSE(wants);
        EXPECT_EQ(d.action, v1::BLOCK);
        EXPECT_NE(d.reason.find("SMTP rule"), std::string::npos) << d.reason;
      } else {
        EXPECT_EQ(wants, row.wants_disinfection);
        EXPECT_EQ(d.action, row.expected);
        EXPECT_NE(d.reason.find("mail_antivirus.action_on_threat="), std::string::npos) << d.reason;
      }
    }
  }
}

TEST(ActionPolicyTest, CleanIsDeliveredWhateverTheSetting) {
  for (int a = ActionOnThreat::Value_MIN; a <= ActionOnThreat::Value_MAX; ++a) {
    for (const Route& route : Routes()) {
      v1::MailAntivirusConfig settings = Settings(static_cast<ActionOnThreat::Value>(a));
      EXPECT_FALSE(WantsDisinfection(settings, v1::CLEAN, route.channel, route.direction));
      EXPECT_EQ(DecideAction(settings, v1::CLEAN, route.channel, route.direction, false).action,
                v1::DELIVER);
    }
  }
}

TEST(ActionPolicyTest, UnscannableFollowsOnUnscannable) {
  for (const Route& route : Routes()) {
    for (int a = ActionOnThreat::Value_MIN; a <= ActionOnThreat::Value_MAX; ++a) {
      auto action = static_cast<ActionOnThreat::Value>(a);
      EXPECT_FALSE(
          WantsDisinfection(Settings(action), v1::UNSCANNABLE, route.channel, route.direction));
      ActionDecision by_default =
          DecideAction(Settings(action, OnUnscannable::UNSPECIFIED), v1::UNSCANNABLE, route.channel,
                       route.direction, false);
      EXPECT_EQ(by_default.action, v1::DELIVER);
      EXPECT_EQ(by_default.reason, "mail_antivirus.on_unscannable=DELIVER_WITH_HEADER");
      EXPECT_EQ(DecideAction(Settings(action, OnUnscannable::DELIVER_WITH_HEADER), v1::UNSCANNABLE,
                             route.channel, route.direction, false)
                    .action,
                v1::DELIVER);
      ActionDecision blocked = DecideAction(Settings(action, OnUnscannable::BLOCK), v1::UNSCANNABLE,
                                            route.channel, route.direction, false);
      EXPECT_EQ(blocked.action, v1::BLOCK);
      EXPECT_EQ(blocked.reason, "mail_antivirus.on_unscannable=BLOCK");
    }
  }
}

TEST(ActionPolicyTest, AutoResolvesToDisinfectElseDelete) {
  EXPECT_EQ(ResolveActionOnThreat(ActionOnThreat::AUTO), ActionOnThreat::DISINFECT_ELSE_DELETE);
  EXPECT_EQ(ResolveActionOnThreat(ActionOnThreat::UNSPECIFIED),
            ActionOnThreat::DISINFECT_ELSE_DELETE);
  EXPECT_EQ(ResolveActionOnThreat(ActionOnThreat::BLOCK), ActionOnThreat::BLOCK);
}

TEST(ActionPolicyTest, ReasonNamesTheSettingAsConfigured) {
  ActionDecision d =
      DecideAction(Settings(ActionOnThreat::AUTO), v1::INFECTED, v1::POP3, v1::INCOMING, false);
  EXPECT_EQ(d.reason, "mail_antivirus.action_on_threat=AUTO (disinfection failed: deleted)");
}

TEST(ActionPolicyTest, NormalizeRouteClosesTheSmtpLoophole) {
  v1::ScanMetadata m;
  m.set_channel(v1::SMTP);  // direction left out
  ASSERT_TRUE(NormalizeRoute(&m).ok());
  EXPECT_EQ(m.direction(), v1::OUTGOING);
  EXPECT_EQ(
      DecideAction(Settings(ActionOnThreat::AUTO), v1::INFECTED, m.channel(), m.direction(), true)
          .action,
      v1::BLOCK);
  m.set_direction(v1::INCOMING);
  EXPECT_EQ(NormalizeRoute(&m).code(), absl::StatusCode::kInvalidArgument);
  m.set_channel(v1::MILTER);
  m.clear_direction();
  EXPECT_EQ(NormalizeRoute(&m).code(), absl::StatusCode::kInvalidArgument);
  m.set_direction(v1::OUTGOING);
  EXPECT_TRUE(NormalizeRoute(&m).ok());
  m.set_channel(v1::POP3);
  m.clear_direction();
  ASSERT_TRUE(NormalizeRoute(&m).ok());
  EXPECT_EQ(m.direction(), v1::INCOMING);
  m.clear_channel();
  absl::Status unset = NormalizeRoute(&m);
  EXPECT_EQ(unset.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(unset.message().find("metadata.channel"), absl::string_view::npos);
}

TEST(ActionPolicyTest, UnknownVerdictIsNeverDelivered) {
  EXPECT_EQ(DecideAction(Settings(ActionOnThreat::AUTO), v1::VERDICT_UNSPECIFIED, v1::CLI,
                         v1::INCOMING, false)
                .action,
            v1::BLOCK);
}

}  // namespace
}  // namespace vmscan
