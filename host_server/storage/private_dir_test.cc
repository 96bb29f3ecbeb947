#include "host_server/storage/private_dir.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmscan {
namespace {

using ::testing::HasSubstr;

TEST(MakePrivateDirTest, CreatesMissingParentsAndTightensAnExistingDirectory) {
  const std::string root = ::testing::TempDir() + "/private_dir_test";
  std::filesystem::remove_all(root);
  const std::string dir = root + "/a/b";
  ASSERT_TRUE(MakePrivateDir(dir).ok());
  struct stat st;
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0700u);

  ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);
  ASSERT_TRUE(MakePrivateDir(dir).ok());
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u) << "an existing directory is made private too";
  std::filesystem::remove_all(root);
}

TEST(MakePrivateDirTest, ADirectoryThatCannotBeMadePrivateIsAnErrorNamingIt) {
  // procfs refuses chmod on a process's directory, to root too.
  absl::Status status = MakePrivateDir("/proc/self");
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << status;
  EXPECT_THAT(status.message(), HasSubstr("/proc/self"));
  EXPECT_THAT(status.message(), HasSubstr("chmod"));
}

TEST(MakePrivateDirTest, APathThatCannotBeADirectoryIsAnErrorNamingIt) {
  const std::string file = ::testing::TempDir() + "/private_dir_test_file";
  std::ofstream(file) << "not a directory";
  absl::Status status = MakePrivateDir(file + "/sub");
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr(file + "/sub"));
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace vmscan
