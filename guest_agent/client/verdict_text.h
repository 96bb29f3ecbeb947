// How the interceptors put a scan result into words: the X-Vmscan-Status header they add to
// mail, threat lists for SMTP replies and logs. Pure functions.
#ifndef VMSCAN_GUEST_AGENT_CLIENT_VERDICT_TEXT_H_
#define VMSCAN_GUEST_AGENT_CLIENT_VERDICT_TEXT_H_

#include <string>

#include "vmscan/v1/scan.pb.h"

namespace vmscan {

inline constexpr char kStatusHeader[] = "X-Vmscan-Status";
// Header value for mail delivered without a scan (agent.on_no_scanner=DELIVER_UNSCANNED).
inline constexpr char kNotScannedStatus[] = "not scanned (no scanner reachable)";

// "Eicar-Test-Signature.UNOFFICIAL, Vmscan.Test.Marker.UNOFFICIAL" (at most 5 names, then "...").
std::string ThreatNames(const v1::ScanResult& result);

// The X-Vmscan-Status value: "clean", "unscannable (ENCRYPTED)", "infected (NAME)".
std::string StatusHeaderValue(const v1::ScanResult& result);

// Text safe inside an SMTP reply or a header: printable ASCII, no CR/LF, at most `max` bytes.
std::string SafeText(const std::string& text, size_t max = 200);

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_CLIENT_VERDICT_TEXT_H_
