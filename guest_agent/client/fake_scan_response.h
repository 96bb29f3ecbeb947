// What ScanClient::Scan returns, made up for the tests of what the interceptors do with it
// (smtp_proxy/smtp_decision_test.cc, milter/milter_decision_test.cc). Test code only.
#ifndef VMSCAN_GUEST_AGENT_CLIENT_FAKE_SCAN_RESPONSE_H_
#define VMSCAN_GUEST_AGENT_CLIENT_FAKE_SCAN_RESPONSE_H_

#include "guest_agent/client/scan_client.h"
#include "vmscan/v1/scan.pb.h"

namespace vmscan {

// A reply with `verdict` and `action`; an INFECTED one names the threat Eicar-Test-Signature.
inline ScanResponse FakeScanResponse(v1::Verdict verdict, v1::Action action) {
  ScanResponse r;
  r.result.set_verdict(verdict);
  r.result.set_action(action);
  if (verdict == v1::INFECTED) r.result.add_threats()->set_name("Eicar-Test-Signature");
  return r;
}

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_CLIENT_FAKE_SCAN_RESPONSE_H_
