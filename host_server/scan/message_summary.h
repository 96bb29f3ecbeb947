// The few header fields that Backup records and events show (Subject, From, Message-ID), read
// from the raw header block without a full MIME parse. Values are unfolded; encoded words
// (RFC 2047) are left as they are. Never fails: a missing or broken header gives "".
#ifndef VMSCAN_HOST_SERVER_SCAN_MESSAGE_SUMMARY_H_
#define VMSCAN_HOST_SERVER_SCAN_MESSAGE_SUMMARY_H_

#include <string>

#include "absl/strings/string_view.h"

namespace vmscan {

struct MessageSummary {
  std::string subject;
  std::string from;
  std::string message_id;
};

MessageSummary SummarizeHeaders(absl::string_view message);

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_SCAN_MESSAGE_SUMMARY_H_
