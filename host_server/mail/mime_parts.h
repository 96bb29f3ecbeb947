// Splitting an RFC 5322 message into its leaf MIME parts with GMime, so that a detection can be
// tied to the part that holds it (and, later, that part replaced by a notice).
//
//   VMSCAN_ASSIGN_OR_RETURN(std::vector<MimeLeaf> leaves, ExtractLeafParts(raw));
//   for (const MimeLeaf& leaf : leaves) engine.Scan(leaf.decoded, leaf.path);
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

// Returns the leaf parts in document order. InvalidArgument when the bytes cannot be parsed as
// a message at all; a message with a single body has exactly one leaf.
absl::StatusOr<std::vector<MimeLeaf>> ExtractLeafParts(absl::string_view raw_message);

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_MAIL_MIME_PARTS_H_
