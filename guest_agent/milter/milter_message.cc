#include "guest_agent/milter/milter_message.h"

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"

namespace vmscan {
namespace {

// Folded values use "\n" between lines, whatever the MTA or the message used.
std::string NormalizeValue(absl::string_view value) {
  return absl::StrReplaceAll(value, {{"\r\n", "\n"}});
}

}  // namespace

void MilterMessage::AddHeader(absl::string_view name, absl::string_view value) {
  size_ += name.size() + value.size() + 4;
  if (too_large()) return;
  headers_.emplace_back(std::string(name), NormalizeValue(value));
}

void MilterMessage::AppendBody(absl::string_view chunk) {
  size_ += chunk.size();
  if (too_large()) {
    std::string().swap(raw_);
    return;
  }
  if (!header_block_written_) WriteHeaderBlock();
  raw_.append(chunk.data(), chunk.size());
}

void MilterMessage::WriteHeaderBlock() {
  header_block_written_ = true;
  for (const HeaderField& h : headers_) {
    absl::StrAppend(&raw_, h.first, ": ", absl::StrReplaceAll(h.second, {{"\n", "\r\n"}}), "\r\n");
  }
  raw_.append("\r\n");
}

std::string MilterMessage::TakeAssembled() {
  if (!header_block_written_) WriteHeaderBlock();
  std::string out = std::move(raw_);
  raw_.clear();
  return out;
}

void SplitMessage(absl::string_view message, std::vector<HeaderField>* headers, std::string* body) {
  headers->clear();
  size_t pos = 0;
  while (pos < message.size()) {
    size_t eol = message.find('\n', pos);
    if (eol == absl::string_view::npos) eol = message.size();
    absl::string_view line = message.substr(pos, eol - pos);
    pos = std::min(eol + 1, message.size());
    absl::ConsumeSuffix(&line, "\r");
    if (line.empty()) break;  // end of the header section
    if ((line[0] == ' ' || line[0] == '\t') && !headers->empty()) {
      absl::StrAppend(&headers->back().second, "\n", line);
      continue;
    }
    size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;  // not a field: dropped, as MTAs do
    absl::string_view value = line.substr(colon + 1);
    absl::ConsumePrefix(&value, " ");
    headers->emplace_back(std::string(absl::StripTrailingAsciiWhitespace(line.substr(0, colon))),
                          std::string(value));
  }
  body->assign(std::string(message.substr(pos)));
}

std::vector<HeaderEdit> HeaderEdits(const std::vector<HeaderField>& from,
                                    const std::vector<HeaderField>& to) {
  // Per lower-cased name: the values in order, and the name as spelled in `to` (or `from`).
  std::map<std::string, std::pair<std::vector<std::string>, std::vector<std::string>>> fields;
  std::map<std::string, std::string> spelling;
  std::vector<std::string> order;
  auto note = [&](const std::string& name) {
    std::string key = absl::AsciiStrToLower(name);
    if (spelling.emplace(key, name).second) order.push_back(key);
    return key;
  };
  for (const HeaderField& h : to) fields[note(h.first)].second.push_back(NormalizeValue(h.second));
  for (const HeaderField& h : from) fields[note(h.first)].first.push_back(NormalizeValue(h.second));
  std::vector<HeaderEdit> edits, removals;
  for (const std::string& key : order) {
    const auto& [old_values, new_values] = fields[key];
    const std::string& name = spelling[key];
    for (size_t i = 0; i < std::max(old_values.size(), new_values.size()); ++i) {
      if (i >= old_values.size()) {
        edits.push_back({name, 0, new_values[i], false});
      } else if (i >= new_values.size()) {
        removals.push_back({name, static_cast<int>(i + 1), "", true});
      } else if (old_values[i] != new_values[i]) {
        edits.push_back({name, static_cast<int>(i + 1), new_values[i], false});
      }
    }
  }
  for (auto it = removals.rbegin(); it != removals.rend(); ++it) edits.push_back(*it);
  return edits;
}

}  // namespace vmscan
