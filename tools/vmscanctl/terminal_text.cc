#include "tools/vmscanctl/terminal_text.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace vmscan {
namespace {

absl::Status BadTime(absl::string_view text) {
  return absl::InvalidArgumentError(
      absl::StrCat("cannot read \"", SanitizeForTerminal(Truncate(text, 64)),
                   "\" as a time: want RFC 3339 (2026-11-27T06:00:00Z), a UTC date "
                   "(2026-11-27) or an age (90m, 2h, 30d)"));
}

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Code points that must not reach a terminal: C0 and C1 controls, DEL, and the bidi controls
// that reorder how the rest of a line is displayed.
bool IsUnsafeCodePoint(uint32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x061C || cp == 0x200E || cp == 0x200F ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

// Length of the valid UTF-8 sequence at the start of `s` and its code point; 0 if invalid.
size_t DecodeUtf8(absl::string_view s, uint32_t* cp) {
  const auto b0 = static_cast<unsigned char>(s[0]);
  size_t len;
  uint32_t min;
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  } else if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2, min = 0x80, *cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3, min = 0x800, *cp = b0 & 0x0F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4, min = 0x10000, *cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (s.size() < len) return 0;
  for (size_t i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (!IsContinuation(b)) return 0;
    *cp = (*cp << 6) | (b & 0x3F);
  }
  if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) return 0;
  return len;
}

size_t CodePoints(absl::string_view s) {
  return std::count_if(s.begin(), s.end(),
                       [](char c) { return !IsContinuation(static_cast<unsigned char>(c)); });
}

}  // namespace

// Left-aligned columns separated by two spaces; the columns in `right` are right-aligned.
std::string AlignedTable(const std::vector<std::vector<std::string>>& rows,
                         const std::vector<bool>& right) {
  std::vector<size_t> width(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], CodePoints(row[i]));
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      const std::string pad(width[i] - CodePoints(row[i]), ' ');
      if (i > 0) line += "  ";
      absl::StrAppend(&line, right[i] ? pad : "", row[i], right[i] ? "" : pad);
    }
    absl::StrAppend(&out, absl::StripTrailingAsciiWhitespace(line), "\n");
  }
  return out;
}

absl::StatusOr<absl::Duration> ParseAge(absl::string_view text) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  absl::Duration age;
  int64_t n = 0;
  bool ok = false;
  if (!trimmed.empty() && (trimmed.back() == 'd' || trimmed.back() == 'w') &&
      absl::SimpleAtoi(trimmed.substr(0, trimmed.size() - 1), &n) && n > 0 &&
      n <= int64_t{1} << 32) {
    age = absl::Hours(24) * n * (trimmed.back() == 'w' ? 7 : 1);
    ok = true;
  } else {
    ok = absl::ParseDuration(trimmed, &age) && trimmed != "0";
  }
  if (!ok || age <= absl::ZeroDuration() || age == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read \"", SanitizeForTerminal(Truncate(text, 64)),
                     "\" as an age: want a positive number and a unit, e.g. 90s, 45m, 2h, 30d, "
                     "2w"));
  }
  return age;
}

absl::StatusOr<absl::Time> ParseTimeArg(absl::string_view text, absl::Time now) {
  const std::string trimmed(absl::StripAsciiWhitespace(text));
  absl::Time t;
  std::string error;
  if (trimmed.find_first_of("Tt:") != std::string::npos && trimmed.find('-') == 4) {
    if (absl::ParseTime(absl::RFC3339_full, trimmed, &t, &error)) return t;
    return BadTime(text);
  }
  if (trimmed.size() == 10 && trimmed[4] == '-' && trimmed[7] == '-') {
    if (absl::ParseTime("%Y-%m-%d", trimmed, absl::UTCTimeZone(), &t, &error)) return t;
    return BadTime(text);
  }
  absl::StatusOr<absl::Duration> age = ParseAge(trimmed);
  if (!age.ok()) return BadTime(text);
  return now - *age;
}

std::string FormatUtc(int64_t unix_micros, bool micros) {
  return absl::FormatTime(micros ? "%Y-%m-%d %H:%M:%E6S" : "%Y-%m-%d %H:%M:%S",
                          absl::FromUnixMicros(unix_micros), absl::UTCTimeZone());
}

std::string FormatRfc3339(int64_t unix_micros) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::FromUnixMicros(unix_micros),
                          absl::UTCTimeZone());
}

std::string HumanBytes(uint64_t bytes) {
  static constexpr std::array<const char*, 5> kUnits = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  double value = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < kUnits.size()) {
    value /= 1024;
    ++unit;
  }
  return absl::StrFormat("%.1f %s", value, kUnits[unit]);
}

std::string DisplayText(absl::string_view text) {
  return text.empty() ? "-" : SanitizeForTerminal(text);
}

std::string SanitizeForTerminal(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    uint32_t cp = 0;
    const size_t len = DecodeUtf8(text, &cp);
    if (len == 0 || IsUnsafeCodePoint(cp)) {
      out += '?';
      text.remove_prefix(std::max<size_t>(len, 1));
    } else {
      out.append(text.data(), len);
      text.remove_prefix(len);
    }
  }
  return out;
}

std::string Truncate(absl::string_view text, size_t width) {
  if (CodePoints(text) <= width) return std::string(text);
  const size_t keep = width > 3 ? width - 3 : 0;
  size_t end = 0;
  for (size_t seen = 0; end < text.size(); ++end) {
    if (!IsContinuation(static_cast<unsigned char>(text[end])) && seen++ == keep) break;
  }
  return absl::StrCat(text.substr(0, end), "...");
}

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json + "\n";
}

}  // namespace vmscan
