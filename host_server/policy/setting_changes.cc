#include "host_server/policy/setting_changes.h"

#include <algorithm>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/config/config_loader.h"
#include "common/status_macros.h"
#include "google/protobuf/descriptor.h"
#include "host_server/policy/effective_settings.h"

namespace vmscan {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// The message holding `key`'s leaf (nullptr when an intermediate message is absent).
const Message* Holder(const Message& root, absl::string_view key, const FieldDescriptor** leaf) {
  const Message* message = &root;
  std::vector<absl::string_view> parts = absl::StrSplit(key, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* field = message->GetDescriptor()->FindFieldByName(std::string(parts[i]));
    if (i + 1 == parts.size()) {
      *leaf = field;
      return message;
    }
    if (!message->GetReflection()->HasField(*message, field)) return nullptr;
    message = &message->GetReflection()->GetMessage(*message, field);
  }
  return nullptr;
}

bool HasKey(const Message& root, absl::string_view key) {
  const FieldDescriptor* leaf = nullptr;
  const Message* holder = Holder(root, key, &leaf);
  return holder != nullptr && holder->GetReflection()->HasField(*holder, leaf);
}

void ClearKey(Message* root, absl::string_view key) {
  const FieldDescriptor* leaf = nullptr;
  const Message* holder = Holder(*root, key, &leaf);
  if (holder == nullptr) return;
  Message* mutable_holder = const_cast<Message*>(holder);  // a sub-message of *root.
  mutable_holder->GetReflection()->ClearField(mutable_holder, leaf);
}

// An enum given as UNSPECIFIED (or 0) would read as "set" but mean nothing.
absl::Status RejectUnspecified(const v1::MailAntivirusSettings& settings, absl::string_view key) {
  const FieldDescriptor* leaf = nullptr;
  const Message* holder = Holder(settings, key, &leaf);
  if (holder == nullptr || leaf->cpp_type() != FieldDescriptor::CPPTYPE_ENUM) {
    return absl::OkStatus();
  }
  if (holder->GetReflection()->GetEnumValue(*holder, leaf) == 0) {
    std::vector<std::string> names;
    for (int i = 1; i < leaf->enum_type()->value_count(); ++i) {
      names.push_back(leaf->enum_type()->value(i)->name());
    }
    return absl::InvalidArgumentError(
        absl::StrCat("'", key, "' must be one of ", absl::StrJoin(names, ", ")));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> NormalizeSettingKey(absl::string_view key) {
  absl::string_view bare = absl::StripAsciiWhitespace(key);
  absl::ConsumePrefix(&bare, "mail_antivirus.");
  if (!absl::c_linear_search(SettingKeys(), bare)) {
    return absl::InvalidArgumentError(absl::StrCat("unknown setting '", key, "'; settings are ",
                                                   absl::StrJoin(SettingKeys(), ", ")));
  }
  return std::string(bare);
}

absl::Status ApplySettingChanges(
    const google::protobuf::RepeatedPtrField<v1::SettingChange>& changes, SettingsTarget target,
    v1::MailAntivirusSettings* settings, google::protobuf::RepeatedPtrField<std::string>* locked) {
  v1::MailAntivirusSettings next = *settings;
  std::vector<std::string> next_locked(locked->begin(), locked->end());
  if (changes.empty()) return absl::InvalidArgumentError("no setting to change");
  for (const v1::SettingChange& change : changes) {
    VMSCAN_ASSIGN_OR_RETURN(std::string key, NormalizeSettingKey(change.key()));
    if (target == SettingsTarget::kLocal && change.lock() != v1::SettingChange::KEEP) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", key, "': locks belong to policies, not to a VM's local settings"));
    }
    if (change.unset()) {
      ClearKey(&next, key);
    } else if (!change.value().empty()) {
      absl::Status applied = ApplyOverride(absl::StrCat(key, "=", change.value()), &next);
      if (!applied.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("bad value '", change.value(), "' for '", key, "': ", applied.message()));
      }
      VMSCAN_RETURN_IF_ERROR(RejectUnspecified(next, key));
    } else if (change.lock() == v1::SettingChange::KEEP) {
      return absl::InvalidArgumentError(absl::StrCat("'", key, "': no value, unset or lock given"));
    }
    if (change.lock() == v1::SettingChange::LOCK && !absl::c_linear_search(next_locked, key)) {
      next_locked.push_back(key);
    } else if (change.lock() == v1::SettingChange::UNLOCK) {
      next_locked.erase(std::remove(next_locked.begin(), next_locked.end(), key),
                        next_locked.end());
    }
  }
  // Keep locks in the canonical key order, so that versions compare and print stably.
  std::vector<std::string> ordered;
  for (const std::string& key : SettingKeys()) {
    if (absl::c_linear_search(next_locked, key)) ordered.push_back(key);
  }
  *settings = std::move(next);
  locked->Assign(ordered.begin(), ordered.end());
  return absl::OkStatus();
}

std::vector<std::string> SetKeys(const v1::MailAntivirusSettings& settings) {
  std::vector<std::string> keys;
  for (const std::string& key : SettingKeys()) {
    if (HasKey(settings, key)) keys.push_back(key);
  }
  return keys;
}

}  // namespace vmscan
