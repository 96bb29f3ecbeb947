#include "guest_agent/milter/milter_decision.h"

#include "absl/strings/str_cat.h"
#include "guest_agent/client/verdict_text.h"

namespace vmscan {
namespace {

MilterOutcome Refuse(MilterOutcome::Kind kind, const char* rcode, const char* xcode,
                     std::string text, std::string summary) {
  MilterOutcome out;
  out.kind = kind;
  out.rcode = rcode;
  out.xcode = xcode;
  out.text = std::move(text);
  out.summary = std::move(summary);
  return out;
}

}  // namespace

MilterOutcome DecideMilter(const absl::StatusOr<ScanResponse>& scan, v1::Direction direction,
                           v1::OnNoScanner::Value on_no_scanner) {
  if (!scan.ok()) {
    const absl::Status& s = scan.status();
    if (absl::IsUnavailable(s)) {
      if (on_no_scanner == v1::OnNoScanner::DELIVER_UNSCANNED) {
        MilterOutcome out;
        out.header_value = kNotScannedStatus;
        out.summary = "NOT SCANNED (no scanner reachable): accepted per on_no_scanner";
        return out;
      }
      return Refuse(MilterOutcome::kTempfail, "451", "4.7.0",
                    "No virus scanner available; try again later",
                    "NOT SCANNED (no scanner reachable): tempfailed");
    }
    if (absl::IsResourceExhausted(s) && !IsScanQueueFull(s)) {
      return Refuse(MilterOutcome::kReject, "552", "5.3.4", "Message too big for virus scanning",
                    absl::StrCat("refused by the SVM: ", s.message()));
    }
    return Refuse(MilterOutcome::kTempfail, "451", "4.3.0", "Virus scan failed; try again later",
                  absl::StrCat("scan failed: ", s.ToString()));
  }
  const v1::ScanResult& r = scan->result;
  const std::string threats = ThreatNames(r);
  if (r.verdict() == v1::INFECTED && direction == v1::OUTGOING) {  // SMTP rule, enforced here too
    return Refuse(MilterOutcome::kReject, "550", "5.7.1",
                  absl::StrCat("Message contains a threat (", threats, ")"),
                  absl::StrCat("INFECTED (", threats, "), outgoing: rejected"));
  }
  switch (r.action()) {
    case v1::DELIVER: {
      MilterOutcome out;
      out.header_value = StatusHeaderValue(r);
      out.summary = absl::StrCat(v1::Verdict_Name(r.verdict()), ": accepted");
      return out;
    }
    case v1::DELIVER_DISINFECTED: {
      MilterOutcome out;
      out.kind = MilterOutcome::kReplaceWithCleaned;
      out.header_value = absl::StrCat("disinfected (", threats, ")");
      out.summary = absl::StrCat("INFECTED (", threats, "): disinfected, backup ", r.backup_id());
      return out;
    }
    case v1::DELETE: {
      MilterOutcome out;
      out.kind = MilterOutcome::kDiscard;
      out.summary = absl::StrCat("INFECTED (", threats, "): deleted, backup ", r.backup_id());
      return out;
    }
    default:
      break;
  }
  if (r.verdict() == v1::INFECTED) {
    return Refuse(MilterOutcome::kReject, "550", "5.7.1",
                  absl::StrCat("Message contains a threat (", threats, ")"),
                  absl::StrCat("INFECTED (", threats, "): blocked"));
  }
  return Refuse(MilterOutcome::kReject, "550", "5.7.1",
                absl::StrCat("Message refused by the virus scanner (", StatusHeaderValue(r), ")"),
                absl::StrCat(v1::Verdict_Name(r.verdict()), ": blocked"));
}

v1::Direction MilterDirection(absl::string_view auth_authen, absl::string_view client_address,
                              const std::vector<IpNetwork>& local_networks) {
  if (!auth_authen.empty()) return v1::OUTGOING;
  for (const IpNetwork& net : local_networks) {
    if (net.Contains(client_address)) return v1::OUTGOING;
  }
  return v1::INCOMING;
}

}  // namespace vmscan
