// What the SMTP proxy does with a message once the SVM has answered (docs/design.md §2, "SMTP
// proxy, outgoing"): relay it (maybe with an X-Vmscan-Status header) or refuse it with an SMTP
// reply. Outgoing mail with a threat is refused whatever action the SVM sent. Pure function.
#ifndef VMSCAN_GUEST_AGENT_SMTP_PROXY_SMTP_DECISION_H_
#define VMSCAN_GUEST_AGENT_SMTP_PROXY_SMTP_DECISION_H_

#include <string>

#include "absl/status/statusor.h"
#include "guest_agent/client/scan_client.h"
#include "vmscan/v1/config.pb.h"

namespace vmscan {

struct SmtpOutcome {
  bool relay = false;
  std::string header_value;  // relay: X-Vmscan-Status value to add first, or empty
  std::string reply;         // refuse: the whole reply line, e.g. "550 5.7.1 ...\r\n"
  std::string summary;       // for the log: "CLEAN", "INFECTED (X): blocked", ...
};

SmtpOutcome DecideSmtpOut(const absl::StatusOr<ScanResponse>& scan,
                          v1::OnNoScanner::Value on_no_scanner);

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_SMTP_PROXY_SMTP_DECISION_H_
