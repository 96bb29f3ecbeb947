#include "host_server/engine/engine_temp_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace vmscan {
namespace {

class EngineTempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    disk_ = absl::StrCat(::testing::TempDir(), "/engine_temp_dir_test_", ::getpid());
    std::filesystem::create_directories(disk_);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(disk_, ec);
    for (const std::string& dir : created_) std::filesystem::remove_all(dir, ec);
  }

  std::string disk_;
  std::vector<std::string> created_;
};

TEST_F(EngineTempDirTest, ConfiguredDirWins) {
  absl::StatusOr<EngineTempDirChoice> c = ChooseEngineTempDir("/srv/scan-tmp", "/var/lib/x");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->dir, "/srv/scan-tmp");
}

TEST_F(EngineTempDirTest, NotATmpfsFallsBackToTheStateDir) {
  // The test's temp dir stands in for /dev/shm; on a disk it is refused.
  if (absl::StartsWith(::testing::TempDir(), "/dev/shm")) GTEST_SKIP() << "TempDir is tmpfs";
  absl::StatusOr<EngineTempDirChoice> c = ChooseEngineTempDir("", disk_ + "/state", disk_);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->dir, disk_ + "/state/tmp");
}

TEST_F(EngineTempDirTest, TmpfsGivesAPrivateDirPerStateDir) {
  struct stat st;
  ASSERT_EQ(::stat("/dev/shm", &st), 0) << "this test needs /dev/shm";
  absl::StatusOr<EngineTempDirChoice> a = ChooseEngineTempDir("", disk_ + "/a");
  absl::StatusOr<EngineTempDirChoice> b = ChooseEngineTempDir("", disk_ + "/b");
  ASSERT_TRUE(a.ok() && b.ok());
  created_ = {a->dir, b->dir};
  EXPECT_TRUE(absl::StartsWith(a->dir, absl::StrCat("/dev/shm/vmscan-", ::getuid(), "-")))
      << a->dir << " (" << a->why << ")";
  EXPECT_NE(a->dir, b->dir);
  ASSERT_EQ(::lstat(a->dir.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  // The same state dir finds the same directory again (a restart cleans it, not a new one).
  absl::StatusOr<EngineTempDirChoice> again = ChooseEngineTempDir("", disk_ + "/a");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->dir, a->dir);
}

// /dev/shm is writable by everyone: a directory somebody else prepared there (here: one that
// others can enter) is never used.
TEST_F(EngineTempDirTest, ADirOthersCanEnterIsRefused) {
  absl::StatusOr<EngineTempDirChoice> first = ChooseEngineTempDir("", disk_ + "/c");
  ASSERT_TRUE(first.ok());
  created_ = {first->dir};
  ASSERT_TRUE(absl::StartsWith(first->dir, "/dev/shm/")) << first->why;
  ASSERT_EQ(::chmod(first->dir.c_str(), 0777), 0);
  absl::StatusOr<EngineTempDirChoice> second = ChooseEngineTempDir("", disk_ + "/c");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->dir, disk_ + "/c/tmp") << second->why;
}

TEST_F(EngineTempDirTest, EmptyingRemovesLeftoversButKeepsTheDirectory) {
  const std::string dir = disk_ + "/tmp";
  std::filesystem::create_directories(dir + "/clamav-1234/sub");
  std::ofstream(dir + "/clamav-1234/sub/part.bin") << "decoded attachment";
  std::ofstream(dir + "/stray") << "x";
  EXPECT_TRUE(EmptyEngineTempDir(dir).empty());
  EXPECT_TRUE(std::filesystem::is_directory(dir));
  EXPECT_TRUE(std::filesystem::is_empty(dir));
}

TEST_F(EngineTempDirTest, ALeftoverThatCannotBeRemovedIsAWarningNamingIt) {
  // procfs refuses every unlink, also root's: a directory whose entries cannot be removed.
  const std::string dir = "/proc/self/fdinfo";
  ::testing::internal::CaptureStderr();
  const std::vector<std::string> left = EmptyEngineTempDir(dir);
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_FALSE(left.empty());
  EXPECT_TRUE(absl::StartsWith(left[0], dir + "/")) << left[0];
  EXPECT_TRUE(absl::StrContains(log, "WARN")) << log;
  EXPECT_TRUE(absl::StrContains(log, "cannot remove " + left[0])) << log;
  EXPECT_TRUE(std::filesystem::exists("/proc/self/fdinfo/0"));
}

}  // namespace
}  // namespace vmscan
