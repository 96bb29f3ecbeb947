#include "host_server/engine/inspected_content.h"

#include "common/sha256.h"

namespace vmscan {

std::string TextFingerprint(absl::string_view data) {
  // Drop trailing line ends first: "\n" and "\r\n" alike, any number of them. A lone final
  // "\r" is content, not a line end, and stays.
  while (!data.empty() && data.back() == '\n') {
    data.remove_suffix(1);
    if (!data.empty() && data.back() == '\r') data.remove_suffix(1);
  }
  Sha256 hash;
  size_t start = 0;
  for (size_t cr = data.find("\r\n"); cr != absl::string_view::npos;
       cr = data.find("\r\n", start)) {
    hash.Update(data.substr(start, cr - start));  // everything up to the CR, then resume at LF
    start = cr + 1;
  }
  hash.Update(data.substr(start));
  return hash.FinishHex();
}

bool InspectedContent::Covers(absl::string_view data, bool is_text_body) const {
  if (empty()) return false;
  if (exact.contains(Sha256Hex(data))) return true;
  return is_text_body && !text.empty() && text.contains(TextFingerprint(data));
}

}  // namespace vmscan
