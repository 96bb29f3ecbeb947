#include "common/config/config_loader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/config/proto_fields.h"
#include "common/status_macros.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "yaml-cpp/yaml.h"

namespace vmscan {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// ---- Field lookup and errors ---------------------------------------------------------------

std::string JoinPath(absl::string_view prefix, absl::string_view key) {
  return prefix.empty() ? std::string(key) : absl::StrCat(prefix, ".", key);
}

absl::Status WithPrefix(const absl::Status& status, absl::string_view prefix) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(prefix, ": ", status.message()));
}

absl::Status UnknownKey(const Descriptor* type, absl::string_view key, absl::string_view path) {
  std::string message =
      absl::StrCat("unknown key '", path, "' (", type->full_name(), " has no such field");
  if (absl::optional<std::string> near = SuggestKey(type, key)) {
    absl::StrAppend(&message, "; did you mean '", *near, "'?");
  }
  return absl::InvalidArgumentError(absl::StrCat(message, ")"));
}

absl::Status CheckSupported(const FieldDescriptor* field, absl::string_view path) {
  if (field->is_map()) {
    return absl::UnimplementedError(absl::StrCat("key '", path, "': map fields are not supported"));
  }
  if (field->real_containing_oneof() != nullptr) {
    return absl::UnimplementedError(
        absl::StrCat("key '", path, "': oneof fields are not supported"));
  }
  return absl::OkStatus();
}

absl::Status Expected(absl::string_view path, absl::string_view what, absl::string_view got) {
  return absl::InvalidArgumentError(absl::StrCat("key '", path, "' expects ", what, ", got ", got));
}

std::string Quoted(absl::string_view text) {
  return absl::StrCat("'", absl::CHexEscape(text), "'");
}

// ---- YAML documents ----------------------------------------------------------------------

const char* KindOf(const YAML::Node& node) {
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a sequence";
  return "a scalar";
}

absl::Status MergeMap(const YAML::Node& map, absl::string_view prefix, Message* message);

// One value of a singular field or one element of a repeated field.
absl::Status MergeElement(const YAML::Node& node, const FieldDescriptor* field,
                          absl::string_view path, Message* message) {
  if (!node.IsDefined() || node.IsNull()) {
    return absl::InvalidArgumentError(absl::StrCat("key '", path, "' has no value"));
  }
  if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    if (!node.IsMap()) {
      return Expected(path, absl::StrCat("a map (", field->message_type()->full_name(), ")"),
                      KindOf(node));
    }
    const Reflection* r = message->GetReflection();
    return MergeMap(
        node, path,
        field->is_repeated() ? r->AddMessage(message, field) : r->MutableMessage(message, field));
  }
  if (!node.IsScalar()) {
    return Expected(
        path,
        field->is_repeated() ? absl::StrCat("a list of ", field->type_name()) : field->type_name(),
        KindOf(node));
  }
  return SetFieldFromText(message, field, node.Scalar(), path);
}

absl::Status MergeField(const YAML::Node& node, const FieldDescriptor* field,
                        absl::string_view path, Message* message) {
  if (!field->is_repeated()) return MergeElement(node, field, path, message);
  // A list in a file replaces the list; a single value stands for a one-element list. (On error
  // the caller drops the whole scratch message, so clearing first is harmless.)
  message->GetReflection()->ClearField(message, field);
  if (!node.IsSequence()) return MergeElement(node, field, path, message);
  for (size_t i = 0; i < node.size(); ++i) {
    VMSCAN_RETURN_IF_ERROR(MergeElement(node[i], field, absl::StrCat(path, "[", i, "]"), message));
  }
  return absl::OkStatus();
}

absl::Status MergeMap(const YAML::Node& map, absl::string_view prefix, Message* message) {
  const Descriptor* type = message->GetDescriptor();
  std::set<int> seen;  // Field numbers, so `state_dir` and `stateDir` together also count twice.
  for (const auto& entry : map) {
    if (!entry.first.IsScalar()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "a key ", prefix.empty() ? "at top level" : absl::StrCat("in '", prefix, "'"), " is ",
          KindOf(entry.first), ", not a name"));
    }
    const std::string& key = entry.first.Scalar();
    const std::string path = JoinPath(prefix, key);
    const FieldDescriptor* field = FindField(type, key);
    if (field == nullptr) return UnknownKey(type, key, path);
    if (!seen.insert(field->number()).second) {
      return absl::InvalidArgumentError(absl::StrCat("key '", path, "' is given more than once"));
    }
    VMSCAN_RETURN_IF_ERROR(CheckSupported(field, path));
    VMSCAN_RETURN_IF_ERROR(MergeField(entry.second, field, path, message));
  }
  return absl::OkStatus();
}

absl::Status MergeDocument(absl::string_view text, Message* message) {
  std::vector<YAML::Node> documents = YAML::LoadAll(std::string(text));
  if (documents.size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("holds ", documents.size(), " YAML documents; expected one"));
  }
  if (documents.empty() || documents[0].IsNull()) return absl::OkStatus();
  if (!documents[0].IsMap()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the top level must be a map of keys, got ", KindOf(documents[0])));
  }
  return MergeMap(documents[0], "", message);
}

// ---- Files -------------------------------------------------------------------------------

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  const std::string what = absl::StrCat("cannot read config file ", path);
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, what);
  absl::Cleanup close_fd = [fd] { close(fd); };
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": is a directory"));
  }
  std::string text;
  char buffer[64 * 1024];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::ErrnoToStatus(errno, what);
    }
    text.append(buffer, static_cast<size_t>(n));
  }
  return text;
}

}  // namespace

absl::Status MergeConfigText(absl::string_view text, absl::string_view source,
                             google::protobuf::Message* message) {
  // Merge into a copy so that a failure leaves *message untouched.
  std::unique_ptr<Message> scratch(message->New());
  scratch->CopyFrom(*message);
  absl::Status status;
  try {
    status = WithPrefix(MergeDocument(text, scratch.get()), source);
  } catch (const YAML::ParserException& e) {
    std::string where(source);
    if (!e.mark.is_null()) absl::StrAppend(&where, ":", e.mark.line + 1, ":", e.mark.column + 1);
    return absl::InvalidArgumentError(absl::StrCat(where, ": YAML syntax error: ", e.msg));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": ", e.what()));
  }
  if (status.ok()) message->CopyFrom(*scratch);
  return status;
}

absl::Status MergeConfigFile(const std::string& path, google::protobuf::Message* message) {
  VMSCAN_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return MergeConfigText(text, path, message);
}

absl::Status ApplyOverride(absl::string_view assignment, google::protobuf::Message* message) {
  const std::string context = absl::StrCat("override ", Quoted(assignment));
  const size_t eq = assignment.find('=');
  if (eq == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": expected path.to.field=value"));
  }
  const absl::string_view path = absl::StripAsciiWhitespace(assignment.substr(0, eq));
  const absl::string_view value = assignment.substr(eq + 1);
  if (path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": empty field path before '='"));
  }
  std::unique_ptr<Message> scratch(message->New());
  scratch->CopyFrom(*message);
  Message* target = scratch.get();
  const std::vector<absl::string_view> keys = absl::StrSplit(path, '.');
  std::string walked;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].empty()) {
      return absl::InvalidArgumentError(absl::StrCat(context, ": empty key in path '", path, "'"));
    }
    walked = JoinPath(walked, keys[i]);
    const FieldDescriptor* field = FindField(target->GetDescriptor(), keys[i]);
    if (field == nullptr) {
      return WithPrefix(UnknownKey(target->GetDescriptor(), keys[i], walked), context);
    }
    VMSCAN_RETURN_IF_ERROR(WithPrefix(CheckSupported(field, walked), context));
    if (i + 1 == keys.size()) {
      if (!field->is_repeated()) {
        VMSCAN_RETURN_IF_ERROR(WithPrefix(SetFieldFromText(target, field, value, walked), context));
        break;
      }
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        return absl::InvalidArgumentError(absl::StrCat(
            context, ": key '", walked, "' is a list of messages; set it in a config file"));
      }
      target->GetReflection()->ClearField(target, field);
      if (value.empty()) break;
      const std::vector<absl::string_view> items = absl::StrSplit(value, ',');
      for (size_t j = 0; j < items.size(); ++j) {
        VMSCAN_RETURN_IF_ERROR(WithPrefix(
            SetFieldFromText(target, field, items[j], absl::StrCat(walked, "[", j, "]")), context));
      }
      break;
    }
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE || field->is_repeated()) {
      return absl::InvalidArgumentError(absl::StrCat(
          context, ": key '", walked, field->is_repeated() ? "' is a list" : "' is not a message",
          ", so it has no '", keys[i + 1], "'"));
    }
    target = target->GetReflection()->MutableMessage(target, field);
  }
  message->CopyFrom(*scratch);
  return absl::OkStatus();
}

std::string ConfigToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string json;
  // Printing a message we built ourselves cannot fail.
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

}  // namespace vmscan
