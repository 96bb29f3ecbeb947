#include "tools/vmscanctl/atomic_file.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmscan {
namespace {

using ::testing::HasSubstr;

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = ::testing::TempDir() + "/atomic_file_test.XXXXXX";
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Read(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  size_t Entries() {
    return std::distance(std::filesystem::directory_iterator(dir_),
                         std::filesystem::directory_iterator());
  }

  std::string dir_;
};

TEST_F(AtomicFileTest, CommitMakesTheWholeFileAppearPrivate) {
  const std::string path = dir_ + "/out.eml";
  absl::StatusOr<std::unique_ptr<AtomicFile>> file = AtomicFile::Create(path);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE((*file)->Append("hello ").ok());
  ASSERT_TRUE((*file)->Append(std::string("\0world", 6)).ok());
  EXPECT_FALSE(std::filesystem::exists(path));  // nothing visible before Commit
  ASSERT_TRUE((*file)->Commit().ok());
  EXPECT_EQ(Read(path), std::string("hello \0world", 12));
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  file->reset();
  EXPECT_EQ(Entries(), 1u);  // no temp file left
}

TEST_F(AtomicFileTest, ReplacesAnExistingFile) {
  const std::string path = dir_ + "/out.eml";
  std::ofstream(path) << "old content that is longer";
  absl::StatusOr<std::unique_ptr<AtomicFile>> file = AtomicFile::Create(path);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("new").ok());
  ASSERT_TRUE((*file)->Commit().ok());
  EXPECT_EQ(Read(path), "new");
}

TEST_F(AtomicFileTest, AbandonedFileLeavesNothingAndKeepsTheOldOne) {
  const std::string path = dir_ + "/out.eml";
  std::ofstream(path) << "old";
  {
    absl::StatusOr<std::unique_ptr<AtomicFile>> file = AtomicFile::Create(path);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Append("partial").ok());
    EXPECT_TRUE(std::filesystem::exists((*file)->temp_path()));
  }
  EXPECT_EQ(Read(path), "old");
  EXPECT_EQ(Entries(), 1u);
}

TEST_F(AtomicFileTest, UnwritablePathsAreClearErrors) {
  absl::StatusOr<std::unique_ptr<AtomicFile>> missing_dir =
      AtomicFile::Create(dir_ + "/no-such-dir/x.eml");
  EXPECT_FALSE(missing_dir.ok());
  EXPECT_THAT(missing_dir.status().message(), HasSubstr(dir_ + "/no-such-dir/x.eml"));
  EXPECT_THAT(missing_dir.status().message(), HasSubstr("No such file or directory"));

  absl::StatusOr<std::unique_ptr<AtomicFile>> directory = AtomicFile::Create(dir_);
  EXPECT_FALSE(directory.ok());
  EXPECT_THAT(directory.status().message(), HasSubstr(dir_));
  EXPECT_FALSE(AtomicFile::Create("").ok());
  EXPECT_EQ(Entries(), 0u);
}

TEST_F(AtomicFileTest, RelativePathLandsInTheWorkingDirectory) {
  const std::filesystem::path cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir_);
  absl::StatusOr<std::unique_ptr<AtomicFile>> file = AtomicFile::Create("plain.eml");
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE((*file)->Append("x").ok());
  ASSERT_TRUE((*file)->Commit().ok());
  std::filesystem::current_path(cwd);
  EXPECT_EQ(Read(dir_ + "/plain.eml"), "x");
}

}  // namespace
}  // namespace vmscan
