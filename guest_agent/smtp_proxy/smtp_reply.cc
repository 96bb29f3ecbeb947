#include "guest_agent/smtp_proxy/smtp_reply.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace vmscan {
namespace {

constexpr int kMaxReplyLines = 100;

std::string Keyword(absl::string_view capability) {
  return absl::AsciiStrToUpper(capability.substr(0, capability.find_first_of(" =")));
}

}  // namespace

std::string SmtpReply::Wire() const {
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    absl::StrAppend(&out, code, i + 1 < lines.size() ? "-" : " ", lines[i], "\r\n");
  }
  if (lines.empty()) absl::StrAppend(&out, code, " \r\n");
  return out;
}

absl::StatusOr<bool> ParseReplyLine(absl::string_view line, SmtpReply* reply) {
  int code = 0;
  if (line.size() < 3 || !absl::ascii_isdigit(line[0]) || !absl::ascii_isdigit(line[1]) ||
      !absl::ascii_isdigit(line[2]) || !absl::SimpleAtoi(line.substr(0, 3), &code) || code < 200 ||
      code > 599 || (line.size() > 3 && line[3] != ' ' && line[3] != '-')) {
    return absl::InvalidArgumentError(
        absl::StrCat("not an SMTP reply line: '", line.substr(0, 80), "'"));
  }
  if (reply->code != 0 && reply->code != code) {
    return absl::InvalidArgumentError("SMTP reply lines with different codes");
  }
  reply->code = code;
  reply->lines.emplace_back(line.size() > 4 ? line.substr(4) : "");
  return line.size() <= 3 || line[3] == ' ';
}

net::Task<absl::StatusOr<SmtpReply>> ReadReply(net::Connection& conn, size_t max_line,
                                               absl::Time deadline) {
  SmtpReply reply;
  for (int i = 0; i < kMaxReplyLines; ++i) {
    absl::StatusOr<std::string> line = co_await conn.ReadLine(max_line, deadline);
    if (!line.ok()) co_return line.status();
    absl::StatusOr<bool> last = ParseReplyLine(*line, &reply);
    if (!last.ok()) co_return last.status();
    if (*last) co_return reply;
  }
  co_return absl::InvalidArgumentError("SMTP reply with too many lines");
}

std::string Reply(int code, absl::string_view text) {
  return absl::StrCat(code, " ", text, "\r\n");
}

std::vector<std::string> FilterEhloCapabilities(const std::vector<std::string>& upstream,
                                                const EhloOffer& offer) {
  std::vector<std::string> out;
  uint64_t size = offer.max_message_bytes;
  for (const std::string& cap : upstream) {
    const std::string keyword = Keyword(cap);
    if (keyword == "PIPELINING" || keyword == "8BITMIME" || keyword == "SMTPUTF8" ||
        keyword == "ENHANCEDSTATUSCODES" || keyword == "AUTH") {
      out.push_back(cap);
    } else if (keyword == "SIZE") {
      std::vector<absl::string_view> words = absl::StrSplit(cap, ' ', absl::SkipEmpty());
      uint64_t theirs = 0;
      if (words.size() > 1 && absl::SimpleAtoi(words[1], &theirs) && theirs > 0) {
        size = std::min(size, theirs);
      }
    }
  }
  out.push_back(absl::StrCat("SIZE ", size));
  if (offer.offer_starttls) out.push_back("STARTTLS");
  return out;
}

bool HasCapability(const std::vector<std::string>& lines, absl::string_view keyword) {
  for (const std::string& line : lines) {
    if (Keyword(line) == absl::AsciiStrToUpper(keyword)) return true;
  }
  return false;
}

}  // namespace vmscan
