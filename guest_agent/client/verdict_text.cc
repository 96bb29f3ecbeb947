#include "guest_agent/client/verdict_text.h"

#include "absl/strings/str_cat.h"

namespace vmscan {

std::string SafeText(const std::string& text, size_t max) {
  std::string out;
  for (char c : text) {
    if (out.size() >= max) break;
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  return out;
}

std::string ThreatNames(const v1::ScanResult& result) {
  std::string names;
  int shown = 0;
  for (const v1::Threat& threat : result.threats()) {
    if (shown == 5) {
      absl::StrAppend(&names, ", ...");
      break;
    }
    absl::StrAppend(&names, shown++ ? ", " : "", SafeText(threat.name(), 100));
  }
  return names.empty() ? "unknown threat" : names;
}

std::string StatusHeaderValue(const v1::ScanResult& result) {
  switch (result.verdict()) {
    case v1::CLEAN:
      return "clean";
    case v1::UNSCANNABLE:
      return absl::StrCat("unscannable (", v1::UnscannableReason_Name(result.unscannable_reason()),
                          ")");
    case v1::INFECTED:
      return absl::StrCat("infected (", ThreatNames(result), ")");
    default:
      return "unknown";
  }
}

}  // namespace vmscan
