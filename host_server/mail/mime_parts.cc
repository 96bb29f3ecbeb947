#include "host_server/mail/mime_parts.h"

#include <string>
#include <utility>
#include <vector>

#include "common/status_macros.h"
#include "host_server/mail/gmime_util.h"

namespace vmscan {

using mail_internal::DecodedContent;
using mail_internal::ForEachPart;
using mail_internal::IsLeaf;
using mail_internal::MimeTypeOf;
using mail_internal::ParsedMessage;
using mail_internal::ParseMessage;

absl::StatusOr<std::vector<MimeLeaf>> ExtractLeafParts(absl::string_view raw_message) {
  VMSCAN_ASSIGN_OR_RETURN(ParsedMessage parsed, ParseMessage(raw_message));
  std::vector<MimeLeaf> leaves;
  VMSCAN_RETURN_IF_ERROR(ForEachPart(
      parsed.message.get(),
      [&leaves](const std::string& path, GMimeObject* object, GMimePartIter*) -> absl::Status {
        if (!IsLeaf(object)) return absl::OkStatus();
        GMimePart* part = GMIME_PART(object);
        MimeLeaf leaf;
        leaf.path = path;
        const char* filename = g_mime_part_get_filename(part);
        if (filename != nullptr) leaf.filename = filename;
        leaf.content_type = MimeTypeOf(object);
        VMSCAN_ASSIGN_OR_RETURN(leaf.decoded, DecodedContent(part));
        leaves.push_back(std::move(leaf));
        return absl::OkStatus();
      }));
  return leaves;
}

}  // namespace vmscan
