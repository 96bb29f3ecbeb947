#include "host_server/engine/signatures.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmscan {
namespace {

using ::testing::HasSubstr;

class SignaturesTest : public ::testing::Test {
 protected:
  // A fresh directory per test under the test's temp dir.
  std::string NewDir(const std::string& name) {
    std::string dir = absl::StrCat(root_, "/", name);
    EXPECT_EQ(::mkdir(dir.c_str(), 0700), 0) << dir;
    return dir;
  }

  static void WriteFile(const std::string& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary);
    out << content;
    ASSERT_TRUE(out.good()) << path;
  }

  void SetUp() override {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = absl::StrCat(::testing::TempDir(), "/signatures_test_", info->name(), "_", ::getpid());
    ASSERT_EQ(::mkdir(root_.c_str(), 0700), 0) << root_;
    configured_ = NewDir("configured");
    official_ = NewDir("official");
    bundled_ = NewDir("bundled");
    WriteFile(configured_ + "/local.ndb", "Local.Test:0:*:41424344\n");
    WriteFile(bundled_ + "/vmscan.hdb",
              "44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature\n");
  }

  void TearDown() override { std::system(absl::StrCat("rm -rf '", root_, "'").c_str()); }

  std::string root_;
  std::string configured_;
  std::string official_;
  std::string bundled_;
};

TEST_F(SignaturesTest, ConfiguredWinsOverOfficialAndBundled) {
  WriteFile(official_ + "/daily.cld", "x");
  absl::StatusOr<SignatureSource> source = ChooseSignatures(configured_, official_, bundled_);
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ(source->dir, configured_);
  EXPECT_EQ(source->kind, "configured");
}

TEST_F(SignaturesTest, MissingConfiguredDirIsAnErrorNotAFallback) {
  std::string missing = root_ + "/no-such-dir";
  absl::StatusOr<SignatureSource> source = ChooseSignatures(missing, official_, bundled_);
  EXPECT_EQ(source.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(source.status().message(), HasSubstr(missing));
}

TEST_F(SignaturesTest, ConfiguredDirWithoutSignatureFilesIsAnError) {
  std::string empty = NewDir("empty");
  absl::StatusOr<SignatureSource> source = ChooseSignatures(empty, official_, bundled_);
  EXPECT_EQ(source.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(source.status().message(), HasSubstr(empty));
  EXPECT_THAT(source.status().message(), HasSubstr("no signature database files"));

  // Ignore lists and notes are not signatures.
  WriteFile(empty + "/local.ign2", "Eicar-Test-Signature\n");
  WriteFile(empty + "/README.md", "notes\n");
  EXPECT_EQ(ChooseSignatures(empty, official_, bundled_).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(SignaturesTest, ConfiguredPathThatIsAFileIsAnError) {
  std::string file = root_ + "/file.ndb";
  WriteFile(file, "Local.Test:0:*:41424344\n");
  absl::StatusOr<SignatureSource> source = ChooseSignatures(file, official_, bundled_);
  EXPECT_EQ(source.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(source.status().message(), HasSubstr("not a directory"));
}

TEST_F(SignaturesTest, OfficialChosenForEachOfficialDatabaseName) {
  for (const char* name : {"main.cvd", "main.cld", "daily.cvd", "daily.cld"}) {
    std::string official = NewDir(absl::StrCat("official_", name));
    WriteFile(absl::StrCat(official, "/", name), "x");
    absl::StatusOr<SignatureSource> source = ChooseSignatures("", official, bundled_);
    ASSERT_TRUE(source.ok()) << name << ": " << source.status();
    EXPECT_EQ(source->dir, official) << name;
    EXPECT_EQ(source->kind, "official") << name;
  }
}

TEST_F(SignaturesTest, OfficialDirWithoutMainOrDailyFallsBackToBundled) {
  // What a machine with clamav installed but freshclam never run looks like.
  WriteFile(official_ + "/bytecode.cvd", "x");
  WriteFile(official_ + "/freshclam.dat", "x");
  absl::StatusOr<SignatureSource> source = ChooseSignatures("", official_, bundled_);
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ(source->dir, bundled_);
  EXPECT_EQ(source->kind, "bundled");
}

TEST_F(SignaturesTest, MissingOfficialDirFallsBackToBundled) {
  absl::StatusOr<SignatureSource> source =
      ChooseSignatures("", root_ + "/no-such-official", bundled_);
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ(source->kind, "bundled");
}

TEST_F(SignaturesTest, NoUsableSourceNamesBundledAndOfficialDirs) {
  std::string missing = root_ + "/no-such-bundled";
  absl::StatusOr<SignatureSource> source = ChooseSignatures("", official_, missing);
  EXPECT_EQ(source.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(source.status().message(), HasSubstr(missing));
  EXPECT_THAT(source.status().message(), HasSubstr(official_));

  std::string empty = NewDir("empty_bundled");
  EXPECT_EQ(ChooseSignatures("", official_, empty).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(SignaturesTest, HoldsSignatureFilesLooksAtExtensionsOfRegularFiles) {
  std::string dir = NewDir("kinds");
  EXPECT_FALSE(HoldsSignatureFiles(dir));
  NewDir("kinds/subdir.ndb");  // a directory with a database's name is not a database
  WriteFile(dir + "/local.ign2", "x");
  WriteFile(dir + "/notes.txt", "x");
  EXPECT_FALSE(HoldsSignatureFiles(dir));
  WriteFile(dir + "/UPPER.HSB", "x");
  EXPECT_TRUE(HoldsSignatureFiles(dir));
  EXPECT_FALSE(HoldsSignatureFiles(root_ + "/no-such-dir"));
}

TEST_F(SignaturesTest, DefaultBundledDirHonoursEnvironmentThenSourceTree) {
  const std::string source_tree_dir = VMSCAN_SOURCE_DIR "/deploy/signatures";
  ASSERT_EQ(::unsetenv("VMSCAN_SIGNATURES_DIR"), 0);
  // The test binary lives in the build tree, which has no ../share/vmscan/signatures.
  EXPECT_EQ(DefaultBundledSignaturesDir(), source_tree_dir);

  ASSERT_EQ(::setenv("VMSCAN_SIGNATURES_DIR", bundled_.c_str(), 1), 0);
  EXPECT_EQ(DefaultBundledSignaturesDir(), bundled_);

  std::string missing = root_ + "/no-such-env-dir";
  ASSERT_EQ(::setenv("VMSCAN_SIGNATURES_DIR", missing.c_str(), 1), 0);
  EXPECT_EQ(DefaultBundledSignaturesDir(), source_tree_dir);
  ASSERT_EQ(::unsetenv("VMSCAN_SIGNATURES_DIR"), 0);
}

TEST_F(SignaturesTest, ShippedBundledSetIsChosenWhenNothingElseIsThere) {
  ASSERT_EQ(::unsetenv("VMSCAN_SIGNATURES_DIR"), 0);
  absl::StatusOr<SignatureSource> source =
      ChooseSignatures("", root_ + "/no-such-official", DefaultBundledSignaturesDir());
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ(source->kind, "bundled");
  EXPECT_EQ(source->dir, VMSCAN_SOURCE_DIR "/deploy/signatures");
}

}  // namespace
}  // namespace vmscan
