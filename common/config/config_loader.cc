#include "common/config/config_loader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <set>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "yaml-cpp/yaml.h"

namespace vmscan {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
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

// Levenshtein distance, for "did you mean" hints on misspelt keys.
size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Accepts the proto field name and its JSON (lowerCamel) name.
const FieldDescriptor* FindField(const Descriptor* type, absl::string_view key) {
  if (const FieldDescriptor* field = type->FindFieldByName(std::string(key))) return field;
  for (int i = 0; i < type->field_count(); ++i) {
    if (type->field(i)->json_name() == key) return type->field(i);
  }
  return nullptr;
}

absl::Status UnknownKey(const Descriptor* type, absl::string_view key, absl::string_view path) {
  std::string message =
      absl::StrCat("unknown key '", path, "' (", type->full_name(), " has no such field");
  size_t best_distance = 3;  // Only suggest names within edit distance 2.
  std::string best;
  for (int i = 0; i < type->field_count(); ++i) {
    for (const std::string& name : {type->field(i)->name(), type->field(i)->json_name()}) {
      size_t distance = EditDistance(key, name);
      if (distance < best_distance) best_distance = distance, best = name;
    }
  }
  if (!best.empty()) absl::StrAppend(&message, "; did you mean '", best, "'?");
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

// ---- Scalar conversion (shared by files and overrides) -----------------------------------

// Plain decimal only: SimpleAtoi alone would also take surrounding whitespace and a '+'.
template <typename T>
bool ParseInteger(absl::string_view text, T* out) {
  absl::string_view digits = text;
  if (std::is_signed_v<T>) absl::ConsumePrefix(&digits, "-");
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), absl::ascii_isdigit)) {
    return false;
  }
  return absl::SimpleAtoi(text, out);
}

template <typename T>
absl::StatusOr<T> ToInteger(absl::string_view text, absl::string_view type,
                            absl::string_view path) {
  T value;
  if (ParseInteger(text, &value)) return value;
  return Expected(path,
                  absl::StrCat(type, " (decimal ", std::numeric_limits<T>::min(), "..",
                               std::numeric_limits<T>::max(), ")"),
                  Quoted(text));
}

template <typename T>
absl::StatusOr<T> ToFloat(absl::string_view text, absl::string_view type, absl::string_view path) {
  T value;
  bool ok;
  if constexpr (std::is_same_v<T, float>) {
    ok = absl::SimpleAtof(text, &value);
  } else {
    ok = absl::SimpleAtod(text, &value);
  }
  // SimpleAto[fd] round an overflow to infinity; only take infinity or NaN when spelled out.
  if (ok && !std::isfinite(value)) {
    const std::string lower = absl::AsciiStrToLower(text);
    ok = absl::StrContains(lower, "inf") || absl::StrContains(lower, "nan");
  }
  if (ok) return value;
  return Expected(path, type, Quoted(text));
}

absl::StatusOr<bool> ToBool(absl::string_view text, absl::string_view path) {
  for (absl::string_view yes : {"true", "yes", "on", "1"}) {
    if (absl::EqualsIgnoreCase(text, yes)) return true;
  }
  for (absl::string_view no : {"false", "no", "off", "0"}) {
    if (absl::EqualsIgnoreCase(text, no)) return false;
  }
  return Expected(path, "bool (true/false/yes/no/on/off/1/0)", Quoted(text));
}

absl::StatusOr<int> ToEnum(const EnumDescriptor* type, absl::string_view text,
                           absl::string_view path) {
  std::vector<std::string> names;
  for (int i = 0; i < type->value_count(); ++i) {
    if (absl::EqualsIgnoreCase(type->value(i)->name(), text)) return type->value(i)->number();
    names.push_back(type->value(i)->name());
  }
  int number;
  if (ParseInteger(text, &number) && type->FindValueByNumber(number) != nullptr) return number;
  return Expected(path,
                  absl::StrCat("one of ", absl::StrJoin(names, ", "), " (", type->full_name(), ")"),
                  Quoted(text));
}

// Sets a singular scalar field, or appends to a repeated one.
absl::Status SetScalar(Message* message, const FieldDescriptor* field, absl::string_view text,
                       absl::string_view path) {
  const Reflection* r = message->GetReflection();
  const bool add = field->is_repeated();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: {
      VMSCAN_ASSIGN_OR_RETURN(int32_t v, ToInteger<int32_t>(text, "int32", path));
      add ? r->AddInt32(message, field, v) : r->SetInt32(message, field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      VMSCAN_ASSIGN_OR_RETURN(int64_t v, ToInteger<int64_t>(text, "int64", path));
      add ? r->AddInt64(message, field, v) : r->SetInt64(message, field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      VMSCAN_ASSIGN_OR_RETURN(uint32_t v, ToInteger<uint32_t>(text, "uint32", path));
      add ? r->AddUInt32(message, field, v) : r->SetUInt32(message, field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      VMSCAN_ASSIGN_OR_RETURN(uint64_t v, ToInteger<uint64_t>(text, "uint64", path));
      add ? r->AddUInt64(message, field, v) : r->SetUInt64(message, field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_FLOAT: {
      VMSCAN_ASSIGN_OR_RETURN(float v, ToFloat<float>(text, "float", path));
      add ? r->AddFloat(message, field, v) : r->SetFloat(message, field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      VMSCAN_ASSIGN_OR_RETURN(double v, ToFloat<double>(text, "double", path));
      add ? r->AddDouble(message, field, v) : r->SetDouble(message, field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      VMSCAN_ASSIGN_OR_RETURN(bool v, ToBool(text, path));
      add ? r->AddBool(message, field, v) : r->SetBool(message, field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      VMSCAN_ASSIGN_OR_RETURN(int v, ToEnum(field->enum_type(), text, path));
      add ? r->AddEnumValue(message, field, v) : r->SetEnumValue(message, field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING:  // string and bytes, both taken as raw text.
      add ? r->AddString(message, field, std::string(text))
          : r->SetString(message, field, std::string(text));
      break;
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return absl::InvalidArgumentError(absl::StrCat("key '", path, "' is a message (",
                                                     field->message_type()->full_name(),
                                                     "); set one of its fields instead"));
  }
  return absl::OkStatus();
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
  return SetScalar(message, field, node.Scalar(), path);
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
        VMSCAN_RETURN_IF_ERROR(WithPrefix(SetScalar(target, field, value, walked), context));
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
            SetScalar(target, field, items[j], absl::StrCat(walked, "[", j, "]")), context));
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
