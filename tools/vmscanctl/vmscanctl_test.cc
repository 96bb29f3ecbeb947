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

// The usage `--help` prints contains every one of `wants`.
void ExpectInHelp(const std::vector<std::string>& wants) {
  CtlRun run = Ctl({"--help"});
  EXPECT_EQ(run.exit_code, 0);
  for (const std::string& want : wants) EXPECT_THAT(run.out, HasSubstr(want));
}

TEST(VmscanctlTest, HelpDocumentsCommandsAndExitCodes) {
  ExpectInHelp({"backup list", "backup show ID", "backup export ID [-o FILE]", "backup delete ID",
                "backup purge --older-than D | --all", "backup stats", "--server HOST:PORT",
                "--timeout MS", "--json", "0   done", "1   no such backup record",
                "2   the server failed", "3   the server cannot be reached", "64  usage error",
                "74  the output"});
  EXPECT_EQ(Ctl({"backup", "list", "-h"}).exit_code, 0);
}

TEST(VmscanctlTest, HelpDocumentsTheControlPlaneCommands) {
  ExpectInHelp({"groups list", "groups create PATH", "groups delete PATH",
                "groups rename PATH NEW_PATH", "vms list [--group G [--recursive]]", "vms show VM",
                "vms move VM GROUP", "vms delete VM", "vms effective VM", "policy show GROUP",
                "policy set GROUP KEY=VALUE... [--lock | --unlock] [--if-version N]",
                "policy unset GROUP KEY...", "policy history GROUP [--limit N]", "rules list",
                "rules add --group G [--name PATTERN] [--host PATTERN] [--position N]",
                "rules delete ID", "1   no such backup record, group, VM or rule", "--if-version"});
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
      {{"groups"}, "groups: which command? list, create, delete or rename"},
      {{"groups", "create"}, "groups create: which group path?"},
      {{"groups", "rename", "a"}, "groups rename: to which new path?"},
      {{"groups", "list", "extra"}, "unexpected argument 'extra'"},
      {{"groups", "list", "--group", "g"}, "--group is not an option of 'groups list'"},
      {{"vms", "show"}, "vms show: which VM?"},
      {{"vms", "move", "vm-1"}, "vms move: to which group?"},
      {{"vms", "list", "--recursive"}, "--recursive goes with --group GROUP"},
      {{"vms", "effective", "a", "b"}, "unexpected argument 'b'"},
      {{"policy", "show"}, "policy show: which group?"},
      {{"policy", "set", "g"}, "policy set: which settings?"},
      {{"policy", "set", "g", "action_on_thret=DELETE"},
       "unknown setting 'action_on_thret'; did you mean 'action_on_threat'?"},
      {{"policy", "set", "g", "action_on_threat=DELET"}, "action_on_threat is one of AUTO"},
      {{"policy", "set", "g", "action_on_threat"}, "want KEY=VALUE"},
      {{"policy", "set", "g", "enabled=true", "--lock", "--unlock"}, "--lock or --unlock"},
      {{"policy", "set", "g", "enabled=true", "--if-version", "0"}, "--if-version wants"},
      {{"policy", "set", "g", "enabled=true", "--if-version", "x"}, "--if-version wants"},
      {{"policy", "show", "g", "--lock"}, "--lock is not an option of 'policy show'"},
      {{"policy", "unset", "g", "enabled=true"}, "without a value"},
      {{"policy", "unset", "g", "enabled", "--lock"}, "--lock is not an option of 'policy unset'"},
      {{"policy", "history", "g", "--limit", "0"}, "--limit wants a number > 0"},
      {{"rules", "add", "--name", "x*"}, "rules add: into which group? --group GROUP"},
      {{"rules", "add", "--group", "g"}, "match on what? --name PATTERN and/or --host PATTERN"},
      {{"rules", "add", "--group", "g", "--name", "a", "--position", "-1"}, "--position wants"},
      {{"rules", "delete"}, "rules delete: which rule id?"},
      {{"rules", "list", "--all"}, "--all is not an option of 'rules list'"},
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
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"groups", "list"},
           {"groups", "create", "Managed devices/Finance"},
           {"vms", "list"},
           {"vms", "effective", "vm-1"},
           {"policy", "show", "Managed devices"},
           {"policy", "set", "Managed devices", "enabled=false", "--lock"},
           {"policy", "history", "Managed devices"},
           {"rules", "list"}}) {
    CtlRun control = Ctl(With(args));
    EXPECT_EQ(control.exit_code, 3) << args[0] << " " << args[1];
    EXPECT_THAT(control.err, HasSubstr("cannot reach vmscan-server at 127.0.0.1:1"));
  }
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
