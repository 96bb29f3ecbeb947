// Unit test of the raw+parts merge with a fake engine. The same pipeline runs against the real
// libclamav engine in tests/integration/.
#include "host_server/scan/mail_analysis.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace vmscan {
namespace {

// Flags "BAD" as Fake.Threat, "LOCKED" as unscannable; sees nothing inside base64 unless the
// object is a decoded part (the raw scan is "blind" to encodings, like a weak parser).
class FakeEngine : public ScanEngine {
 public:
  absl::StatusOr<EngineVerdict> Scan(absl::string_view data,
                                     absl::string_view name) const override {
    EngineVerdict v;
    if (absl::StrContains(data, "BAD")) v.threats.push_back("Fake.Threat");
    if (absl::StrContains(data, "HEADERBOMB")) v.threats.push_back("Fake.HeaderOnly");
    if (absl::StrContains(data, "LOCKED")) {
      v.unscannable = v1::ENCRYPTED;
      v.unscannable_detail = "Fake.Encrypted";
    }
    (void)name;
    return v;
  }
  std::string version() const override { return "fake-1"; }
  uint64_t signature_count() const override { return 3; }
};

constexpr char kTwoParts[] =
    "From: a@example.org\r\n"
    "Subject: test\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
    "\r\n"
    "--b1\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "hello\r\n"
    "--b1\r\n"
    "Content-Type: application/octet-stream; name=\"x.bin\"\r\n"
    "Content-Disposition: attachment; filename=\"x.bin\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "QkFEIHN0dWZm\r\n"  // "BAD stuff"
    "--b1--\r\n";

TEST(MailAnalysisTest, ThreatInDecodedPartIsTiedToThatPart) {
  FakeEngine engine;
  absl::StatusOr<MailAnalysis> a = AnalyzeMessage(engine, kTwoParts);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->verdict, v1::INFECTED);
  ASSERT_EQ(a->threats.size(), 1u);
  EXPECT_EQ(a->threats[0].name(), "Fake.Threat");
  EXPECT_EQ(a->threats[0].filename(), "x.bin");
  EXPECT_EQ(a->threats[0].content_type(), "application/octet-stream");
  EXPECT_FALSE(a->threats[0].part_path().empty());
  EXPECT_FALSE(a->has_untied_threat());
  EXPECT_EQ(a->leaf_count, 2);
}

TEST(MailAnalysisTest, ThreatOnlyInRawMessageIsReportedWithoutPart) {
  FakeEngine engine;
  std::string msg = "X-Evil: HEADERBOMB\r\nSubject: hi\r\n\r\nplain body\r\n";
  absl::StatusOr<MailAnalysis> a = AnalyzeMessage(engine, msg);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->verdict, v1::INFECTED);
  ASSERT_EQ(a->threats.size(), 1u);
  EXPECT_EQ(a->threats[0].name(), "Fake.HeaderOnly");
  EXPECT_TRUE(a->threats[0].part_path().empty());
  EXPECT_TRUE(a->has_untied_threat());
}

TEST(MailAnalysisTest, UnscannableIsNeverClean) {
  FakeEngine engine;
  absl::StatusOr<MailAnalysis> a = AnalyzeMessage(engine, "Subject: x\r\n\r\nLOCKED\r\n");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->verdict, v1::UNSCANNABLE);
  EXPECT_EQ(a->unscannable_reason, v1::ENCRYPTED);
  EXPECT_EQ(a->unscannable_detail, "Fake.Encrypted");
}

TEST(MailAnalysisTest, ThreatWinsOverUnscannable) {
  FakeEngine engine;
  absl::StatusOr<MailAnalysis> a = AnalyzeMessage(engine, "Subject: x\r\n\r\nLOCKED BAD\r\n");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->verdict, v1::INFECTED);
}

TEST(MailAnalysisTest, CleanMessage) {
  FakeEngine engine;
  absl::StatusOr<MailAnalysis> a = AnalyzeMessage(engine, "Subject: x\r\n\r\nfine\r\n");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->verdict, v1::CLEAN);
  EXPECT_TRUE(a->threats.empty());
}

}  // namespace
}  // namespace vmscan
