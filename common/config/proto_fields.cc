#include "common/config/proto_fields.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"

namespace vmscan {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Levenshtein distance.
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

absl::Status Expected(absl::string_view path, absl::string_view what, absl::string_view got) {
  return absl::InvalidArgumentError(absl::StrCat("key '", path, "' expects ", what, ", got ", got));
}

std::string Quoted(absl::string_view text) {
  return absl::StrCat("'", absl::CHexEscape(text), "'");
}

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

}  // namespace

const FieldDescriptor* FindField(const Descriptor* type, absl::string_view name) {
  if (const FieldDescriptor* field = type->FindFieldByName(std::string(name))) return field;
  for (int i = 0; i < type->field_count(); ++i) {
    if (type->field(i)->json_name() == name) return type->field(i);
  }
  return nullptr;
}

absl::optional<std::string> SuggestKey(const Descriptor* type, absl::string_view name) {
  size_t best_distance = 3;  // only names within edit distance 2
  absl::optional<std::string> best;
  for (int i = 0; i < type->field_count(); ++i) {
    for (const std::string& candidate : {type->field(i)->name(), type->field(i)->json_name()}) {
      const size_t distance = EditDistance(name, candidate);
      if (distance < best_distance) best_distance = distance, best = candidate;
    }
  }
  return best;
}

absl::Status SetFieldFromText(Message* message, const FieldDescriptor* field,
                              absl::string_view text, absl::string_view path) {
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

}  // namespace vmscan
