#include "tools/vmscanctl/settings_args.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/config/config_loader.h"
#include "tools/vmscanctl/format.h"

namespace vmscan {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// What the server accepts in front of a key, and its JSON spelling.
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

// The proto name or the JSON (lowerCamel) name, as the config loader accepts them.
const FieldDescriptor* FindField(const Descriptor* type, absl::string_view name) {
  if (const FieldDescriptor* field = type->FindFieldByName(std::string(name))) return field;
  for (int i = 0; i < type->field_count(); ++i) {
    if (type->field(i)->json_name() == name) return type->field(i);
  }
  return nullptr;
}

// A key or value as it may appear in a message: made safe for a terminal, cut if long.
std::string Shown(absl::string_view text) { return SanitizeForTerminal(Truncate(text, 80)); }

// The config loader's message for ApplyOverride(`assignment`), without its "override '...': "
// prefix: the command line names the argument itself.
std::string LoaderMessage(absl::string_view assignment, const absl::Status& status) {
  absl::string_view message = status.message();
  absl::ConsumePrefix(&message, absl::StrCat("override '", absl::CHexEscape(assignment), "': "));
  return SanitizeForTerminal(message);
}

// "did you mean 'max_message_bytes'" in a loader message → the suggested name, else "".
std::string Suggestion(absl::string_view loader_message) {
  constexpr absl::string_view kMarker = "did you mean '";
  const size_t start = loader_message.find(kMarker);
  if (start == absl::string_view::npos) return "";
  const size_t from = start + kMarker.size();
  const size_t end = loader_message.find('\'', from);
  if (end == absl::string_view::npos) return "";
  return std::string(loader_message.substr(from, end - from));
}

absl::Status UnknownSetting(absl::string_view key, absl::string_view walked_prefix,
                            absl::string_view stripped) {
  // The loader knows the closest field name; it names it relative to the message it looked in.
  v1::MailAntivirusSettings scratch;
  const std::string assignment = absl::StrCat(stripped, "=0");
  const std::string suggestion =
      Suggestion(LoaderMessage(assignment, ApplyOverride(assignment, &scratch)));
  std::string message = absl::StrCat("unknown setting '", Shown(key), "'");
  if (!suggestion.empty()) {
    absl::StrAppend(&message, "; did you mean '", walked_prefix, walked_prefix.empty() ? "" : ".",
                    suggestion, "'?");
  }
  absl::StrAppend(&message, " (the keys are listed in 'vmscanctl --help')");
  return absl::InvalidArgumentError(message);
}

// The message holding the leaf of canonical `key` inside `root`, or nullptr when an
// intermediate message is absent.
const Message* Holder(const Message& root, absl::string_view key, const FieldDescriptor** leaf) {
  const Message* message = &root;
  const std::vector<absl::string_view> parts = absl::StrSplit(key, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* field = message->GetDescriptor()->FindFieldByName(std::string(parts[i]));
    if (i + 1 == parts.size()) {
      *leaf = field;
      return message;
    }
    const Reflection* reflection = message->GetReflection();
    if (!reflection->HasField(*message, field)) return nullptr;
    message = &reflection->GetMessage(*message, field);
  }
  return nullptr;
}

// The descriptor of canonical `key`'s leaf.
const FieldDescriptor* LeafField(absl::string_view key) {
  const Descriptor* type = v1::MailAntivirusSettings::descriptor();
  const FieldDescriptor* field = nullptr;
  for (absl::string_view part : absl::StrSplit(key, '.')) {
    field = type->FindFieldByName(std::string(part));
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) type = field->message_type();
  }
  return field;
}

// The value of a set leaf as text, as the server prints it.
std::string ValueText(const Message& holder, const FieldDescriptor* leaf) {
  const Reflection* r = holder.GetReflection();
  switch (leaf->cpp_type()) {
    case FieldDescriptor::CPPTYPE_BOOL:
      return r->GetBool(holder, leaf) ? "true" : "false";
    case FieldDescriptor::CPPTYPE_ENUM:
      return r->GetEnum(holder, leaf)->name();
    case FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(r->GetUInt32(holder, leaf));
    case FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrCat(r->GetUInt64(holder, leaf));
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(r->GetInt32(holder, leaf));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(r->GetInt64(holder, leaf));
    case FieldDescriptor::CPPTYPE_STRING:
      return r->GetString(holder, leaf);
    default:
      return "?";
  }
}

// "AUTO, DISINFECT_ELSE_DELETE, ..." : the values of an enum setting, UNSPECIFIED (0) left out.
std::string SettableValues(const FieldDescriptor* leaf) {
  std::vector<std::string> names;
  for (int i = 0; i < leaf->enum_type()->value_count(); ++i) {
    if (leaf->enum_type()->value(i)->number() != 0) {
      names.push_back(leaf->enum_type()->value(i)->name());
    }
  }
  return absl::StrCat(absl::StrJoin(names, ", "), " (in any case)");
}

// Reads `value` for canonical `key` as --set would; returns its canonical text.
absl::StatusOr<std::string> CanonicalValue(absl::string_view arg, const std::string& key,
                                           absl::string_view value) {
  v1::MailAntivirusSettings scratch;
  const std::string assignment = absl::StrCat(key, "=", value);
  const FieldDescriptor* leaf = nullptr;
  if (absl::Status s = ApplyOverride(assignment, &scratch); !s.ok()) {
    leaf = LeafField(key);
    if (leaf != nullptr && leaf->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
      // The loader lists UNSPECIFIED too, which no policy may set.
      return absl::InvalidArgumentError(
          absl::StrCat("'", Shown(arg), "': ", key, " is one of ", SettableValues(leaf)));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("'", Shown(arg), "': ", LoaderMessage(assignment, s)));
  }
  const Message* holder = Holder(scratch, key, &leaf);
  if (holder == nullptr || !holder->GetReflection()->HasField(*holder, leaf)) {
    return absl::InvalidArgumentError(absl::StrCat("'", Shown(arg), "': no value"));
  }
  if (leaf->cpp_type() == FieldDescriptor::CPPTYPE_ENUM &&
      holder->GetReflection()->GetEnumValue(*holder, leaf) == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", Shown(arg), "': ", leaf->enum_type()->value(0)->name(),
                     " is not a value a policy sets; 'vmscanctl policy unset GROUP ", key,
                     "' makes it inherit again"));
  }
  return ValueText(*holder, leaf);
}

}  // namespace

const std::vector<std::string>& AllSettingKeys() {
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
    if (field == nullptr) return UnknownSetting(key, path, stripped);
    path = path.empty() ? field->name() : absl::StrCat(path, ".", field->name());
    type = field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE ? field->message_type() : nullptr;
  }
  if (type != nullptr) {
    std::vector<std::string> inside;
    CollectKeys(type, path, &inside);
    return absl::InvalidArgumentError(
        absl::StrCat("'", Shown(key), "' is a group of settings, not one: give one of ",
                     absl::StrJoin(inside, ", ")));
  }
  return path;
}

absl::StatusOr<std::vector<v1::SettingChange>> ParseSetArgs(const std::vector<std::string>& args,
                                                            v1::SettingChange::Lock lock) {
  std::vector<v1::SettingChange> changes;
  std::set<std::string> seen;
  for (const std::string& arg : args) {
    const size_t eq = arg.find('=');
    const absl::string_view key_text =
        eq == std::string::npos ? absl::string_view(arg) : absl::string_view(arg).substr(0, eq);
    absl::StatusOr<std::string> key = CanonicalSettingKey(key_text);
    if (!key.ok()) return key.status();
    if (!seen.insert(*key).second) {
      return absl::InvalidArgumentError(absl::StrCat("setting '", *key, "' given twice"));
    }
    v1::SettingChange& change = changes.emplace_back();
    change.set_key(*key);
    change.set_lock(lock);
    if (eq == std::string::npos) {
      if (lock == v1::SettingChange::KEEP) {
        return absl::InvalidArgumentError(
            absl::StrCat("'", Shown(arg), "': want KEY=VALUE (a bare KEY only with --lock or ",
                         "--unlock, to change just the lock)"));
      }
      continue;
    }
    absl::StatusOr<std::string> value =
        CanonicalValue(arg, *key, absl::string_view(arg).substr(eq + 1));
    if (!value.ok()) return value.status();
    change.set_value(*value);
  }
  return changes;
}

absl::StatusOr<std::vector<v1::SettingChange>> ParseUnsetArgs(
    const std::vector<std::string>& args) {
  std::vector<v1::SettingChange> changes;
  std::set<std::string> seen;
  for (const std::string& arg : args) {
    if (arg.find('=') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", Shown(arg), "': policy unset takes keys, without a value"));
    }
    absl::StatusOr<std::string> key = CanonicalSettingKey(arg);
    if (!key.ok()) return key.status();
    if (!seen.insert(*key).second) {
      return absl::InvalidArgumentError(absl::StrCat("setting '", *key, "' given twice"));
    }
    v1::SettingChange& change = changes.emplace_back();
    change.set_key(*key);
    change.set_unset(true);
  }
  return changes;
}

std::vector<std::pair<std::string, std::string>> SetSettings(
    const v1::MailAntivirusSettings& settings) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& key : AllSettingKeys()) {
    const FieldDescriptor* leaf = nullptr;
    const Message* holder = Holder(settings, key, &leaf);
    if (holder != nullptr && holder->GetReflection()->HasField(*holder, leaf)) {
      out.emplace_back(key, ValueText(*holder, leaf));
    }
  }
  return out;
}

}  // namespace vmscan
