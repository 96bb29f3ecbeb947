// SMTP replies as the proxy reads them from the upstream and writes them to clients, and the
// EHLO capability filter: the client is offered only what the proxy itself carries through.
#ifndef VMSCAN_GUEST_AGENT_SMTP_PROXY_SMTP_REPLY_H_
#define VMSCAN_GUEST_AGENT_SMTP_PROXY_SMTP_REPLY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "guest_agent/net/connection.h"
#include "guest_agent/net/task.h"

namespace vmscan {

struct SmtpReply {
  int code = 0;
  std::vector<std::string> lines;  // text after "NNN-" / "NNN "; at least one (maybe empty)

  bool positive() const { return code >= 200 && code < 400; }
  // "250-a\r\n250 b\r\n"
  std::string Wire() const;
};

// Parses one reply line into *reply; true when it was the last line ("NNN " or "NNN").
// InvalidArgument for a line that is no reply line, or whose code differs from earlier lines.
absl::StatusOr<bool> ParseReplyLine(absl::string_view line, SmtpReply* reply);

// Reads one complete (possibly multi-line) reply. At most 100 lines of `max_line` bytes.
net::Task<absl::StatusOr<SmtpReply>> ReadReply(net::Connection& conn, size_t max_line,
                                               absl::Time deadline);

// One-line reply "code text\r\n".
std::string Reply(int code, absl::string_view text);

struct EhloOffer {
  uint64_t max_message_bytes = 0;  // our SIZE limit
  bool offer_starttls = false;     // we have a certificate and the client is not on TLS yet
};

// The capabilities (EHLO reply lines after the first) to offer the client, given the upstream's:
// PIPELINING, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES and AUTH pass through; SIZE is ours (the
// smaller of our limit and a non-zero upstream limit); STARTTLS is ours; everything else
// (CHUNKING, BINARYMIME, DSN, XCLIENT, ...) is removed.
std::vector<std::string> FilterEhloCapabilities(const std::vector<std::string>& upstream,
                                                const EhloOffer& offer);

// Whether the upstream's EHLO capabilities include `keyword` (case-insensitive).
bool HasCapability(const std::vector<std::string>& lines, absl::string_view keyword);

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_SMTP_PROXY_SMTP_REPLY_H_
