#include "host_server/mail/gmime_util.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace vmscan::mail_internal {
namespace {

// Counts lines that begin with "--", stopping early once past `limit`.
int CountBoundaryLikeLines(absl::string_view raw, int limit) {
  int count = 0;
  size_t line_start = 0;
  while (line_start < raw.size() && count <= limit) {
    if (raw.size() - line_start >= 2 && raw[line_start] == '-' && raw[line_start + 1] == '-') {
      ++count;
    }
    const void* newline = memchr(raw.data() + line_start, '\n', raw.size() - line_start);
    if (newline == nullptr) break;
    line_start = static_cast<const char*>(newline) - raw.data() + 1;
  }
  return count;
}

bool FirstLineEndsInCrlf(absl::string_view raw) {
  const size_t newline = raw.find('\n');
  return newline != absl::string_view::npos && newline > 0 && raw[newline - 1] == '\r';
}

GObjectPtr<GMimeMessage> ParseBytes(absl::string_view bytes) {
  GObjectPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(bytes.data(), bytes.size()));
  GObjectPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  g_mime_parser_set_format(parser.get(), GMIME_FORMAT_MESSAGE);
  return GObjectPtr<GMimeMessage>(g_mime_parser_construct_message(parser.get(), nullptr));
}

std::string StreamBytes(GMimeStream* mem_stream) {
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem_stream));
  if (bytes == nullptr || bytes->len == 0) return std::string();
  return std::string(reinterpret_cast<const char*>(bytes->data), bytes->len);
}

// GMime 3.2.13 takes the line break before a boundary line for "\r\n" whenever the boundary line
// itself ends in "\r\n" (parser_scan_content), so a part whose content ends in a bare "\n"
// loses its last byte ("more\n--b\r\n" gives "mor"). The content is a window on the parsed
// bytes: widen it by the lost byte.
void RepairContentEnd(GMimePart* part) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  if (content == nullptr) return;
  GMimeStream* stream = g_mime_data_wrapper_get_stream(content);
  if (stream == nullptr || !GMIME_IS_STREAM_MEM(stream)) return;
  const GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream));
  const gint64 end = stream->bound_end;
  if (bytes == nullptr || end < 0 || end + 4 > static_cast<gint64>(bytes->len)) return;
  const auto at = [bytes](gint64 i) { return static_cast<char>(bytes->data[i]); };
  if (at(end) != '\r' && at(end + 1) == '\n' && at(end + 2) == '-' && at(end + 3) == '-') {
    g_mime_stream_set_bounds(stream, stream->bound_start, end + 1);
  }
}

// GMime stores a multipart's preamble and epilogue with "\n" line breaks and writes them back
// as stored, whatever the newline format: give them the CRLF of the rest of the output.
void CrlfPreambleAndEpilogue(GMimeMultipart* multipart) {
  for (bool prologue : {true, false}) {
    const char* text = prologue ? g_mime_multipart_get_prologue(multipart)
                                : g_mime_multipart_get_epilogue(multipart);
    if (text == nullptr || strchr(text, '\n') == nullptr) continue;
    std::string crlf;
    for (const char* p = text; *p != '\0'; ++p) {
      if (*p == '\n' && (p == text || p[-1] != '\r')) crlf += '\r';
      crlf += *p;
    }
    if (prologue) {
      g_mime_multipart_set_prologue(multipart, crlf.c_str());
    } else {
      g_mime_multipart_set_epilogue(multipart, crlf.c_str());
    }
  }
}

}  // namespace

void EnsureGMimeInitialized() {
  static absl::once_flag once;
  absl::call_once(once, [] { g_mime_init(); });
}

absl::StatusOr<ParsedMessage> ParseMessage(absl::string_view raw) {
  EnsureGMimeInitialized();
  if (raw.empty()) return absl::InvalidArgumentError("empty input is not a message");
  if (raw.size() > kMaxInputBytes) {
    return absl::ResourceExhaustedError(absl::StrCat("message of ", raw.size(),
                                                     " bytes exceeds the MIME parser's limit of ",
                                                     kMaxInputBytes, " bytes"));
  }
  if (CountBoundaryLikeLines(raw, kMaxBoundaryLines) > kMaxBoundaryLines) {
    return absl::InvalidArgumentError(absl::StrCat("too many parts: more than ", kMaxBoundaryLines,
                                                   " lines look like MIME boundaries"));
  }
  ParsedMessage parsed;
  parsed.crlf = FirstLineEndsInCrlf(raw);
  parsed.message = ParseBytes(raw);
  if (parsed.message == nullptr) {
    // GMime gives up when the first line is not a header field. Read the bytes as a body after an
    // empty header section instead: that is what mail readers display.
    parsed.message = ParseBytes(absl::StrCat(parsed.crlf ? "\r\n" : "\n", raw));
  }
  if (parsed.message == nullptr) {
    return absl::InvalidArgumentError("GMime could not parse the input as a message");
  }
  VMSCAN_RETURN_IF_ERROR(ForEachPart(parsed.message.get(),
                                     [](const std::string&, GMimeObject* object, GMimePartIter*) {
                                       if (IsLeaf(object)) RepairContentEnd(GMIME_PART(object));
                                       return absl::OkStatus();
                                     }));
  return parsed;
}

absl::Status ForEachPart(GMimeMessage* message, PartVisitor visit) {
  GMimeObject* top = g_mime_message_get_mime_part(message);
  if (top == nullptr) return absl::OkStatus();
  if (IsLeaf(top)) return visit("1", top, nullptr);

  PartIterPtr iter(g_mime_part_iter_new(GMIME_OBJECT(message)));
  int leaves = 0;
  for (; g_mime_part_iter_is_valid(iter.get()); g_mime_part_iter_next(iter.get())) {
    GMimeObject* object = g_mime_part_iter_get_current(iter.get());
    GCharPtr gmime_path(g_mime_part_iter_get_path(iter.get()));
    std::string path(gmime_path.get());
    if (std::count(path.begin(), path.end(), '.') + 1 > kMaxDepth) {
      return absl::InvalidArgumentError(
          absl::StrCat("MIME nesting too deep: more than ", kMaxDepth, " levels"));
    }
    if (IsLeaf(object) && ++leaves > kMaxLeafParts) {
      return absl::InvalidArgumentError(
          absl::StrCat("too many parts: more than ", kMaxLeafParts, " leaf parts"));
    }
    VMSCAN_RETURN_IF_ERROR(visit(path, object, iter.get()));
  }
  return absl::OkStatus();
}

std::string MimeTypeOf(GMimeObject* object) {
  GMimeContentType* content_type = g_mime_object_get_content_type(object);
  if (content_type == nullptr) return "application/octet-stream";
  GCharPtr mime_type(g_mime_content_type_get_mime_type(content_type));
  return absl::AsciiStrToLower(mime_type.get());
}

absl::StatusOr<std::string> DecodedContent(GMimePart* part) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  if (content == nullptr) return std::string();
  GObjectPtr<GMimeStream> out(g_mime_stream_mem_new());
  if (g_mime_data_wrapper_write_to_stream(content, out.get()) < 0) {
    return absl::InvalidArgumentError("GMime could not decode a part's content");
  }
  return StreamBytes(out.get());
}

absl::StatusOr<std::string> SerializeMessage(GMimeMessage* message, bool crlf) {
  if (crlf) {
    // Every multipart: the message's body, and the bodies of attached messages (the part walk
    // does not visit those, it goes straight to their children).
    std::vector<GMimeObject*> bodies;
    const auto add = [&bodies](GMimeObject* object) {
      // An attached message stands for its body; a message/rfc822 body for its own, and so on.
      for (int level = 0; object != nullptr && level <= kMaxDepth; ++level) {
        bodies.push_back(object);
        if (!GMIME_IS_MESSAGE_PART(object)) break;
        GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
        object = inner == nullptr ? nullptr : g_mime_message_get_mime_part(inner);
      }
    };
    add(g_mime_message_get_mime_part(message));
    VMSCAN_RETURN_IF_ERROR(
        ForEachPart(message, [&add](const std::string&, GMimeObject* object, GMimePartIter*) {
          add(object);
          return absl::OkStatus();
        }));
    for (GMimeObject* body : bodies) {
      if (body != nullptr && GMIME_IS_MULTIPART(body)) {
        CrlfPreambleAndEpilogue(GMIME_MULTIPART(body));
      }
    }
  }
  FormatOptionsPtr options(g_mime_format_options_new());
  g_mime_format_options_set_newline_format(
      options.get(), crlf ? GMIME_NEWLINE_FORMAT_DOS : GMIME_NEWLINE_FORMAT_UNIX);
  GObjectPtr<GMimeStream> out(g_mime_stream_mem_new());
  if (g_mime_object_write_to_stream(GMIME_OBJECT(message), options.get(), out.get()) < 0) {
    return absl::InternalError("GMime could not serialize the message");
  }
  return StreamBytes(out.get());
}

}  // namespace vmscan::mail_internal
