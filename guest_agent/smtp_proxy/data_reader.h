// DataReader: decodes the SMTP DATA stream of one message (RFC 5321 §4.5.2) into the message the
// scanner sees, and DotStuff() encodes that same message for the upstream. Because the proxy
// re-encodes exactly what was scanned, the upstream can never find a different end of message
// than the scanner did (SMTP smuggling).
//
//   DataReader reader(max_bytes, /*normalize_bare=*/false);
//   while (!reader.done()) { conn.Consume(reader.Consume(conn.buffered())); ... read more ... }
//   if (reader.bare_line_ending() || reader.too_large()) refuse; else scan(reader.message());
//
// Rules: only <CRLF>.<CRLF> ends DATA (the CRLF before the dot being a real CRLF); a line that
// starts with '.' after a real CRLF loses that dot (un-stuffing). A bare CR or LF (one not part
// of CRLF) is flagged; with `normalize_bare` it becomes CRLF in the message instead, and the line
// after it is never a candidate for the end of DATA nor un-stuffed. Not thread-safe.
#ifndef VMSCAN_GUEST_AGENT_SMTP_PROXY_DATA_READER_H_
#define VMSCAN_GUEST_AGENT_SMTP_PROXY_DATA_READER_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace vmscan {

class DataReader {
 public:
  DataReader(uint64_t max_bytes, bool normalize_bare)
      : max_bytes_(max_bytes), normalize_(normalize_bare) {}

  // Reads from `in` up to and including the end-of-data line; returns the bytes used. What
  // follows the end (pipelined commands) is left to the caller.
  size_t Consume(absl::string_view in);

  bool done() const { return state_ == State::kDone; }
  // The message grew beyond max_bytes; its bytes were dropped, the end is still looked for.
  bool too_large() const { return too_large_; }
  // A bare CR or LF was met (and not normalized away): the message must be refused.
  bool bare_line_ending() const { return bare_ && !normalize_; }
  // Decoded message size so far, counted even after too_large().
  uint64_t size() const { return size_; }
  std::string& message() { return message_; }

 private:
  enum class State { kLineStart, kDot, kDotCr, kMid, kCr, kDone };
  void Emit(absl::string_view bytes);
  // A CR or LF that is not part of CRLF; `byte_after` is the byte that revealed it (or none).
  void BareLineEnding();

  const uint64_t max_bytes_;
  const bool normalize_;
  State state_ = State::kLineStart;
  bool too_large_ = false;
  bool bare_ = false;
  uint64_t size_ = 0;
  std::string message_;
};

// The position of the first CR or LF in `s` at or after `pos`, or npos. Same answer as
// s.find_first_of("\r\n", pos), found with memchr over bounded windows (absl's find_first_of
// tests one byte at a time and was the proxy's hottest own function); each call looks at most
// one window past the answer, so a buffer of bare CRs costs linear time, not quadratic.
size_t FindLineBreak(absl::string_view s, size_t pos);

// The DATA stream for `message`: every line starting with '.' gets one more, a final CRLF is
// added if missing, then ".\r\n". `message` uses CRLF line endings (what DataReader produces).
std::string DotStuff(absl::string_view message);

// DotStuff() in pieces, so that a big message is relayed without a stuffed copy of all of it:
//   DotStuffer s; for (piece : message) { s.Add(piece, &out); send(out); out.clear(); }
//   s.Finish(&out); send(out);
class DotStuffer {
 public:
  // Appends the next bytes of the message, dot-stuffed, to *out.
  void Add(absl::string_view piece, std::string* out);
  // Appends the end of the DATA stream: CRLF if the message did not end with one, then ".\r\n".
  void Finish(std::string* out);

 private:
  bool line_start_ = true;  // the next byte begins a line (also after a bare CR or LF)
  char last_ = 0, before_last_ = 0;
  bool empty_ = true;
};

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_SMTP_PROXY_DATA_READER_H_
