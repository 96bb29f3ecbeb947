#include "common/command_line.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace vmscan {

CommandLine::CommandLine(int argc, char** argv, int first) {
  for (int i = first; i < argc; ++i) args_.emplace_back(argv[i]);
}

bool CommandLine::Flag(absl::string_view name, std::string* value) {
  if (done()) return false;
  const std::string& arg = args_[pos_];
  if (arg == name) {
    if (pos_ + 1 >= args_.size()) {
      error_ = absl::InvalidArgumentError(absl::StrCat(name, " needs a value"));
      return false;
    }
    *value = args_[pos_ + 1];
    pos_ += 2;
    return true;
  }
  if (absl::StartsWith(arg, name) && arg.size() > name.size() && arg[name.size()] == '=') {
    *value = arg.substr(name.size() + 1);
    ++pos_;
    return true;
  }
  return false;
}

bool CommandLine::RepeatedFlag(absl::string_view name, std::vector<std::string>* values) {
  std::string value;
  if (!Flag(name, &value)) return false;
  values->push_back(std::move(value));
  return true;
}

bool CommandLine::Switch(absl::string_view name) {
  if (done() || args_[pos_] != name) return false;
  ++pos_;
  return true;
}

bool CommandLine::Positional(std::string* value) {
  if (done()) return false;
  const std::string& arg = args_[pos_];
  if (arg.size() > 1 && arg[0] == '-') return false;
  *value = arg;
  ++pos_;
  return true;
}

}  // namespace vmscan
