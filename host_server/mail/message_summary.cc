#include "host_server/mail/message_summary.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "host_server/mail/gmime_util.h"

namespace vmscan {
namespace {

using mail_internal::GCharPtr;
using mail_internal::GObjectPtr;

constexpr size_t kMaxHeaderBytes = 256 * 1024;
constexpr size_t kMaxValueBytes = 998;
constexpr size_t kMaxAddressHeaderBytes = 64 * 1024;
constexpr size_t kMaxRecipients = 1000;

struct RawHeaders {
  std::string subject, from, message_id, to, cc;
};

// Unfolded raw values of the fields we want; the first occurrence of each counts.
RawHeaders ReadHeaderBlock(absl::string_view message) {
  RawHeaders raw;
  std::string* current = nullptr;
  size_t limit = kMaxValueBytes;
  for (absl::string_view line : absl::StrSplit(message.substr(0, kMaxHeaderBytes), '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // end of the header block
    if (line[0] == ' ' || line[0] == '\t') {
      if (current != nullptr && current->size() < limit) {
        absl::StrAppend(current, " ", absl::StripAsciiWhitespace(line));
      }
      continue;
    }
    current = nullptr;
    size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    absl::string_view name = absl::StripAsciiWhitespace(line.substr(0, colon));
    limit = kMaxValueBytes;
    if (absl::EqualsIgnoreCase(name, "Subject")) {
      current = &raw.subject;
    } else if (absl::EqualsIgnoreCase(name, "From")) {
      current = &raw.from;
    } else if (absl::EqualsIgnoreCase(name, "Message-ID")) {
      current = &raw.message_id;
    } else if (absl::EqualsIgnoreCase(name, "To")) {
      current = &raw.to;
      limit = kMaxAddressHeaderBytes;
    } else if (absl::EqualsIgnoreCase(name, "Cc")) {
      current = &raw.cc;
      limit = kMaxAddressHeaderBytes;
    }
    if (current == nullptr || !current->empty()) {
      current = nullptr;
      continue;
    }
    *current = std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  }
  return raw;
}

std::string DecodeText(const std::string& raw) {
  if (raw.empty()) return raw;
  GCharPtr decoded(g_mime_utils_header_decode_text(nullptr, raw.c_str()));
  return decoded == nullptr ? raw : std::string(decoded.get());
}

void AppendAddresses(InternetAddressList* list, std::vector<std::string>* out) {
  for (int i = 0; i < internet_address_list_length(list) && out->size() < kMaxRecipients; ++i) {
    InternetAddress* address = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_MAILBOX(address)) {
      const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(address));
      if (addr != nullptr && *addr != '\0') out->push_back(addr);
    } else if (INTERNET_ADDRESS_IS_GROUP(address)) {
      AppendAddresses(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(address)), out);
    }
  }
}

void ParseAddresses(const std::string& raw, std::vector<std::string>* out) {
  if (raw.empty()) return;
  GObjectPtr<InternetAddressList> list(internet_address_list_parse(nullptr, raw.c_str()));
  if (list != nullptr) AppendAddresses(list.get(), out);
}

}  // namespace

MessageSummary SummarizeHeaders(absl::string_view message) {
  mail_internal::EnsureGMimeInitialized();
  RawHeaders raw = ReadHeaderBlock(message);
  MessageSummary summary;
  summary.subject = DecodeText(raw.subject);
  summary.from = std::move(raw.from);
  summary.message_id = std::move(raw.message_id);
  ParseAddresses(raw.to, &summary.recipients);
  ParseAddresses(raw.cc, &summary.recipients);
  for (std::string* value : {&summary.subject, &summary.from, &summary.message_id}) {
    if (value->size() > kMaxValueBytes) value->resize(kMaxValueBytes);
  }
  return summary;
}

}  // namespace vmscan
