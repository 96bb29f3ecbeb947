#include "host_server/scan/message_summary.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace vmscan {
namespace {

constexpr size_t kMaxHeaderBytes = 256 * 1024;
constexpr size_t kMaxValueBytes = 998;

}  // namespace

MessageSummary SummarizeHeaders(absl::string_view message) {
  MessageSummary summary;
  absl::string_view head = message.substr(0, kMaxHeaderBytes);
  std::string* current = nullptr;
  for (absl::string_view line : absl::StrSplit(head, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // end of the header block
    if (line[0] == ' ' || line[0] == '\t') {
      if (current != nullptr && current->size() < kMaxValueBytes) {
        current->push_back(' ');
        absl::StrAppend(current, absl::StripAsciiWhitespace(line));
      }
      continue;
    }
    current = nullptr;
    size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    absl::string_view name = absl::StripAsciiWhitespace(line.substr(0, colon));
    if (absl::EqualsIgnoreCase(name, "Subject") && summary.subject.empty()) {
      current = &summary.subject;
    } else if (absl::EqualsIgnoreCase(name, "From") && summary.from.empty()) {
      current = &summary.from;
    } else if (absl::EqualsIgnoreCase(name, "Message-ID") && summary.message_id.empty()) {
      current = &summary.message_id;
    } else {
      continue;
    }
    *current = std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  }
  for (std::string* value : {&summary.subject, &summary.from, &summary.message_id}) {
    if (value->size() > kMaxValueBytes) value->resize(kMaxValueBytes);
  }
  return summary;
}

}  // namespace vmscan
