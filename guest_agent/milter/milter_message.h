// The message as a milter sees it (header fields one by one, then body chunks), put back
// together for the scanner, and the header changes that turn it into a disinfected copy.
// Pure data; one per milter connection, used by one libmilter thread at a time.
#ifndef VMSCAN_GUEST_AGENT_MILTER_MILTER_MESSAGE_H_
#define VMSCAN_GUEST_AGENT_MILTER_MILTER_MESSAGE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace vmscan {

using HeaderField = std::pair<std::string, std::string>;  // name, value (no leading space)

class MilterMessage {
 public:
  explicit MilterMessage(uint64_t max_bytes) : max_bytes_(max_bytes) {}

  // Header fields come before the body (libmilter calls xxfi_header, then xxfi_body).
  void AddHeader(absl::string_view name, absl::string_view value);
  void AppendBody(absl::string_view chunk);
  bool too_large() const { return size_ > max_bytes_; }
  const std::vector<HeaderField>& headers() const { return headers_; }

  // The message for the scanner: "Name: value\r\n" for each field (continuation lines with
  // CRLF), a blank line, the body. The header block is written when the body starts, so the
  // message is held once, not as a body plus an assembled copy; afterwards the body is gone
  // (headers() stays, for the header edits).
  std::string TakeAssembled();

 private:
  void WriteHeaderBlock();

  uint64_t max_bytes_;
  uint64_t size_ = 0;
  std::vector<HeaderField> headers_;
  bool header_block_written_ = false;
  std::string raw_;  // header block and body so far
};

// Splits an RFC 5322 message into its header fields (unfolded line breaks kept as "\n") and its
// body (after the first empty line). Lines may end in CRLF or LF.
void SplitMessage(absl::string_view message, std::vector<HeaderField>* headers, std::string* body);

// One smfi_addheader (index 0) or smfi_chgheader (index >= 1, value empty with remove = delete).
struct HeaderEdit {
  std::string name;
  int index = 0;  // 1-based among fields of that name; 0 = add
  std::string value;
  bool remove = false;
};

// Edits that turn header list `from` into `to`, field names compared case-insensitively and
// values after line-ending normalization. Deletions come last, highest index first, so earlier
// indexes stay valid.
std::vector<HeaderEdit> HeaderEdits(const std::vector<HeaderField>& from,
                                    const std::vector<HeaderField>& to);

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_MILTER_MILTER_MESSAGE_H_
