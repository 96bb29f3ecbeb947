#include "host_server/scan/action_policy.h"

#include "absl/strings/str_cat.h"

namespace vmscan {
namespace {

std::string SettingText(v1::ActionOnThreat::Value configured) {
  v1::ActionOnThreat::Value shown =
      configured == v1::ActionOnThreat::UNSPECIFIED ? v1::ActionOnThreat::AUTO : configured;
  return absl::StrCat("mail_antivirus.action_on_threat=", v1::ActionOnThreat::Value_Name(shown));
}

}  // namespace

v1::ActionOnThreat::Value ResolveActionOnThreat(v1::ActionOnThreat::Value value) {
  if (value == v1::ActionOnThreat::UNSPECIFIED || value == v1::ActionOnThreat::AUTO) {
    return v1::ActionOnThreat::DISINFECT_ELSE_DELETE;
  }
  return value;
}

absl::Status NormalizeRoute(v1::ScanMetadata* metadata) {
  switch (metadata->channel()) {
    case v1::SMTP:
      if (metadata->direction() == v1::INCOMING) {
        return absl::InvalidArgumentError(
            "metadata.direction INCOMING contradicts channel SMTP (mail the VM sends)");
      }
      metadata->set_direction(v1::OUTGOING);
      return absl::OkStatus();
    case v1::MILTER:
      if (metadata->direction() != v1::INCOMING && metadata->direction() != v1::OUTGOING) {
        return absl::InvalidArgumentError(
            "metadata.direction must be INCOMING or OUTGOING for channel MILTER");
      }
      return absl::OkStatus();
    case v1::POP3:
    case v1::IMAP:
    case v1::CLI:
      if (metadata->direction() == v1::DIRECTION_UNSPECIFIED) {
        metadata->set_direction(v1::INCOMING);
      }
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError(
          "metadata.channel is required (SMTP, MILTER, POP3, IMAP or CLI)");
  }
}

bool IsOutgoingSmtp(v1::Channel channel, v1::Direction direction) {
  return direction == v1::OUTGOING && (channel == v1::SMTP || channel == v1::MILTER);
}

bool WantsDisinfection(const v1::MailAntivirusConfig& settings, v1::Verdict verdict,
                       v1::Channel channel, v1::Direction direction) {
  if (verdict != v1::INFECTED || IsOutgoingSmtp(channel, direction)) return false;
  v1::ActionOnThreat::Value action = ResolveActionOnThreat(settings.action_on_threat());
  return action == v1::ActionOnThreat::DISINFECT_ELSE_DELETE ||
         action == v1::ActionOnThreat::DISINFECT;
}

ActionDecision DecideAction(const v1::MailAntivirusConfig& settings, v1::Verdict verdict,
                            v1::Channel channel, v1::Direction direction, bool disinfected) {
  switch (verdict) {
    case v1::CLEAN:
      return {v1::DELIVER, "clean"};
    case v1::UNSCANNABLE:
      if (settings.on_unscannable() == v1::OnUnscannable::BLOCK) {
        return {v1::BLOCK, "mail_antivirus.on_unscannable=BLOCK"};
      }
      return {v1::DELIVER, "mail_antivirus.on_unscannable=DELIVER_WITH_HEADER"};
    case v1::INFECTED:
      break;
    default:
      // A verdict we do not know is never a reason to deliver.
      return {v1::BLOCK, "unknown verdict"};
  }

  if (IsOutgoingSmtp(channel, direction)) {
    return {v1::BLOCK, "SMTP rule: a message sent via SMTP that contains a threat is blocked"};
  }
  const std::string setting = SettingText(settings.action_on_threat());
  switch (ResolveActionOnThreat(settings.action_on_threat())) {
    case v1::ActionOnThreat::DISINFECT_ELSE_DELETE:
      if (disinfected) return {v1::DELIVER_DISINFECTED, absl::StrCat(setting, " (disinfected)")};
      return {v1::DELETE, absl::StrCat(setting, " (disinfection failed: deleted)")};
    case v1::ActionOnThreat::DISINFECT:
      if (disinfected) return {v1::DELIVER_DISINFECTED, absl::StrCat(setting, " (disinfected)")};
      return {v1::BLOCK, absl::StrCat(setting, " (disinfection failed: blocked)")};
    case v1::ActionOnThreat::DELETE:
      return {v1::DELETE, setting};
    case v1::ActionOnThreat::BLOCK:
      return {v1::BLOCK, setting};
    default:
      return {v1::BLOCK, absl::StrCat(setting, " (unknown value: blocked)")};
  }
}

}  // namespace vmscan
