// The fields of a protobuf message as people name and type them: looked up by proto or JSON
// name, the closest name offered for a typo, and a scalar field set from text. What the config
// loader (config files, --set) and the Mail Anti-Virus settings (common/settings/) share, so that
// a key, a value and a "did you mean" read the same wherever they are typed.
//
//   const FieldDescriptor* field = FindField(type, "maxFiles");   // also "max_files"
//   if (field == nullptr) {
//     absl::optional<std::string> near = SuggestKey(type, "max_fils");  // "max_files"
//   }
//   VMSCAN_RETURN_IF_ERROR(SetFieldFromText(message, field, "100", "limits.max_files"));
//
// Text values: enums by value name (case-insensitive) or number, bools true/false/yes/no/on/
// off/1/0, integers plain decimal and range-checked, floats as absl::SimpleAtod reads them
// (infinity and NaN only when spelled out), strings and bytes verbatim. Pure functions;
// thread-compatible (concurrent calls are safe on distinct messages).
#ifndef VMSCAN_COMMON_CONFIG_PROTO_FIELDS_H_
#define VMSCAN_COMMON_CONFIG_PROTO_FIELDS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace vmscan {

// The field of `type` whose proto name (`max_files`) or JSON name (`maxFiles`) is `name`;
// nullptr when there is none.
const google::protobuf::FieldDescriptor* FindField(const google::protobuf::Descriptor* type,
                                                   absl::string_view name);

// The field name of `type` closest to `name` (a proto or JSON name, as spelt in the proto),
// when one is within an edit distance of 2; for "did you mean" hints. The first of equally
// close names in declaration order wins.
absl::optional<std::string> SuggestKey(const google::protobuf::Descriptor* type,
                                       absl::string_view name);

// Sets singular scalar `field` of *message to `text`, or appends it when the field is repeated.
// InvalidArgument "key 'PATH' expects uint32 (decimal 0..4294967295), got 'T'" (and the like for
// each type) when `text` is not a value of the field, or when the field is a message; `path`
// names the field in the message. *message is unchanged on error.
absl::Status SetFieldFromText(google::protobuf::Message* message,
                              const google::protobuf::FieldDescriptor* field,
                              absl::string_view text, absl::string_view path);

}  // namespace vmscan

#endif  // VMSCAN_COMMON_CONFIG_PROTO_FIELDS_H_
