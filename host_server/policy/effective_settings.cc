#include "host_server/policy/effective_settings.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace vmscan {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

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

// The message holding the leaf of `key` inside `root` and the leaf's descriptor; nullptr when
// the key is unknown or an intermediate message is absent.
const Message* Locate(const Message& root, absl::string_view key, const FieldDescriptor** leaf) {
  const Message* message = &root;
  std::vector<absl::string_view> parts = absl::StrSplit(key, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* field = message->GetDescriptor()->FindFieldByName(std::string(parts[i]));
    if (field == nullptr) return nullptr;
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

// Like Locate, creating intermediate messages; `key` must be known.
Message* LocateMutable(Message* root, absl::string_view key, const FieldDescriptor** leaf) {
  Message* message = root;
  std::vector<absl::string_view> parts = absl::StrSplit(key, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* field = message->GetDescriptor()->FindFieldByName(std::string(parts[i]));
    if (i + 1 == parts.size()) {
      *leaf = field;
      return message;
    }
    message = message->GetReflection()->MutableMessage(message, field);
  }
  return nullptr;
}

bool Has(const Message& root, absl::string_view key) {
  const FieldDescriptor* leaf = nullptr;
  const Message* holder = Locate(root, key, &leaf);
  return holder != nullptr && holder->GetReflection()->HasField(*holder, leaf);
}

void CopyKey(const Message& from, absl::string_view key, Message* to) {
  const FieldDescriptor* leaf = nullptr;
  const Message* source = Locate(from, key, &leaf);
  Message* target = LocateMutable(to, key, &leaf);
  const Reflection* in = source->GetReflection();
  const Reflection* out = target->GetReflection();
  switch (leaf->cpp_type()) {
    case FieldDescriptor::CPPTYPE_BOOL:
      out->SetBool(target, leaf, in->GetBool(*source, leaf));
      break;
    case FieldDescriptor::CPPTYPE_ENUM:
      out->SetEnumValue(target, leaf, in->GetEnumValue(*source, leaf));
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      out->SetUInt32(target, leaf, in->GetUInt32(*source, leaf));
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      out->SetUInt64(target, leaf, in->GetUInt64(*source, leaf));
      break;
    case FieldDescriptor::CPPTYPE_INT32:
      out->SetInt32(target, leaf, in->GetInt32(*source, leaf));
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      out->SetInt64(target, leaf, in->GetInt64(*source, leaf));
      break;
    case FieldDescriptor::CPPTYPE_STRING:
      out->SetString(target, leaf, in->GetString(*source, leaf));
      break;
    default:
      // A settings field of another type is a schema change this code must learn about.
      abort();
  }
}

std::string ValueText(const Message& root, absl::string_view key) {
  const FieldDescriptor* leaf = nullptr;
  const Message* holder = Locate(root, key, &leaf);
  const Reflection* r = holder->GetReflection();
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
      abort();
  }
}

bool IsKey(absl::string_view key) { return absl::c_linear_search(SettingKeys(), key); }

bool Locks(const v1::Policy& policy, absl::string_view key) {
  return absl::c_linear_search(policy.locked(), key);
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

absl::StatusOr<ResolvedSettings> ResolveSettings(const v1::MailAntivirusSettings& defaults,
                                                 absl::Span<const v1::Policy* const> chain,
                                                 const v1::MailAntivirusSettings& local) {
  ResolvedSettings resolved;
  for (const std::string& key : SettingKeys()) {
    if (!Has(defaults, key)) {
      return absl::InvalidArgumentError(absl::StrCat("defaults do not set '", key, "'"));
    }
    const Message* from = &defaults;
    v1::SettingSource source;
    source.set_kind(v1::SettingSource::DEFAULT);
    bool locked = false;
    for (const v1::Policy* policy : chain) {
      if (policy == nullptr) continue;
      if (Has(policy->settings(), key)) {
        from = &policy->settings();
        source.set_kind(v1::SettingSource::POLICY);
        source.set_group(policy->group());
      }
      if (Locks(*policy, key)) {
        // The top-most lock wins: descendants and the VM cannot change the value any more.
        source.set_kind(v1::SettingSource::LOCKED);
        source.set_group(policy->group());
        locked = true;
        break;
      }
    }
    if (!locked && Has(local, key)) {
      from = &local;
      source.set_kind(v1::SettingSource::LOCAL);
      source.clear_group();
    }
    CopyKey(*from, key, &resolved.values);
    v1::EffectiveSetting& setting = resolved.provenance.emplace_back();
    setting.set_key(key);
    setting.set_value(ValueText(*from, key));
    *setting.mutable_source() = std::move(source);
  }
  return resolved;
}

absl::Status CheckLocalChangeAllowed(absl::Span<const v1::Policy* const> chain,
                                     absl::string_view key) {
  if (!IsKey(key)) {
    return absl::InvalidArgumentError(absl::StrCat("unknown setting '", key, "'"));
  }
  for (const v1::Policy* policy : chain) {
    if (policy != nullptr && Locks(*policy, key)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "setting '", key, "' is locked by the policy of group '", policy->group(), "'"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidatePolicy(const v1::Policy& policy) {
  if (policy.group().empty()) return absl::InvalidArgumentError("policy names no group");
  for (const std::string& key : policy.locked()) {
    if (!IsKey(key)) {
      return absl::InvalidArgumentError(
          absl::StrCat("policy of '", policy.group(), "' locks unknown setting '", key, "'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace vmscan
