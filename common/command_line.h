// A small reader for the command lines of vmscan-server, vmscan-agent and vmscanctl:
// `--name value`, `--name=value`, switches and positional arguments, in any order.
//
//   CommandLine cl(argc, argv, 1);
//   while (!cl.done()) {
//     if (cl.Flag("--config", &config_path)) continue;
//     if (cl.Switch("--json")) { json = true; continue; }
//     if (cl.error().ok() && cl.Positional(&file)) continue;
//     return Usage(cl.error().ok() ? "unknown argument " + cl.current() : cl.error().message());
//   }
#ifndef VMSCAN_COMMON_COMMAND_LINE_H_
#define VMSCAN_COMMON_COMMAND_LINE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace vmscan {

class CommandLine {
 public:
  CommandLine(int argc, char** argv, int first);
  explicit CommandLine(std::vector<std::string> args) : args_(std::move(args)) {}

  bool done() const { return pos_ >= args_.size() || !error_.ok(); }
  const std::string& current() const { return args_[pos_]; }
  // Set when a flag was given without its value.
  const absl::Status& error() const { return error_; }

  // Consumes `--name value` or `--name=value`.
  bool Flag(absl::string_view name, std::string* value);
  // Like Flag, appending to a list (repeatable flags such as --set).
  bool RepeatedFlag(absl::string_view name, std::vector<std::string>* values);
  // Consumes `--name`.
  bool Switch(absl::string_view name);
  // Consumes an argument that is not a flag ("-" counts as positional: standard input).
  bool Positional(std::string* value);

 private:
  std::vector<std::string> args_;
  size_t pos_ = 0;
  absl::Status error_;
};

}  // namespace vmscan

#endif  // VMSCAN_COMMON_COMMAND_LINE_H_
