#include "host_server/mail/disinfect.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "host_server/mail/gmime_util.h"

namespace vmscan {
namespace {

using mail_internal::ForEachPart;
using mail_internal::GObjectPtr;
using mail_internal::IsLeaf;
using mail_internal::MimeTypeOf;
using mail_internal::ParsedMessage;
using mail_internal::ParseMessage;
using mail_internal::SerializeMessage;

constexpr char kStatusHeader[] = "X-Vmscan-Status";
constexpr int kMaxNameChars = 200;
constexpr size_t kNoticeColumns = 76;

// Length of the valid UTF-8 sequence at the start of `s`, or 0 if it is not one.
size_t Utf8SequenceLength(absl::string_view s) {
  const auto byte = [&s](size_t i) { return static_cast<unsigned char>(s[i]); };
  const auto continuation = [&](size_t i) { return i < s.size() && (byte(i) & 0xC0) == 0x80; };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return continuation(1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    if (!continuation(1) || !continuation(2)) return 0;
    if (lead == 0xE0 && byte(1) < 0xA0) return 0;   // overlong
    if (lead == 0xED && byte(1) >= 0xA0) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) return 0;
    if (lead == 0xF0 && byte(1) < 0x90) return 0;   // overlong
    if (lead == 0xF4 && byte(1) >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

// File and threat names come from the message or the engine: keep them to one line of valid
// UTF-8 of bounded length in the notice.
std::string CleanName(absl::string_view name) {
  std::string out;
  int chars = 0;
  while (!name.empty()) {
    if (chars == kMaxNameChars) {
      out += "...";
      break;
    }
    const size_t length = Utf8SequenceLength(name);
    const unsigned char lead = static_cast<unsigned char>(name[0]);
    const bool c1_control =
        lead == 0xC2 && length == 2 && static_cast<unsigned char>(name[1]) < 0xA0;
    if (length == 0 || lead < 0x20 || lead == 0x7F || c1_control) {
      out += '?';
      name.remove_prefix(length == 0 ? 1 : length);
    } else {
      out.append(name.data(), length);
      name.remove_prefix(length);
    }
    ++chars;
  }
  return out;
}

std::string WordWrap(absl::string_view text) {
  std::string out;
  size_t line_length = 0;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (line_length > 0 && line_length + 1 + word.size() > kNoticeColumns) {
      out += '\n';
      line_length = 0;
    } else if (line_length > 0) {
      out += ' ';
      ++line_length;
    }
    absl::StrAppend(&out, word);
    line_length += word.size();
  }
  out += '\n';
  return out;
}

std::string NoticeText(GMimeObject* removed, const std::vector<std::string>& threats) {
  const char* filename = g_mime_part_get_filename(GMIME_PART(removed));
  const std::string mime_type = CleanName(MimeTypeOf(removed));
  const std::string what =
      filename == nullptr || *filename == '\0'
          ? absl::StrCat("a part of this message (", mime_type, ")")
          : absl::StrCat("the attachment \"", CleanName(filename), "\" (", mime_type, ")");
  std::vector<std::string> names;
  for (const std::string& threat : threats) {
    names.push_back(threat.empty() ? "(unnamed)" : CleanName(threat));
  }
  return WordWrap(absl::StrCat("vmscan removed ", what, " because it contained the ",
                               names.size() == 1 ? "threat " : "threats ",
                               absl::StrJoin(names, ", "),
                               ". A copy of the original message is kept in Backup."));
}

// Not g_mime_text_part_set_text(): it re-encodes non-ASCII text into the smallest charset that
// holds it (ISO-8859-1 for "été"), and the notice is meant to be UTF-8 as labelled.
GObjectPtr<GMimePart> NewNoticePart(const std::string& text) {
  GObjectPtr<GMimePart> notice(g_mime_part_new_with_type("text", "plain"));
  g_mime_object_set_content_type_parameter(GMIME_OBJECT(notice.get()), "charset", "utf-8");
  g_mime_object_set_disposition(GMIME_OBJECT(notice.get()), GMIME_DISPOSITION_INLINE);
  const bool ascii = std::all_of(text.begin(), text.end(),
                                 [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  g_mime_part_set_content_encoding(
      notice.get(), ascii ? GMIME_CONTENT_ENCODING_7BIT : GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
  GObjectPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(text.data(), text.size()));
  GObjectPtr<GMimeDataWrapper> content(
      g_mime_data_wrapper_new_with_stream(stream.get(), GMIME_CONTENT_ENCODING_DEFAULT));
  g_mime_part_set_content(notice.get(), content.get());
  return notice;
}

// The removals grouped by path, in the order the caller first named each path.
struct Removal {
  std::string path;
  std::vector<std::string> threats;
};

std::vector<Removal> GroupByPath(const std::vector<PartRemoval>& removals) {
  std::vector<Removal> grouped;
  absl::flat_hash_map<std::string, size_t> index_of;
  for (const PartRemoval& removal : removals) {
    auto [it, inserted] = index_of.try_emplace(removal.path, grouped.size());
    if (inserted) grouped.push_back(Removal{removal.path, {}});
    std::vector<std::string>& threats = grouped[it->second].threats;
    if (std::find(threats.begin(), threats.end(), removal.threat) == threats.end()) {
      threats.push_back(removal.threat);
    }
  }
  return grouped;
}

absl::Status CheckRemovable(GMimeMessage* message, const std::vector<Removal>& removals) {
  absl::flat_hash_map<std::string, bool> leaf_by_path;
  int leaves = 0;
  VMSCAN_RETURN_IF_ERROR(
      ForEachPart(message, [&](const std::string& path, GMimeObject* object, GMimePartIter*) {
        leaf_by_path[path] = IsLeaf(object);
        leaves += IsLeaf(object) ? 1 : 0;
        return absl::OkStatus();
      }));
  for (const Removal& removal : removals) {
    auto it = leaf_by_path.find(removal.path);
    if (it == leaf_by_path.end()) {
      return absl::FailedPreconditionError(
          absl::StrCat("the message has no MIME part \"", removal.path, "\""));
    }
    if (!it->second) {
      return absl::FailedPreconditionError(absl::StrCat(
          "MIME part \"", removal.path, "\" is a multipart or an attached message, not a leaf"));
    }
  }
  if (static_cast<int>(removals.size()) == leaves) {
    return absl::FailedPreconditionError(
        "removing the infected parts would leave the message without content");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<DisinfectResult> Disinfect(absl::string_view raw_message,
                                          const std::vector<PartRemoval>& removals) {
  VMSCAN_ASSIGN_OR_RETURN(ParsedMessage parsed, ParseMessage(raw_message));
  if (removals.empty()) return absl::FailedPreconditionError("no parts to remove were given");
  const std::vector<Removal> grouped = GroupByPath(removals);
  VMSCAN_RETURN_IF_ERROR(CheckRemovable(parsed.message.get(), grouped));

  absl::flat_hash_map<std::string, const Removal*> removal_by_path;
  for (const Removal& removal : grouped) removal_by_path[removal.path] = &removal;
  DisinfectResult result;
  VMSCAN_RETURN_IF_ERROR(ForEachPart(
      parsed.message.get(),
      [&](const std::string& path, GMimeObject* object, GMimePartIter* iter) -> absl::Status {
        auto it = removal_by_path.find(path);
        if (it == removal_by_path.end()) return absl::OkStatus();
        // CheckRemovable() made sure this is a leaf and not the message's only one, so it sits in
        // a multipart or an attached message and the walk has an iterator on it.
        GObjectPtr<GMimePart> notice = NewNoticePart(NoticeText(object, it->second->threats));
        if (iter == nullptr || !g_mime_part_iter_replace(iter, GMIME_OBJECT(notice.get()))) {
          return absl::InternalError(absl::StrCat("GMime could not replace part ", path));
        }
        result.removed_paths.push_back(path);
        return absl::OkStatus();
      }));

  GMimeObject* top = GMIME_OBJECT(parsed.message.get());
  while (g_mime_object_remove_header(top, kStatusHeader)) {
  }
  const std::string status = absl::StrCat("disinfected; removed=", result.removed_paths.size());
  g_mime_object_append_header(top, kStatusHeader, status.c_str(), nullptr);
  VMSCAN_ASSIGN_OR_RETURN(result.message, SerializeMessage(parsed.message.get(), parsed.crlf));
  return result;
}

}  // namespace vmscan
