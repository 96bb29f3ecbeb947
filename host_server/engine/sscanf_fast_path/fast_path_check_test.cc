// The start-up check: libclamav's imports as this process loaded them (compared with what nm
// reads from the file), and the verdicts on imports that the fast path covers or does not.
#include "host_server/engine/sscanf_fast_path/fast_path_check.h"

#include <clamav.h>
#include <dlfcn.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "host_server/engine/sscanf_fast_path/dynamic_imports.h"
#include "host_server/engine/sscanf_fast_path/sscanf_fast_path.h"
#include "tests/testing/test_mail.h"

namespace vmscan {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

// The file libclamav was loaded from (this test links it, through the engine).
std::string LibclamavPath() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&cl_retver), &info) == 0 || info.dli_fname == nullptr) {
    return "";
  }
  return info.dli_fname;
}

TEST(DynamicImportsTest, ReadsLibclamavsImportsAsNmDoes) {
  absl::StatusOr<std::vector<std::string>> imports = DynamicImports("libclamav.so");
  ASSERT_TRUE(imports.ok()) << imports.status();
  const std::string path = LibclamavPath();
  ASSERT_FALSE(path.empty());
  const testing::CommandRun nm = testing::Shell("nm -D --undefined-only '" + path + "'");
  ASSERT_EQ(nm.exit_code, 0) << "needs binutils' nm: " << nm.err;
  std::set<std::string> expected;
  std::istringstream lines(nm.out);
  for (std::string line; std::getline(lines, line);) {
    const std::string name = line.substr(line.find_last_of(' ') + 1);
    expected.insert(name.substr(0, name.find('@')));  // "sscanf@GLIBC_2.2.5"
  }
  EXPECT_THAT(*imports, SizeIs(expected.size()));
  EXPECT_EQ(absl::StrJoin(*imports, " "), absl::StrJoin(expected, " "));
  // What the fast path is about: libclamav's expressions are parsed with sscanf.
  EXPECT_TRUE(std::count(imports->begin(), imports->end(), "sscanf") +
                  std::count(imports->begin(), imports->end(), "__isoc99_sscanf") +
                  std::count(imports->begin(), imports->end(), "__isoc23_sscanf") >
              0)
      << absl::StrJoin(*imports, " ");
}

TEST(DynamicImportsTest, AnObjectNotLoadedIsNotFound) {
  EXPECT_TRUE(absl::IsNotFound(DynamicImports("libvmscan-no-such-thing.so").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(DynamicImports("").status()));
}

bool AllBound(absl::string_view) { return true; }
bool NoneBound(absl::string_view) { return false; }

TEST(CheckSscanfFastPathTest, BoundSymbolsAreOneInfoLine) {
  const FastPathCheck check = CheckSscanfFastPath(
      std::vector<std::string>{"__isoc99_sscanf", "fscanf", "malloc", "scanf", "sscanf"}, AllBound);
  EXPECT_THAT(check.warnings, IsEmpty());
  EXPECT_THAT(check.info,
              ElementsAre("sscanf fast path bound for libclamav's __isoc99_sscanf, sscanf"));
}

TEST(CheckSscanfFastPathTest, AStringScannerTheFastPathDoesNotDefineIsNamed) {
  const FastPathCheck check = CheckSscanfFastPath(
      std::vector<std::string>{"__isoc23_sscanf", "__isoc23_vsscanf", "fscanf", "vsscanf"},
      AllBound);
  ASSERT_THAT(check.warnings, SizeIs(1));
  EXPECT_THAT(check.warnings[0], HasSubstr("libclamav calls __isoc23_vsscanf, vsscanf, which"));
  EXPECT_THAT(check.warnings[0], Not(HasSubstr("fscanf"))) << "streams are not its business";
  EXPECT_THAT(check.info, ElementsAre(HasSubstr("bound for libclamav's __isoc23_sscanf")));
}

TEST(CheckSscanfFastPathTest, LinkedButNotBoundIsAWarning) {
  const FastPathCheck check =
      CheckSscanfFastPath(std::vector<std::string>{"__isoc99_sscanf", "sscanf"}, NoneBound);
  EXPECT_THAT(check.info, IsEmpty());
  ASSERT_THAT(check.warnings, SizeIs(1));
  EXPECT_THAT(check.warnings[0], HasSubstr("NOT bound for libclamav's __isoc99_sscanf, sscanf"));
}

TEST(CheckSscanfFastPathTest, NoSscanfOrUnreadableImportsAreWarnings) {
  FastPathCheck check = CheckSscanfFastPath(std::vector<std::string>{"malloc"}, AllBound);
  ASSERT_THAT(check.warnings, SizeIs(1));
  EXPECT_THAT(check.warnings[0], HasSubstr("imports no sscanf"));

  check =
      CheckSscanfFastPath(absl::NotFoundError("no loaded object named libclamav.so*"), AllBound);
  ASSERT_THAT(check.warnings, SizeIs(1));
  EXPECT_THAT(check.warnings[0], HasSubstr("no loaded object named libclamav.so*"));
  EXPECT_THAT(check.info, IsEmpty());
}

// This binary links the fast path as vmscan-server does: the check finds it bound for what this
// libclamav imports, and has nothing to warn about.
TEST(CheckSscanfFastPathTest, InThisProcessTheFastPathIsBoundForLibclamav) {
  const FastPathCheck check = CheckSscanfFastPath(
      DynamicImports("libclamav.so"),
      [](absl::string_view symbol) { return SscanfFastPathBound(std::string(symbol).c_str()); });
  EXPECT_THAT(check.warnings, IsEmpty());
  EXPECT_THAT(check.info, ElementsAre(HasSubstr("sscanf fast path bound for libclamav's")));
  ::testing::internal::CaptureStderr();
  LogSscanfFastPathCheck();
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(log, HasSubstr("sscanf fast path bound for libclamav's"));
  EXPECT_THAT(log, Not(HasSubstr("WARN")));
}

}  // namespace
}  // namespace vmscan
