#include "tests/integration/vmscanctl_runner.h"

#include "absl/strings/str_cat.h"

namespace vmscan::testing {

CommandRun RunVmscanctl(const std::string& server, const std::string& args,
                        const std::string& env) {
  return Shell(absl::StrCat(env, env.empty() ? "" : " ", VMSCANCTL_BIN, " --server ", server,
                            " --timeout 30000 ", args));
}

}  // namespace vmscan::testing
