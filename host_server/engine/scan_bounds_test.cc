// Per-scan bounds (a VM's policy limits) with the real libclamav and the bundled signatures.
#include "host_server/engine/scan_bounds.h"

#include <filesystem>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "host_server/engine/clamav_engine.h"
#include "tests/testing/test_mail.h"

namespace vmscan {
namespace {

using ::vmscan::testing::Eicar;
using ::vmscan::testing::MailWithAttachment;
using ::vmscan::testing::MakeZip;

class ScanBoundsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string tmp = ::testing::TempDir() + "/scan_bounds_test";
    std::filesystem::create_directories(tmp);
    ClamavEngineOptions options;
    options.signatures_dir = VMSCAN_SOURCE_DIR "/deploy/signatures";
    options.temp_dir = tmp;
    absl::StatusOr<std::unique_ptr<ClamavEngine>> engine = ClamavEngine::Load(options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = engine->release();
  }
  static void TearDownTestSuite() { delete engine_; }

  // A message with a zip holding `members` files; distinct content per call (no cache hits).
  static std::string ZipMail(int members, const std::string& salt) {
    std::vector<std::pair<std::string, std::string>> files;
    for (int i = 0; i < members; ++i) {
      files.push_back({"f" + std::to_string(i) + ".txt", salt + std::string(3000, 'a' + i)});
    }
    absl::StatusOr<std::string> zip = MakeZip(files);
    EXPECT_TRUE(zip.ok()) << zip.status();
    return MailWithAttachment("archive.zip", "application/zip", zip.value_or(""));
  }

  static EngineVerdict ScanWith(const ScanBounds& bounds, const std::string& data) {
    absl::StatusOr<EngineVerdict> verdict = engine_->Scan(data, "message", bounds);
    EXPECT_TRUE(verdict.ok()) << verdict.status();
    return verdict.value_or(EngineVerdict{});
  }

  static ClamavEngine* engine_;
};

ClamavEngine* ScanBoundsTest::engine_ = nullptr;

TEST_F(ScanBoundsTest, WithinBoundsTheVerdictIsTheEngines) {
  ScanBounds generous;
  generous.max_files = 1000;
  generous.max_file_bytes = 10 << 20;
  EngineVerdict clean = ScanWith(generous, ZipMail(3, "within"));
  EXPECT_FALSE(clean.unscannable) << clean.unscannable_detail;
  EXPECT_FALSE(clean.infected());
  EngineVerdict infected =
      ScanWith(generous, MailWithAttachment("eicar.com", "application/octet-stream", Eicar()));
  ASSERT_EQ(infected.threats.size(), 1u);
  EXPECT_TRUE(absl::StartsWith(infected.threats[0], "Eicar-Test-Signature"));
}

TEST_F(ScanBoundsTest, TooManyFilesIsUnscannableNeverClean) {
  ScanBounds bounds;
  bounds.max_files = 4;
  const std::string mail = ZipMail(8, "files");
  EngineVerdict verdict = ScanWith(bounds, mail);
  ASSERT_TRUE(verdict.unscannable.has_value());
  EXPECT_EQ(*verdict.unscannable, v1::LIMITS_EXCEEDED);
  EXPECT_TRUE(absl::StrContains(verdict.unscannable_detail, "limits.max_files"))
      << verdict.unscannable_detail;
  EXPECT_TRUE(verdict.threats.empty()) << "the bound's own stop is not a threat";
  // The stopped scan left nothing in libclamav's clean cache: bounded again, still unscannable;
  // without bounds the same bytes are scanned completely and are clean.
  EXPECT_TRUE(ScanWith(bounds, mail).unscannable.has_value());
  EngineVerdict unbounded = ScanWith(ScanBounds(), mail);
  EXPECT_FALSE(unbounded.unscannable) << unbounded.unscannable_detail;
  // Content another scan went through completely is known clean (libclamav's cache answers for
  // the whole message without opening it again), which the bounds do not contradict.
  EXPECT_FALSE(ScanWith(bounds, mail).unscannable.has_value());
}

TEST_F(ScanBoundsTest, LargeEmbeddedFileAndDepthAreBounded) {
  ScanBounds small_files;
  small_files.max_file_bytes = 2000;
  EngineVerdict big = ScanWith(small_files, ZipMail(1, "big"));
  ASSERT_TRUE(big.unscannable.has_value());
  EXPECT_TRUE(absl::StrContains(big.unscannable_detail, "limits.max_file_bytes"))
      << big.unscannable_detail;

  ScanBounds shallow;
  shallow.max_recursion = 1;
  EngineVerdict deep = ScanWith(shallow, ZipMail(1, "deep"));
  ASSERT_TRUE(deep.unscannable.has_value());
  EXPECT_TRUE(absl::StrContains(deep.unscannable_detail, "limits.max_recursion"))
      << deep.unscannable_detail;
}

TEST_F(ScanBoundsTest, AThreatFoundBeforeTheBoundStillCounts) {
  absl::StatusOr<std::string> zip = MakeZip({{"eicar.com", Eicar()},
                                             {"b.txt", std::string(5000, 'b')},
                                             {"c.txt", std::string(5000, 'c')},
                                             {"d.txt", std::string(5000, 'd')}});
  ASSERT_TRUE(zip.ok());
  ScanBounds bounds;
  bounds.max_files = 4;
  EngineVerdict verdict = ScanWith(bounds, MailWithAttachment("a.zip", "application/zip", *zip));
  ASSERT_FALSE(verdict.threats.empty());
  EXPECT_TRUE(absl::StartsWith(verdict.threats[0], "Eicar-Test-Signature"));
}

}  // namespace
}  // namespace vmscan
