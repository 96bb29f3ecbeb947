// The few header fields that Backup records and events show, read from the raw header block
// without a full MIME parse: Subject (RFC 2047 encoded words decoded to UTF-8), From, Message-ID
// and the addresses of To and Cc (for records of mail that came without an SMTP envelope).
// Never fails: a missing or broken header gives empty fields. Thread-safe.
#ifndef VMSCAN_HOST_SERVER_MAIL_MESSAGE_SUMMARY_H_
#define VMSCAN_HOST_SERVER_MAIL_MESSAGE_SUMMARY_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace vmscan {

struct MessageSummary {
  std::string subject;  // decoded, UTF-8
  std::string from;     // as written (display name and address)
  std::string message_id;
  std::vector<std::string> recipients;  // bare addresses from To, then Cc; at most 1000
};

MessageSummary SummarizeHeaders(absl::string_view message);

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_MAIL_MESSAGE_SUMMARY_H_
