#include "common/mail/verdict_key.h"

#include <algorithm>
#include <array>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/sha256.h"

namespace vmscan {
namespace {

// Domain separation: the two forms of key can never collide with each other.
constexpr absl::string_view kCutPrefix = "vmscan-verdict-key/1 cut\n";
constexpr absl::string_view kWholePrefix = "vmscan-verdict-key/1 whole\n";

constexpr std::array<absl::string_view, 18> kDeliveryFields = {
    "received",
    "return-path",
    "delivered-to",
    "x-original-to",
    "to",
    "cc",
    "bcc",
    "message-id",
    "date",
    "envelope-to",
    "x-envelope-to",
    "x-received",
    "dkim-signature",
    "arc-seal",
    "arc-message-signature",
    "arc-authentication-results",
    "authentication-results",
    "received-spf",
};

// RFC 5322 ftext: printable US-ASCII except ':'.
bool IsFieldNameChar(char c) { return c >= 33 && c <= 126 && c != ':'; }

// "  Content-Type: x" : a continuation line that a lenient parser might read as a field that
// steers MIME parsing (Content-*, MIME-Version). A continuation that reads like any other field
// ("\th=from:to:subject" of a folded DKIM-Signature) cannot change how the message is parsed,
// and its bytes are scanned on every hit with the rest of the delivery fields.
bool LooksLikeMimeField(absl::string_view line) {
  size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  const size_t name_start = i;
  while (i < line.size() && IsFieldNameChar(line[i])) ++i;
  const absl::string_view name = line.substr(name_start, i - name_start);
  if (name.empty()) return false;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  if (i >= line.size() || line[i] != ':') return false;
  return absl::StartsWithIgnoreCase(name, "content-") ||
         absl::EqualsIgnoreCase(name, "mime-version");
}

// " \t" : a continuation line of white space only, which some parsers take for the blank line
// that ends the header block.
bool IsBlank(absl::string_view line) {
  return line.find_first_not_of(" \t") == absl::string_view::npos;
}

struct Field {
  size_t begin = 0;  // first byte of the field's first line
  size_t end = 0;    // one past the line end of its last line
  bool delivery = false;
};

// The fields of the top-level header block and where the body (from the blank line) begins;
// false with `why` when the block is not unambiguous (see the header).
bool SplitHeader(absl::string_view message, std::vector<Field>* fields, size_t* blank_line,
                 std::string* why) {
  const size_t first_nl = message.find('\n');
  if (first_nl == absl::string_view::npos) {
    *why = "no line ends the header block";
    return false;
  }
  const bool crlf = first_nl > 0 && message[first_nl - 1] == '\r';
  size_t pos = 0;
  while (true) {
    const size_t nl = message.find('\n', pos);
    if (nl == absl::string_view::npos) {
      *why = "no blank line ends the header block";
      return false;
    }
    if (nl + 1 > kMaxHeaderBytes) {
      *why = absl::StrCat("header block over ", kMaxHeaderBytes, " bytes");
      return false;
    }
    const bool has_cr = nl > pos && message[nl - 1] == '\r';
    if (has_cr != crlf) {
      *why = "mixed line endings in the header block";
      return false;
    }
    const absl::string_view line = message.substr(pos, nl - pos - (has_cr ? 1 : 0));
    if (line.find('\r') != absl::string_view::npos || line.find('\0') != absl::string_view::npos) {
      *why = "bare CR or NUL in the header block";
      return false;
    }
    if (line.empty()) {
      *blank_line = pos;
      return true;
    }
    if (line[0] == ' ' || line[0] == '\t') {
      if (fields->empty()) {
        *why = "the header block starts with a continuation line";
        return false;
      }
      if (fields->back().delivery && LooksLikeMimeField(line)) {
        *why = "a continuation line of a delivery field looks like a MIME field";
        return false;
      }
      if (fields->back().delivery && IsBlank(line)) {
        *why = "a continuation line of a delivery field is blank";
        return false;
      }
      fields->back().end = nl + 1;
    } else {
      size_t colon = 0;
      while (colon < line.size() && IsFieldNameChar(line[colon])) ++colon;
      if (colon == 0 || colon >= line.size() || line[colon] != ':') {
        *why = "a header line is not a field (no name followed by ':')";
        return false;
      }
      if (fields->size() == kMaxFields) {
        *why = absl::StrCat("more than ", kMaxFields, " header fields");
        return false;
      }
      fields->push_back({pos, nl + 1, IsDeliveryField(line.substr(0, colon))});
    }
    pos = nl + 1;
  }
}

}  // namespace

bool IsDeliveryField(absl::string_view name) {
  for (absl::string_view field : kDeliveryFields) {
    if (absl::EqualsIgnoreCase(name, field)) return true;
  }
  return false;
}

struct VerdictKeyHasher::Hash {
  Sha256 sha;
};

VerdictKeyHasher::VerdictKeyHasher() : hash_(std::make_unique<Hash>()) {}
VerdictKeyHasher::~VerdictKeyHasher() = default;

void VerdictKeyHasher::Update(absl::string_view piece) {
  if (decided_) {
    hash_->sha.Update(piece);
    return;
  }
  head_.append(piece.data(), piece.size());
  // Judge the header block once its end is in the buffer, or once it can no longer be cut.
  if (head_.find("\n\n") != std::string::npos || head_.find("\n\r\n") != std::string::npos ||
      head_.size() > kMaxHeaderBytes + 2) {
    Decide(/*at_end=*/false);
  }
}

void VerdictKeyHasher::Decide(bool /*at_end*/) {
  decided_ = true;
  std::vector<Field> fields;
  size_t blank_line = 0;
  const absl::string_view head = head_;
  if (!SplitHeader(head, &fields, &blank_line, &key_.why_not_cut)) {
    hash_->sha.Update(kWholePrefix);
    hash_->sha.Update(head);
    size_t end = head.find("\n\n");
    if (end == absl::string_view::npos) end = head.find("\n\r\n");
    key_.header_block = std::string(head.substr(
        0, std::min(end == absl::string_view::npos ? head.size() : end + 1, kMaxHeaderBytes)));
    head_.clear();
    return;
  }
  key_.why_not_cut.clear();
  hash_->sha.Update(kCutPrefix);
  for (const Field& field : fields) {
    const absl::string_view bytes = head.substr(field.begin, field.end - field.begin);
    if (field.delivery) {
      key_.delivery_fields.append(bytes.data(), bytes.size());
      key_.cut = true;
    } else {
      hash_->sha.Update(bytes);
    }
  }
  key_.header_block = std::string(head.substr(0, blank_line));
  hash_->sha.Update(head.substr(blank_line));
  head_.clear();
}

VerdictKey VerdictKeyHasher::Finish() {
  if (!decided_) Decide(/*at_end=*/true);
  key_.digest = hash_->sha.FinishHex();
  return std::move(key_);
}

VerdictKey ComputeVerdictKey(absl::string_view message) {
  VerdictKeyHasher hasher;
  hasher.Update(message);
  return hasher.Finish();
}

}  // namespace vmscan
