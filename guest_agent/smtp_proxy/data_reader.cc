#include "guest_agent/smtp_proxy/data_reader.h"

#include <algorithm>
#include <cstring>

namespace vmscan {

size_t FindLineBreak(absl::string_view s, size_t pos) {
  constexpr size_t kWindow = 256;
  while (pos < s.size()) {
    const size_t n = std::min(kWindow, s.size() - pos);
    const char* window = s.data() + pos;
    const void* lf = memchr(window, '\n', n);
    const size_t limit =
        lf != nullptr ? static_cast<size_t>(static_cast<const char*>(lf) - window) : n;
    if (const void* cr = memchr(window, '\r', limit); cr != nullptr) {
      return pos + static_cast<size_t>(static_cast<const char*>(cr) - window);
    }
    if (lf != nullptr) return pos + limit;
    pos += n;
  }
  return absl::string_view::npos;
}

void DataReader::Emit(absl::string_view bytes) {
  size_ += bytes.size();
  if (too_large_) return;
  if (size_ > max_bytes_) {
    too_large_ = true;
    std::string().swap(message_);
    return;
  }
  message_.append(bytes.data(), bytes.size());
}

void DataReader::BareLineEnding() {
  bare_ = true;
  // Normalized: the bare ending becomes a line break; the next line is not a "real" line start.
  if (normalize_) Emit("\r\n");
}

size_t DataReader::Consume(absl::string_view in) {
  size_t i = 0;
  while (i < in.size() && state_ != State::kDone) {
    const char c = in[i];
    switch (state_) {
      case State::kLineStart:
        if (c == '.') {
          state_ = State::kDot;
          ++i;
        } else {
          state_ = State::kMid;  // same byte again, as an ordinary one
        }
        break;
      case State::kDot:
        if (c == '\r') {
          state_ = State::kDotCr;
          ++i;
        } else if (c == '\n') {  // "." + bare LF: not the end; the dot is data
          Emit(".");
          BareLineEnding();
          state_ = State::kMid;
          ++i;
        } else {
          state_ = State::kMid;  // stuffed dot dropped; the byte is ordinary
        }
        break;
      case State::kDotCr:
        if (c == '\n') {
          state_ = State::kDone;
          ++i;
        } else {  // "." + bare CR: not the end either
          Emit(".");
          BareLineEnding();
          state_ = State::kMid;
        }
        break;
      case State::kMid: {
        size_t stop = FindLineBreak(in, i);
        if (stop == absl::string_view::npos) stop = in.size();
        if (stop > i) Emit(in.substr(i, stop - i));
        i = stop;
        if (i == in.size()) break;
        if (in[i] == '\r') {
          state_ = State::kCr;
        } else {
          BareLineEnding();  // bare LF
        }
        ++i;
        break;
      }
      case State::kCr:
        if (c == '\n') {
          Emit("\r\n");
          state_ = State::kLineStart;
          ++i;
        } else {
          BareLineEnding();  // bare CR; the byte is looked at again as ordinary
          state_ = State::kMid;
        }
        break;
      case State::kDone:
        break;
    }
  }
  return i;
}

void DotStuffer::Add(absl::string_view piece, std::string* out) {
  if (piece.empty()) return;
  // A dot after any CR or LF is doubled, not only after CRLF: whatever an upstream takes for a
  // line start, it can never find "<line start>.<line end>" inside the message.
  size_t pos = 0;
  while (pos < piece.size()) {
    if (line_start_ && piece[pos] == '.') out->push_back('.');
    const size_t eol = FindLineBreak(piece, pos);
    const size_t end = eol == absl::string_view::npos ? piece.size() : eol + 1;
    out->append(piece.data() + pos, end - pos);
    line_start_ = eol != absl::string_view::npos;
    pos = end;
  }
  before_last_ = piece.size() >= 2 ? piece[piece.size() - 2] : last_;
  last_ = piece.back();
  empty_ = false;
}

void DotStuffer::Finish(std::string* out) {
  if (!empty_ && !(before_last_ == '\r' && last_ == '\n')) out->append("\r\n");
  out->append(".\r\n");
}

std::string DotStuff(absl::string_view message) {
  std::string out;
  out.reserve(message.size() + message.size() / 64 + 8);
  DotStuffer stuffer;
  stuffer.Add(message, &out);
  stuffer.Finish(&out);
  return out;
}

}  // namespace vmscan
