#include "common/settings/mail_settings.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/config/proto_fields.h"

namespace vmscan {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// What may stand in front of a key: the config file's section, by proto and by JSON name.
constexpr absl::string_view kPrefixes[] = {"mail_antivirus.", "mailAntivirus."};

void CollectKeys(const Descriptor* type, const std::string& prefix, std::vector<std::string>* out) {
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    std::string key = prefix.empty() ? field->name() : absl::StrCat(prefix, ".", field->name());
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      CollectKeys(field->message_type(), key, out);
    } else {
      out->push_back(std::move(key));
    }
  }
}

// Functions below take canonical keys; any other is a bug of the caller.
[[noreturn]] void UnknownKeyBug(absl::string_view key) {
  fprintf(stderr, "mail_settings: '%s' is not a canonical setting key\n",
          absl::CHexEscape(key).c_str());
  abort();
}

// The descriptor of canonical `key`'s leaf.
const FieldDescriptor* LeafField(absl::string_view key) {
  const Descriptor* type = v1::MailAntivirusSettings::descriptor();
  const FieldDescriptor* field = nullptr;
  for (absl::string_view part : absl::StrSplit(key, '.')) {
    field = type == nullptr ? nullptr : type->FindFieldByName(std::string(part));
    if (field == nullptr) UnknownKeyBug(key);
    type = field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE ? field->message_type() : nullptr;
  }
  if (field == nullptr || type != nullptr) UnknownKeyBug(key);
  return field;
}

// The message holding canonical `key`'s leaf inside `root`, nullptr when an intermediate
// message is absent; *leaf is the leaf's descriptor.
const Message* Holder(const Message& root, absl::string_view key, const FieldDescriptor** leaf) {
  *leaf = LeafField(key);
  const Message* message = &root;
  const std::vector<absl::string_view> parts = absl::StrSplit(key, '.');
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    const FieldDescriptor* field = message->GetDescriptor()->FindFieldByName(std::string(parts[i]));
    const Reflection* reflection = message->GetReflection();
    if (!reflection->HasField(*message, field)) return nullptr;
    message = &reflection->GetMessage(*message, field);
  }
  return message;
}

// Like Holder, creating the intermediate messages.
Message* MutableHolder(Message* root, absl::string_view key, const FieldDescriptor** leaf) {
  *leaf = LeafField(key);
  Message* message = root;
  const std::vector<absl::string_view> parts = absl::StrSplit(key, '.');
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    const FieldDescriptor* field = message->GetDescriptor()->FindFieldByName(std::string(parts[i]));
    message = message->GetReflection()->MutableMessage(message, field);
  }
  return message;
}

// `name` of `type` is not a field: the closest one (as config files and --set suggest it), as a
// full canonical path under `walked`.
absl::Status UnknownSetting(absl::string_view key, const Descriptor* type, absl::string_view walked,
                            absl::string_view name) {
  std::string message = absl::StrCat("unknown setting '", key, "'");
  if (type != nullptr) {
    const absl::optional<std::string> near = SuggestKey(type, name);
    if (const FieldDescriptor* field = near ? FindField(type, *near) : nullptr) {
      absl::StrAppend(&message, "; did you mean '", walked, walked.empty() ? "" : ".",
                      field->name(), "'?");
    }
  }
  return absl::InvalidArgumentError(message);
}

// "AUTO, DISINFECT_ELSE_DELETE, ..." : the values of an enum setting, UNSPECIFIED (0) left out.
std::string SettableValues(const FieldDescriptor* leaf) {
  std::vector<std::string> names;
  for (int i = 0; i < leaf->enum_type()->value_count(); ++i) {
    if (leaf->enum_type()->value(i)->number() != 0) {
      names.push_back(leaf->enum_type()->value(i)->name());
    }
  }
  return absl::StrJoin(names, ", ");
}

}  // namespace

const std::vector<std::string>& SettingKeys() {
  static const auto* keys = [] {
    auto* out = new std::vector<std::string>();
    CollectKeys(v1::MailAntivirusSettings::descriptor(), "", out);
    return out;
  }();
  return *keys;
}

absl::StatusOr<std::string> CanonicalSettingKey(absl::string_view key) {
  absl::string_view stripped = absl::StripAsciiWhitespace(key);
  for (absl::string_view prefix : kPrefixes) {
    if (absl::ConsumePrefix(&stripped, prefix)) break;
  }
  if (stripped.empty()) return absl::InvalidArgumentError("empty setting key");
  const Descriptor* type = v1::MailAntivirusSettings::descriptor();
  std::string path;
  for (absl::string_view part : absl::StrSplit(stripped, '.')) {
    const FieldDescriptor* field = type == nullptr ? nullptr : FindField(type, part);
    if (field == nullptr) return UnknownSetting(key, type, path, part);
    path = path.empty() ? field->name() : absl::StrCat(path, ".", field->name());
    type = field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE ? field->message_type() : nullptr;
  }
  if (type != nullptr) {
    std::vector<std::string> inside;
    CollectKeys(type, path, &inside);
    return absl::InvalidArgumentError(absl::StrCat(
        "'", key, "' is a group of settings, not one: give one of ", absl::StrJoin(inside, ", ")));
  }
  return path;
}

bool HasSetting(const v1::MailAntivirusSettings& settings, absl::string_view key) {
  const FieldDescriptor* leaf = nullptr;
  const Message* holder = Holder(settings, key, &leaf);
  return holder != nullptr && holder->GetReflection()->HasField(*holder, leaf);
}

void ClearSetting(v1::MailAntivirusSettings* settings, absl::string_view key) {
  if (!HasSetting(*settings, key)) return;  // without creating empty intermediate messages
  const FieldDescriptor* leaf = nullptr;
  Message* holder = MutableHolder(settings, key, &leaf);
  holder->GetReflection()->ClearField(holder, leaf);
}

void CopySetting(const v1::MailAntivirusSettings& from, absl::string_view key,
                 v1::MailAntivirusSettings* to) {
  if (!HasSetting(from, key)) {
    ClearSetting(to, key);
    return;
  }
  const FieldDescriptor* leaf = nullptr;
  const Message* source = Holder(from, key, &leaf);
  Message* target = MutableHolder(to, key, &leaf);
  // Reflection copies whole messages or swaps single fields: swap the leaf with a copy.
  std::unique_ptr<Message> copy(source->New());
  copy->CopyFrom(*source);
  target->GetReflection()->SwapFields(copy.get(), target, {leaf});
}

std::string SettingValueText(const v1::MailAntivirusSettings& settings, absl::string_view key) {
  const FieldDescriptor* leaf = nullptr;
  const Message* holder = Holder(settings, key, &leaf);
  if (holder == nullptr) return "";
  const Reflection* r = holder->GetReflection();
  if (!r->HasField(*holder, leaf)) return "";
  switch (leaf->cpp_type()) {
    case FieldDescriptor::CPPTYPE_BOOL:
      return r->GetBool(*holder, leaf) ? "true" : "false";
    case FieldDescriptor::CPPTYPE_ENUM:
      return r->GetEnum(*holder, leaf)->name();
    case FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(r->GetUInt32(*holder, leaf));
    case FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrCat(r->GetUInt64(*holder, leaf));
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(r->GetInt32(*holder, leaf));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(r->GetInt64(*holder, leaf));
    case FieldDescriptor::CPPTYPE_STRING:
      return r->GetString(*holder, leaf);
    default:
      // A settings field of another type is a schema change this code must learn about.
      abort();
  }
}

std::vector<std::string> SetSettingKeys(const v1::MailAntivirusSettings& settings) {
  std::vector<std::string> keys;
  for (const std::string& key : SettingKeys()) {
    if (HasSetting(settings, key)) keys.push_back(key);
  }
  return keys;
}

absl::Status SetSettingFromText(v1::MailAntivirusSettings* settings, absl::string_view key,
                                absl::string_view text) {
  v1::MailAntivirusSettings next = *settings;
  const FieldDescriptor* leaf = nullptr;
  Message* holder = MutableHolder(&next, key, &leaf);
  const absl::Status parsed = SetFieldFromText(holder, leaf, text, key);
  const bool is_enum = leaf->cpp_type() == FieldDescriptor::CPPTYPE_ENUM;
  // The loader takes UNSPECIFIED as an enum's value; it reads as "set" but means nothing.
  if (is_enum && parsed.ok() && IsUnspecifiedSettingValue(key, text)) {
    return absl::InvalidArgumentError(absl::StrCat(leaf->enum_type()->FindValueByNumber(0)->name(),
                                                   " is not a value to set: ", key, " is one of ",
                                                   SettableValues(leaf), " (in any case)"));
  }
  if (is_enum && !parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(key, " is one of ", SettableValues(leaf), " (in any case)"));
  }
  if (!parsed.ok()) return parsed;
  *settings = std::move(next);
  return absl::OkStatus();
}

absl::StatusOr<std::string> ParseSettingValue(absl::string_view key, absl::string_view text) {
  v1::MailAntivirusSettings scratch;
  if (absl::Status s = SetSettingFromText(&scratch, key, text); !s.ok()) return s;
  return SettingValueText(scratch, key);
}

bool IsUnspecifiedSettingValue(absl::string_view key, absl::string_view text) {
  v1::MailAntivirusSettings scratch;
  const FieldDescriptor* leaf = nullptr;
  Message* holder = MutableHolder(&scratch, key, &leaf);
  if (leaf->cpp_type() != FieldDescriptor::CPPTYPE_ENUM) return false;
  if (!SetFieldFromText(holder, leaf, text, key).ok()) return false;
  return holder->GetReflection()->GetEnumValue(*holder, leaf) == 0;
}

}  // namespace vmscan
