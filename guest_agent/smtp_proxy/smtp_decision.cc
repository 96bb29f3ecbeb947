#include "guest_agent/smtp_proxy/smtp_decision.h"

#include "absl/strings/str_cat.h"
#include "guest_agent/client/verdict_text.h"
#include "guest_agent/smtp_proxy/smtp_reply.h"

namespace vmscan {

SmtpOutcome DecideSmtpOut(const absl::StatusOr<ScanResponse>& scan,
                          v1::OnNoScanner::Value on_no_scanner) {
  SmtpOutcome out;
  if (!scan.ok()) {
    const absl::Status& s = scan.status();
    if (absl::IsUnavailable(s)) {
      if (on_no_scanner == v1::OnNoScanner::DELIVER_UNSCANNED) {
        out.relay = true;
        out.header_value = kNotScannedStatus;
        out.summary = "NOT SCANNED (no scanner reachable): relayed per on_no_scanner";
        return out;
      }
      out.reply = Reply(451, "4.7.0 No virus scanner available; message not sent, try again later");
      out.summary = "NOT SCANNED (no scanner reachable): tempfailed";
      return out;
    }
    if (absl::IsResourceExhausted(s) && !IsScanQueueFull(s)) {
      out.reply = Reply(552, "5.3.4 Message too big for virus scanning");
      out.summary = absl::StrCat("refused by the SVM: ", s.message());
      return out;
    }
    out.reply = Reply(451, "4.3.0 Virus scan failed; message not sent, try again later");
    out.summary = absl::StrCat("scan failed: ", s.ToString());
    return out;
  }
  const v1::ScanResult& r = scan->result;
  if (r.verdict() == v1::INFECTED) {  // the SMTP rule, enforced here too
    out.reply = Reply(
        550, absl::StrCat("5.7.1 Message contains a threat (", ThreatNames(r), "); not sent"));
    out.summary = absl::StrCat("INFECTED (", ThreatNames(r), "): blocked");
    return out;
  }
  if (r.action() == v1::DELIVER) {
    out.relay = true;
    if (r.verdict() != v1::CLEAN) out.header_value = StatusHeaderValue(r);
    out.summary = absl::StrCat(v1::Verdict_Name(r.verdict()), ": relayed");
    return out;
  }
  // BLOCK of unscannable mail (on_unscannable=BLOCK), or any action this channel cannot carry out.
  out.reply = Reply(550, absl::StrCat("5.7.1 Message refused by the virus scanner (",
                                      StatusHeaderValue(r), "); not sent"));
  out.summary =
      absl::StrCat(v1::Verdict_Name(r.verdict()), " ", v1::Action_Name(r.action()), ": refused");
  return out;
}

}  // namespace vmscan
