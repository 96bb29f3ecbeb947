// Loads YAML or JSON config files and `--set a.b.c=value` overrides onto any protobuf message
// (vmscan.v1.ServerConfig, vmscan.v1.AgentConfig), field by field through reflection.
//
// Proto3 scalars have no presence, so protobuf's JSON parser cannot tell "absent" from "zero".
// This loader sets exactly the keys present in the text: a caller fills in the embedded
// defaults first, then merges the file, then applies the overrides.
//
//   vmscan::v1::ServerConfig config = DefaultServerConfig();
//   VMSCAN_RETURN_IF_ERROR(vmscan::MergeConfigFile("/etc/vmscan/server.yaml", &config));
//   for (const std::string& assignment : set_flags) {
//     VMSCAN_RETURN_IF_ERROR(vmscan::ApplyOverride(assignment, &config));
//   }
//   if (print_config) std::cout << vmscan::ConfigToJson(config);
//
// Keys are field names (`action_on_threat`) or their JSON names (`actionOnThreat`). A nested
// message is a map, a repeated field a sequence (which replaces the whole list; a single scalar
// is taken as a one-element list). Enums are given by value name (case-insensitive) or number.
// Bools accept true/false/yes/no/on/off/1/0. Integers are plain decimal, range-checked. A key
// with no value (`key:` or `key: null`) is an error; write `key: ""` for an empty string. Map
// fields and oneofs are not supported (Unimplemented).
//
// Every error is InvalidArgument (except as noted) and names the source, the dotted key path
// and what was expected. On error *message is left unchanged. The functions are thread-compatible:
// concurrent calls are safe on distinct messages.
#ifndef VMSCAN_COMMON_CONFIG_CONFIG_LOADER_H_
#define VMSCAN_COMMON_CONFIG_CONFIG_LOADER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace vmscan {

// Merges the keys present in YAML or JSON `text` onto *message; fields not mentioned keep their
// current value (so callers fill embedded defaults first). `source` names the text in errors.
// An empty document (or one holding only comments) changes nothing.
absl::Status MergeConfigText(absl::string_view text, absl::string_view source,
                             google::protobuf::Message* message);

// Reads and merges a file. NotFound / PermissionDenied / InvalidArgument naming the path.
absl::Status MergeConfigFile(const std::string& path, google::protobuf::Message* message);

// Applies one "a.b.c=value" override (the form of --set). The path is trimmed of surrounding
// whitespace; the value is taken verbatim and converted by the field's type. For a repeated
// field the value is a comma-separated list that replaces the list ("" → empty list).
absl::Status ApplyOverride(absl::string_view assignment, google::protobuf::Message* message);

// Renders the message as indented JSON (which is also YAML) for `--print-config`: every field,
// proto field names, enums by name, 64-bit integers as plain numbers. The output merges back
// through MergeConfigText to an equal message.
std::string ConfigToJson(const google::protobuf::Message& message);

}  // namespace vmscan

#endif  // VMSCAN_COMMON_CONFIG_CONFIG_LOADER_H_
