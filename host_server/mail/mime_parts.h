// Splitting an RFC 5322 message into its leaf MIME parts with GMime, so that a detection can be
// tied to the part that holds it (and, for disinfection, that part replaced by a notice).
//
//   VMSCAN_ASSIGN_OR_RETURN(std::vector<MimeLeaf> leaves, ExtractLeafParts(raw));
//   for (const MimeLeaf& leaf : leaves) engine.Scan(leaf.decoded, leaf.path, bounds);
//
// Paths are GMime's part-iterator paths (g_mime_part_iter_get_path): 1-based indexes joined by
// ".", one per multipart or message/rfc822 level. A multipart/alternative at "1" holds "1.1" and
// "1.2"; an attached message at "2" has its body's parts at "2.1", "2.2", ... (its top multipart
// takes no number), or its single body at "2.1". A message whose body is a single part has one
// leaf, "1" (GMime 3.2.13's iterator would say "0"; "1" is IMAP's number and agrees with GMime
// everywhere else). Disinfect() takes the same paths.
//
// What counts as a message: GMime 3.2 refuses bytes whose first line is not a header field
// (binary garbage, "hello", a body saved without headers). Those bytes are read as a body after an
// empty header section instead, i.e. one text/plain leaf "1" whose decoded content is the input,
// which is how mail readers show them. Content GMime does not see as a part (a multipart's
// preamble and epilogue, a multipart without a boundary parameter, a non-header line inside a
// header block, which GMime drops) is in no leaf: scan the raw message as well.
//
// Limits (InvalidArgument): empty input; more than 10,000 leaves ("too many parts"), or more than
// 40,000 lines starting with "--", checked on the raw bytes before GMime builds anything; nesting
// deeper than 32 path components. ResourceExhausted: input over 1 GiB.
//
// Thread-safe: every call parses its own copy; GMime is initialised once per process.
#ifndef VMSCAN_HOST_SERVER_MAIL_MIME_PARTS_H_
#define VMSCAN_HOST_SERVER_MAIL_MIME_PARTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vmscan {

// One leaf (non-multipart) MIME part, descending into attached messages (message/rfc822).
struct MimeLeaf {
  std::string path;          // GMime part path: "1", "2", "2.1", ...; stable for one message.
  std::string filename;      // Content-Disposition filename or Content-Type name; may be empty.
  std::string content_type;  // "type/subtype", lower case.
  std::string decoded;       // content after transfer decoding (base64, quoted-printable, ...).
};

// Returns the leaf parts in document order, descending into attached messages. A message with a
// single body has exactly one leaf; a multipart with no parts gives none. InvalidArgument when
// the bytes cannot be parsed as a message at all or exceed a limit above.
absl::StatusOr<std::vector<MimeLeaf>> ExtractLeafParts(absl::string_view raw_message);

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_MAIL_MIME_PARTS_H_
