#include "guest_agent/settings/setting_keys.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/config/config_loader.h"

namespace vmscan {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr absl::string_view kPrefix = "mail_antivirus.";

void CollectKeys(const Descriptor* type, const std::string& prefix, std::vector<std::string>* out) {
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    std::string key = prefix.empty() ? field->name() : absl::StrCat(prefix, ".", field->name());
    if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
      CollectKeys(field->message_type(), key, out);
    } else {
      out->push_back(std::move(key));
    }
  }
}

}  // namespace

const std::vector<std::string>& LocalSettingKeys() {
  static const auto* keys = [] {
    auto* out = new std::vector<std::string>();
    CollectKeys(v1::MailAntivirusSettings::descriptor(), "", out);
    return out;
  }();
  return *keys;
}

absl::StatusOr<std::string> NormalizeSettingKey(absl::string_view key) {
  key = absl::StripAsciiWhitespace(key);
  absl::ConsumePrefix(&key, kPrefix);
  if (!absl::c_linear_search(LocalSettingKeys(), key)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown setting '", key, "' (settings: ", absl::StrJoin(LocalSettingKeys(), ", "), ")"));
  }
  return std::string(key);
}

absl::StatusOr<v1::SettingChange> ParseSettingAssignment(absl::string_view assignment) {
  const size_t eq = assignment.find('=');
  if (eq == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", assignment, "' is not KEY=VALUE (e.g. action_on_threat=DELETE)"));
  }
  absl::StatusOr<std::string> key = NormalizeSettingKey(assignment.substr(0, eq));
  if (!key.ok()) return key.status();
  const absl::string_view value = assignment.substr(eq + 1);
  v1::MailAntivirusSettings scratch;
  absl::Status parsed = ApplyOverride(absl::StrCat(*key, "=", value), &scratch);
  if (!parsed.ok()) return parsed;
  v1::SettingChange change;
  change.set_key(*key);
  change.set_value(SettingValueText(scratch, *key));
  // An enum's zero value means "not set" in a policy; asking for it is asking to unset.
  if (change.value() == "UNSPECIFIED") {
    return absl::InvalidArgumentError(absl::StrCat("'", value, "' is not a value for ", *key,
                                                   "; to inherit again use --unset ", *key));
  }
  return change;
}

absl::StatusOr<v1::SettingChange> ParseSettingUnset(absl::string_view key) {
  absl::StatusOr<std::string> normalized = NormalizeSettingKey(key);
  if (!normalized.ok()) return normalized.status();
  v1::SettingChange change;
  change.set_key(*normalized);
  change.set_unset(true);
  return change;
}

std::string SettingValueText(const v1::MailAntivirusSettings& settings, absl::string_view key) {
  const Message* message = &settings;
  std::vector<absl::string_view> parts = absl::StrSplit(key, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* field = message->GetDescriptor()->FindFieldByName(std::string(parts[i]));
    if (field == nullptr) return "";
    const Reflection* r = message->GetReflection();
    if (!r->HasField(*message, field)) return "";
    if (i + 1 < parts.size()) {
      if (field->type() != FieldDescriptor::TYPE_MESSAGE) return "";
      message = &r->GetMessage(*message, field);
      continue;
    }
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_BOOL:
        return r->GetBool(*message, field) ? "true" : "false";
      case FieldDescriptor::CPPTYPE_ENUM:
        return r->GetEnum(*message, field)->name();
      case FieldDescriptor::CPPTYPE_UINT32:
        return absl::StrCat(r->GetUInt32(*message, field));
      case FieldDescriptor::CPPTYPE_UINT64:
        return absl::StrCat(r->GetUInt64(*message, field));
      case FieldDescriptor::CPPTYPE_INT32:
        return absl::StrCat(r->GetInt32(*message, field));
      case FieldDescriptor::CPPTYPE_INT64:
        return absl::StrCat(r->GetInt64(*message, field));
      case FieldDescriptor::CPPTYPE_STRING:
        return r->GetString(*message, field);
      default:
        return "";
    }
  }
  return "";
}

}  // namespace vmscan
