// The Mail Anti-Virus action rules of docs/design.md §2 as pure functions: verdict + channel +
// settings → the action the agent must take. No I/O, no state; the table-driven test covers every
// case.
//
//   if (WantsDisinfection(settings, verdict, channel, direction)) ok = TryDisinfect(...);
//   ActionDecision d = DecideAction(settings, verdict, channel, direction, ok);
#ifndef VMSCAN_HOST_SERVER_SCAN_ACTION_POLICY_H_
#define VMSCAN_HOST_SERVER_SCAN_ACTION_POLICY_H_

#include <string>

#include "absl/status/status.h"
#include "vmscan/v1/config.pb.h"
#include "vmscan/v1/scan.pb.h"

namespace vmscan {

struct ActionDecision {
  v1::Action action = v1::ACTION_UNSPECIFIED;
  // The setting or rule that produced the action, for the reply and the logs, e.g.
  // "mail_antivirus.action_on_threat=AUTO (disinfected)" or "SMTP rule: outgoing threat blocked".
  std::string reason;
};

// AUTO means what the product's experts chose: DISINFECT_ELSE_DELETE. UNSPECIFIED means AUTO.
v1::ActionOnThreat::Value ResolveActionOnThreat(v1::ActionOnThreat::Value value);

// Checks and completes the channel/direction of a scan request, so the SMTP rule cannot be
// dodged by leaving the direction out: SMTP (the agent's SMTP proxy) is always OUTGOING, and
// INCOMING with it is a contradiction; MILTER must say its direction; other channels default to
// INCOMING. InvalidArgument naming the field otherwise (also for an unset channel).
absl::Status NormalizeRoute(v1::ScanMetadata* metadata);

// True when a message sent via SMTP (SMTP proxy, or milter on outgoing mail): a threat in it is
// blocked whatever the action chosen.
bool IsOutgoingSmtp(v1::Channel channel, v1::Direction direction);

// Whether the caller should try to disinfect before calling DecideAction.
bool WantsDisinfection(const v1::MailAntivirusConfig& settings, v1::Verdict verdict,
                       v1::Channel channel, v1::Direction direction);

// `disinfected` says whether a disinfection was attempted and produced a clean message; it is
// ignored when WantsDisinfection() is false.
ActionDecision DecideAction(const v1::MailAntivirusConfig& settings, v1::Verdict verdict,
                            v1::Channel channel, v1::Direction direction, bool disinfected);

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_SCAN_ACTION_POLICY_H_
