// RunVmscanctl's command line, in-process: usage errors, help, and what happens before and
// without a server (unreachable server, unwritable output). The commands against a real server
// are tested in tests/integration/vmscanctl_test.cc.
#include "tools/vmscanctl/vmscanctl.h"

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmscan {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

struct CtlRun {
  int exit_code;
  std::string out;
  std::string err;
};

CtlRun Ctl(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  int rc = RunVmscanctl(args, out, err);
  return {rc, out.str(), err.str()};
}

// Port 1 on loopback: nothing listens there.
const std::vector<std::string> kNoServer = {"--server", "127.0.0.1:1", "--timeout", "5000"};

std::vector<std::string> With(std::vector<std::string> args) {
  args.insert(args.begin(), kNoServer.begin(), kNoServer.end());
  return args;
}

TEST(VmscanctlTest, HelpDocumentsCommandsAndExitCodes) {
  CtlRun run = Ctl({"--help"});
  EXPECT_EQ(run.exit_code, 0);
  for (const char* want :
       {"backup list", "backup show ID", "backup export ID [-o FILE]", "backup delete ID",
        "backup purge --older-than D | --all", "backup stats", "--server HOST:PORT", "--timeout MS",
        "--json", "0   done", "1   no such backup record", "2   the server failed",
        "3   the server cannot be reached", "64  usage error", "74  the output"}) {
    EXPECT_THAT(run.out, HasSubstr(want));
  }
  EXPECT_EQ(Ctl({"backup", "list", "-h"}).exit_code, 0);
}

TEST(VmscanctlTest, UsageErrorsExit64WithAClearMessage) {
  struct Case {
    std::vector<std::string> args;
    const char* message;
  };
  const std::vector<Case> cases = {
      {{}, "Usage: vmscanctl"},
      {{"inventory", "list"}, "unknown area 'inventory'"},
      {{"backup"}, "which command?"},
      {{"backup", "lst"}, "unknown command 'backup lst'"},
      {{"backup", "show"}, "backup show: which backup id?"},
      {{"backup", "show", "a", "b"}, "unexpected argument 'b'"},
      {{"backup", "stats", "extra"}, "unexpected argument 'extra'"},
      {{"backup", "show", "x", "--vm", "vm-a"}, "--vm is not an option of 'backup show'"},
      {{"backup", "list", "-o", "f"}, "-o is not an option of 'backup list'"},
      {{"backup", "delete", "x", "--all"}, "--all is not an option of 'backup delete'"},
      {{"backup", "list", "--vm", "a", "--vm", "b"}, "--vm given twice"},
      {{"backup", "list", "--frobnicate"}, "unknown option '--frobnicate'"},
      {{"backup", "list", "--since", "yesterday"}, "--since: cannot read \"yesterday\""},
      {{"backup", "list", "--until", "2026-13-01"}, "--until: cannot read"},
      {{"backup", "list", "--action", "BLOCK"}, "unknown action \"BLOCK\""},
      {{"backup", "list", "--limit", "0"}, "--limit wants a number > 0"},
      {{"backup", "list", "--limit", "lots"}, "--limit wants a number > 0"},
      {{"backup", "list", "--vm"}, "--vm needs a value"},
      {{"backup", "purge"}, "give either --older-than AGE (e.g. 30d) or --all"},
      {{"backup", "purge", "--all", "--older-than", "1d"}, "give either --older-than"},
      {{"backup", "purge", "--older-than", "soon"}, "--older-than: cannot read \"soon\""},
      {{"--timeout", "0", "backup", "stats"}, "--timeout wants milliseconds > 0"},
  };
  for (const Case& c : cases) {
    CtlRun run = Ctl(With(c.args));
    EXPECT_EQ(run.exit_code, 64) << c.message;
    EXPECT_THAT(run.err, HasSubstr(c.message));
    EXPECT_THAT(run.out, IsEmpty()) << c.message;
  }
}

TEST(VmscanctlTest, UnreachableServerExits3NamingTheAddressQuickly) {
  const auto start = std::chrono::steady_clock::now();
  CtlRun run = Ctl(With({"backup", "stats"}));
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_THAT(run.err, HasSubstr("cannot reach vmscan-server at 127.0.0.1:1"));
  EXPECT_THAT(run.out, IsEmpty());
  // A refused connection is reported at once, not after the whole --timeout.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
  EXPECT_EQ(Ctl(With({"backup", "show", "000641c2f3d7a000-0000000a"})).exit_code, 3);
  EXPECT_EQ(Ctl(With({"backup", "list", "--json"})).exit_code, 3);
}

TEST(VmscanctlTest, UnwritableExportTargetExits74BeforeAskingTheServer) {
  std::string templ = ::testing::TempDir() + "/vmscanctl_test.XXXXXX";
  ASSERT_NE(mkdtemp(templ.data()), nullptr);
  const std::string target = templ + "/missing-dir/x.eml";
  CtlRun run = Ctl(With({"backup", "export", "000641c2f3d7a000-0000000a", "-o", target}));
  EXPECT_EQ(run.exit_code, 74);  // not 3: the output is checked first
  EXPECT_THAT(run.err, HasSubstr(target));
  EXPECT_THAT(run.err, HasSubstr("No such file or directory"));
  CtlRun dir = Ctl(With({"backup", "export", "000641c2f3d7a000-0000000a", "--output", templ}));
  EXPECT_EQ(dir.exit_code, 74);
  EXPECT_TRUE(std::filesystem::is_empty(templ));
  std::filesystem::remove_all(templ);
}

}  // namespace
}  // namespace vmscan
