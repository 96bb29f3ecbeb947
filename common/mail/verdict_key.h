// VerdictKey: what decides a message's verdict, reduced to a digest that copies of one message
// share when they differ only in delivery headers (docs/verdict-cache.md).
//
// A message delivered to fifty VMs arrives fifty times with different To, Delivered-To,
// Received, Return-Path ... fields and the same everything else. The key is the SHA-256 of the
// message with those *delivery fields* cut out of its top-level header block; the cut fields
// are kept aside (`delivery_fields`, raw bytes in order) so that the SVM can scan them on every
// cache hit — a threat inside a delivery field is still found. Fields that steer MIME parsing
// (Content-*, MIME-Version and every field not on the list) always stay in the key, and so does
// every byte of the body, MIME part headers included.
//
// Nothing is cut — the key then covers the whole message, so only byte-identical copies share
// it — unless the header block is unambiguous for every parser: one line-ending style (CRLF or
// LF), no bare CR, no NUL, no 8-bit bytes in field names, every line a `name:` field or a
// continuation of one, a blank line that ends it, at most kMaxFields fields and kMaxHeaderBytes
// bytes, and no continuation line of a delivery field that is blank or looks like a field that
// steers MIME parsing (Content-*, MIME-Version). Where
// parsers could disagree about where a field or the header block ends, cutting could hide a
// difference, so vmscan does not cut.
//
//   VerdictKey key = ComputeVerdictKey(message);
//   cache.Lookup(key.digest, ...);   // on a hit, scan key.delivery_fields
//
// Used by the agent (to ask the SVM before uploading) and by the SVM (which computes the key of
// every message it receives itself, and only inserts what it computed). Thread-safe: a pure
// function of its input.
#ifndef VMSCAN_COMMON_MAIL_VERDICT_KEY_H_
#define VMSCAN_COMMON_MAIL_VERDICT_KEY_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"

namespace vmscan {

struct VerdictKey {
  std::string digest;           // lower-case hex SHA-256 (64 characters)
  std::string delivery_fields;  // the cut fields, raw, in message order; empty when none
  // The top-level header block as it is (without the blank line that ends it): what the SVM
  // scans on a cache hit. When the block is ambiguous, the message's first bytes up to the first
  // blank line, at most kMaxHeaderBytes.
  std::string header_block;
  bool cut = false;         // whether any field was cut (false: the digest covers it all)
  std::string why_not_cut;  // when the block was not cut for ambiguity: the reason
};

inline constexpr size_t kMaxFields = 256;
inline constexpr size_t kMaxHeaderBytes = 64 * 1024;

// Whether `name` (any case) is a delivery field: Received, Return-Path, Delivered-To,
// X-Original-To, To, Cc, Bcc, Message-ID, Date, Envelope-To, X-Envelope-To, X-Received,
// DKIM-Signature, ARC-Seal, ARC-Message-Signature, ARC-Authentication-Results,
// Authentication-Results, Received-SPF.
bool IsDeliveryField(absl::string_view name);

VerdictKey ComputeVerdictKey(absl::string_view message);

// The same, fed in pieces (an agent that streams a message from a file computes the key in one
// pass; only the header block is buffered). Not thread-safe; Finish() once.
class VerdictKeyHasher {
 public:
  VerdictKeyHasher();
  ~VerdictKeyHasher();
  VerdictKeyHasher(const VerdictKeyHasher&) = delete;
  VerdictKeyHasher& operator=(const VerdictKeyHasher&) = delete;

  void Update(absl::string_view piece);
  VerdictKey Finish();

 private:
  void Decide(bool at_end);

  std::string head_;  // buffered until the header block is judged
  bool decided_ = false;
  VerdictKey key_;
  struct Hash;
  std::unique_ptr<Hash> hash_;
};

}  // namespace vmscan

#endif  // VMSCAN_COMMON_MAIL_VERDICT_KEY_H_
