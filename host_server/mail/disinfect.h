// Disinfection (docs/design.md §2): every infected leaf MIME part is replaced by a short text/plain
// notice naming the removed file and the threat, and the message gets an X-Vmscan-Status header.
//
//   VMSCAN_ASSIGN_OR_RETURN(DisinfectResult cleaned,
//                           Disinfect(raw, {{"2", "Eicar-Test-Signature"}}));
//   // Rescan cleaned.message before delivering it (docs/design.md §2: it must come out clean).
//
// Paths are those ExtractLeafParts() returns for the same bytes (see mime_parts.h).
//
// The output, byte for byte (each point is pinned by disinfect_test.cc):
// - A notice part takes the removed part's place in the tree, word-wrapped at 76 columns:
//     Content-Type: text/plain; charset=utf-8
//     Content-Disposition: inline
//     Content-Transfer-Encoding: 7bit         (quoted-printable when the text is not ASCII)
//
//     vmscan removed the attachment "invoice.zip" (application/zip) because it
//     contained the threat Eicar-Test-Signature. A copy of the original message is
//     kept in Backup.
//   A part without a file name reads "a part of this message (type/subtype)". File and threat
//   names lose control characters and invalid UTF-8 (each becomes "?") and are cut at 200
//   characters. Nothing in it depends on time or chance: the same input gives the same output.
// - `X-Vmscan-Status: disinfected; removed=N` (N = parts replaced) is added to the top-level
//   header, after the last field that is not a Content-* field (GMime writes new fields there);
//   every X-Vmscan-Status field the input carried is dropped, so a sender cannot pre-set it.
// - Everything else is written back from what GMime parsed, and comes out as it came in: header
//   fields with their raw names, values, folding and order (repeated fields too); the preamble
//   and epilogue; every untouched part with its headers, boundary lines and encoded content.
// - Line breaks: GMime writes one style for the whole message, the style of the input's first
//   line here. Lines that ended the other way are converted, also in 7bit and 8bit content; only
//   parts with Content-Transfer-Encoding: binary are copied byte for byte. (Two GMime 3.2.13
//   faults are worked around in gmime_util.cc: it would drop the last byte of a part whose
//   content ends in a bare LF before a CRLF boundary line, and would write preamble and epilogue
//   with bare LF into CRLF output.)
// - Other GMime rewrites: an mbox "From " line before the header is dropped; a non-header line
//   inside a header block is dropped (mime_parts.h); a boundary line directly followed by another
//   one (a part with neither header nor content) is dropped; text GMime cannot place after it
//   met the boundary of an enclosing multipart inside a part (msg_38 of the Python email corpus)
//   is dropped; an empty part (header directly followed by the boundary) gets an empty line; an
//   attached message whose single body is replaced gets "MIME-Version: 1.0" if it had none.
// - Signatures over the body (DKIM, S/MIME, OpenPGP) no longer verify; that is inherent.
//
// Errors: InvalidArgument when the message cannot be parsed (as ExtractLeafParts()).
// FailedPrecondition (disinfection is impossible; delete or block instead): no removals given; a
// path that names no part; a path of a multipart or an attached message rather than a leaf; or
// removals that would leave no leaf untouched (a single-part message, every leaf infected).
// A path listed twice is removed once, its threats joined.
//
// Thread-safe: every call works on its own parse of `raw_message`.
#ifndef VMSCAN_HOST_SERVER_MAIL_DISINFECT_H_
#define VMSCAN_HOST_SERVER_MAIL_DISINFECT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vmscan {

// A leaf part to remove and why.
struct PartRemoval {
  std::string path;    // as in MimeLeaf::path
  std::string threat;  // detection name, e.g. "Eicar-Test-Signature"
};

struct DisinfectResult {
  std::string message;                     // the rewritten message
  std::vector<std::string> removed_paths;  // the replaced parts, in document order, each once
};

absl::StatusOr<DisinfectResult> Disinfect(absl::string_view raw_message,
                                          const std::vector<PartRemoval>& removals);

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_MAIL_DISINFECT_H_
