// What the milter does with a message once the SVM has answered (docs/design.md §2, "milter" rows),
// and which direction a message has. Pure functions; libmilter calls live in milter_server.cc.
#ifndef VMSCAN_GUEST_AGENT_MILTER_MILTER_DECISION_H_
#define VMSCAN_GUEST_AGENT_MILTER_MILTER_DECISION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "guest_agent/client/scan_client.h"
#include "guest_agent/config/ip_network.h"
#include "vmscan/v1/config.pb.h"
#include "vmscan/v1/scan.pb.h"

namespace vmscan {

struct MilterOutcome {
  enum Kind { kAccept, kReplaceWithCleaned, kDiscard, kReject, kTempfail };
  Kind kind = kAccept;
  std::string header_value;        // kAccept: the X-Vmscan-Status value to set
  std::string rcode, xcode, text;  // kReject / kTempfail: the SMTP reply
  std::string summary;             // for the log
};

MilterOutcome DecideMilter(const absl::StatusOr<ScanResponse>& scan, v1::Direction direction,
                           v1::OnNoScanner::Value on_no_scanner);

// Outgoing: an authenticated sender (`auth_authen` non-empty) or a client in `local_networks`.
v1::Direction MilterDirection(absl::string_view auth_authen, absl::string_view client_address,
                              const std::vector<IpNetwork>& local_networks);

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_MILTER_MILTER_DECISION_H_
