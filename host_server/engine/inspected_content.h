// InspectedContent: fingerprints of the objects an engine inspected while scanning one object
// (the object itself and everything it decoded or unpacked from it), so that a caller can tell
// whether a separate scan of some content would only repeat work the engine has already done.
//
//   EngineVerdict raw = engine.ScanRecordingInspected(message, "message", bounds).value();
//   if (raw.inspected.Covers(part.decoded, /*is_text_body=*/true)) { /* already scanned */ }
//
// Two kinds of fingerprint:
// - exact: SHA-256 of the bytes. Equal bytes get the same verdict from the same engine.
// - text: SHA-256 of the bytes with every CRLF turned into LF and trailing line ends dropped.
//   libclamav's mail parser stores a text part with LF line ends and an extra final newline,
//   while a MIME library's decoding keeps CRLF, so the two forms of one text part never match
//   exactly. Recorded only for objects the engine typed as text, and meant only for text bodies.
//
// Not thread-safe; one object per scan.
#ifndef VMSCAN_HOST_SERVER_ENGINE_INSPECTED_CONTENT_H_
#define VMSCAN_HOST_SERVER_ENGINE_INSPECTED_CONTENT_H_

#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"

namespace vmscan {

// Lower-case hex SHA-256 of `data` in the normalized text form described above.
std::string TextFingerprint(absl::string_view data);

struct InspectedContent {
  absl::flat_hash_set<std::string> exact;  // Sha256Hex of each inspected object
  absl::flat_hash_set<std::string> text;   // TextFingerprint of each object typed as text

  bool empty() const { return exact.empty() && text.empty(); }

  // True when `data` was inspected byte for byte, or, for a text body (a text/* part that is
  // not a named attachment), in its normalized text form.
  bool Covers(absl::string_view data, bool is_text_body) const;
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_ENGINE_INSPECTED_CONTENT_H_
