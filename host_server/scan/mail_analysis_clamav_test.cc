// AnalyzeMessage over the real libclamav engine and the bundled signatures: which part scans the
// raw scan makes unnecessary, and that skipping them changes no verdict.
#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "host_server/engine/clamav_engine.h"
#include "host_server/scan/mail_analysis.h"

namespace vmscan {
namespace {

constexpr char kEicar[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
constexpr char kEicarName[] = "Eicar-Test-Signature.UNOFFICIAL";

// A newsletter: text and quoted-printable HTML alternatives, CRLF line ends, plus a base64
// attachment holding `attachment`.
std::string Newsletter(absl::string_view attachment, absl::string_view text_line) {
  std::string base64 = absl::Base64Escape(attachment);
  std::string wrapped;
  for (size_t i = 0; i < base64.size(); i += 76) {
    absl::StrAppend(&wrapped, base64.substr(i, 76), "\r\n");
  }
  std::string text, html;
  for (int i = 0; i < 40; ++i) {
    absl::StrAppend(&text, text_line, " ", i, "\r\n");
    absl::StrAppend(&html, "<p style=3D\"margin:0\">", text_line, " ", i, "</p>\r\n");
  }
  return absl::StrCat(
      "From: news@example.com\r\nTo: bob@example.com\r\nSubject: November news\r\n"
      "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n"
      "--outer\r\nContent-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n"
      "--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
      text,
      "\r\n--alt\r\nContent-Type: text/html; charset=utf-8\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n\r\n<html><body>\r\n",
      html,
      "</body></html>\r\n\r\n--alt--\r\n\r\n--outer\r\n"
      "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
      "Content-Disposition: attachment; filename=\"data.bin\"\r\n\r\n",
      wrapped, "--outer--\r\n");
}

class MailAnalysisClamavTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    temp_dir_ = new std::string(
        absl::StrCat(::testing::TempDir(), "/mail_analysis_clamav_test_", ::getpid()));
    ClamavEngineOptions options;
    options.signatures_dir = VMSCAN_SOURCE_DIR "/deploy/signatures";
    options.temp_dir = *temp_dir_;
    absl::StatusOr<std::unique_ptr<ClamavEngine>> engine = ClamavEngine::Load(options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = engine->release();
  }
  static void TearDownTestSuite() {
    delete engine_;
    std::error_code ec;
    std::filesystem::remove_all(*temp_dir_, ec);
    delete temp_dir_;
  }

  static ClamavEngine* engine_;
  static std::string* temp_dir_;
};

ClamavEngine* MailAnalysisClamavTest::engine_ = nullptr;
std::string* MailAnalysisClamavTest::temp_dir_ = nullptr;

// The case BENCHMARKS.md measured: the text and HTML parts (never byte-identical to libclamav's
// extraction) and the attachment are all covered by the clean raw scan.
TEST_F(MailAnalysisClamavTest, CleanNewsletterNeedsNoPartScans) {
  std::string attachment(3000, '\0');
  for (size_t i = 0; i < attachment.size(); ++i) attachment[i] = static_cast<char>(i * 7 + 3);
  absl::StatusOr<MailAnalysis> a =
      AnalyzeMessage(*engine_, Newsletter(attachment, "All the news that fits"), ScanBounds());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->verdict, v1::CLEAN);
  EXPECT_TRUE(a->threats.empty());
  EXPECT_EQ(a->leaf_count, 3);
  EXPECT_EQ(a->parts_covered_by_raw_scan, 3);
}

// A threat in the text body: the raw scan finds it, every part is scanned, and the threat is
// tied to the text part, as without the skipping.
TEST_F(MailAnalysisClamavTest, ThreatInTheTextBodyIsTiedToIt) {
  absl::StatusOr<MailAnalysis> a =
      AnalyzeMessage(*engine_, Newsletter("harmless", kEicar), ScanBounds());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->verdict, v1::INFECTED);
  EXPECT_EQ(a->parts_covered_by_raw_scan, 0);
  ASSERT_FALSE(a->threats.empty());
  EXPECT_EQ(a->threats[0].name(), kEicarName);
  EXPECT_EQ(a->threats[0].part_path(), "1.1");
  EXPECT_FALSE(a->has_untied_threat());
}

TEST_F(MailAnalysisClamavTest, ThreatInTheAttachmentIsTiedToIt) {
  absl::StatusOr<MailAnalysis> a =
      AnalyzeMessage(*engine_, Newsletter(kEicar, "Hello"), ScanBounds());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->verdict, v1::INFECTED);
  ASSERT_EQ(a->threats.size(), 1u);
  EXPECT_EQ(a->threats[0].name(), kEicarName);
  EXPECT_EQ(a->threats[0].filename(), "data.bin");
}

// The same parts behind different delivery headers (the VDI case): each copy's raw scan meets
// the parts as cache hits and still covers them.
TEST_F(MailAnalysisClamavTest, CopiesForOtherRecipientsNeedNoPartScansEither) {
  const std::string message = Newsletter("same attachment for everyone", "Same text");
  for (int vm = 0; vm < 3; ++vm) {
    absl::StatusOr<MailAnalysis> a = AnalyzeMessage(
        *engine_, absl::StrCat("Delivered-To: desk-", vm, "@example.com\r\n", message),
        ScanBounds());
    ASSERT_TRUE(a.ok()) << a.status();
    EXPECT_EQ(a->verdict, v1::CLEAN);
    EXPECT_EQ(a->parts_covered_by_raw_scan, 3) << "copy " << vm;
  }
}

}  // namespace
}  // namespace vmscan
