// Internal to host_server/mail: GMime set-up, RAII owners for GMime objects, and the one parse
// and the one walk that ExtractLeafParts and Disinfect share, so that both see the same parts
// under the same paths and within the same limits.
//
//   VMSCAN_ASSIGN_OR_RETURN(ParsedMessage parsed, ParseMessage(raw));
//   VMSCAN_RETURN_IF_ERROR(ForEachPart(parsed.message.get(), [&](const std::string& path,
//                                      GMimeObject* object, GMimePartIter* iter) { ... }));
//
// Thread-safety: GMime objects are not thread-safe, but separate objects may be used from
// separate threads at once (GMime FAQ "How do I use GMime with threads?": the charset, iconv and
// utils functions are thread-safe, GObjects are not shared-safe). Every function here creates its
// own parser, streams and options and only reads GMime's process-wide defaults, so no lock is
// taken. g_mime_init() runs once per process, through absl::call_once.
#ifndef VMSCAN_HOST_SERVER_MAIL_GMIME_UTIL_H_
#define VMSCAN_HOST_SERVER_MAIL_GMIME_UTIL_H_

// <fcntl.h> before <gmime/gmime.h>: some GMime setups use O_* flags without including it.
#include <fcntl.h>
#include <gmime/gmime.h>

#include <cstddef>
#include <memory>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vmscan::mail_internal {

// Limits that keep a hostile message from costing unbounded memory or time. GMime builds the whole
// tree before we can count anything (about 1.3 KB and 4.5 us per part, measured), so the part
// count is bounded twice: a cheap scan of the raw bytes before parsing, then an exact count of
// leaves while walking.
inline constexpr int kMaxLeafParts = 10000;
// Lines beginning with "--" (every MIME boundary line does). More of them than this and the
// message is refused before GMime parses it; a real message has about one per part.
inline constexpr int kMaxBoundaryLines = 4 * kMaxLeafParts;
// Path components ("2.1.3" has 3). GMime stops parsing at its own nesting level 1024 and then
// silently treats the rest as opaque content; refusing far earlier means a walk never returns a
// part list that GMime truncated.
inline constexpr int kMaxDepth = 32;
// GMime's memory streams hold a GByteArray (32-bit length); upstream limits are far lower
// (50 MiB by default).
inline constexpr size_t kMaxInputBytes = size_t{1} << 30;

struct GObjectUnref {
  void operator()(gpointer object) const { g_object_unref(object); }
};
template <typename T>
using GObjectPtr = std::unique_ptr<T, GObjectUnref>;

struct GFree {
  void operator()(gpointer memory) const { g_free(memory); }
};
using GCharPtr = std::unique_ptr<char, GFree>;

struct PartIterFree {
  void operator()(GMimePartIter* iter) const { g_mime_part_iter_free(iter); }
};
using PartIterPtr = std::unique_ptr<GMimePartIter, PartIterFree>;

struct FormatOptionsFree {
  void operator()(GMimeFormatOptions* options) const { g_mime_format_options_free(options); }
};
using FormatOptionsPtr = std::unique_ptr<GMimeFormatOptions, FormatOptionsFree>;

// Calls g_mime_init() the first time, from whichever thread gets there first.
void EnsureGMimeInitialized();

struct ParsedMessage {
  GObjectPtr<GMimeMessage> message;
  // The input's first line ends in CRLF: serialize with CRLF too (GMime rewrites every line
  // ending of its output to one style).
  bool crlf = false;
};

// Parses `raw` as one RFC 5322 message, and puts back the last content byte that GMime 3.2.13
// drops from a part whose content ends in a bare LF before a CRLF boundary line. Errors:
// InvalidArgument for empty input, for more boundary lines than kMaxBoundaryLines, or when GMime
// builds no message; ResourceExhausted above kMaxInputBytes. GMime 3.2 refuses input whose first
// line is not a header field ("hello", binary garbage, a bare body); such input is parsed again as
// a body without headers, so it yields one text/plain leaf holding the input bytes, as Python's
// email package and most mail readers would show it.
absl::StatusOr<ParsedMessage> ParseMessage(absl::string_view raw);

// Calls `visit` for every MIME object below the message's top level, in document order, with its
// path as g_mime_part_iter_get_path() gives it ("1", "2", "2.1", ...). Multiparts and
// message/rfc822 parts are visited before their children. When the message's body is a single
// leaf, it is visited once with path "1" and a null iterator (GMime 3.2.13 would call it "0"; "1"
// is the IMAP numbering, which agrees with GMime's everywhere else). `iter` points at the visited
// object, so the visitor may g_mime_part_iter_replace() it; it must not use `object` after a
// replace. Errors: InvalidArgument ("too many parts", "MIME nesting too deep") or the first
// error the visitor returns; the walk stops there.
using PartVisitor = absl::FunctionRef<absl::Status(const std::string& path, GMimeObject* object,
                                                   GMimePartIter* iter)>;
absl::Status ForEachPart(GMimeMessage* message, PartVisitor visit);

// A leaf holds content; multiparts and message/rfc822 parts hold other parts.
inline bool IsLeaf(GMimeObject* object) { return GMIME_IS_PART(object); }

// "type/subtype" in lower case.
std::string MimeTypeOf(GMimeObject* object);

// The part's content with its Content-Transfer-Encoding undone.
absl::StatusOr<std::string> DecodedContent(GMimePart* part);

// Serializes `message` (NUL bytes included, unlike g_mime_object_to_string()) with CRLF or LF
// line breaks. For CRLF it first rewrites the preamble and epilogue of every multipart to CRLF,
// which GMime would otherwise leave with bare LF.
absl::StatusOr<std::string> SerializeMessage(GMimeMessage* message, bool crlf);

}  // namespace vmscan::mail_internal

#endif  // VMSCAN_HOST_SERVER_MAIL_GMIME_UTIL_H_
