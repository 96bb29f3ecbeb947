// Unit test of the raw+parts merge with a fake engine. The same pipeline runs against the real
// libclamav engine in tests/integration/.
#include "host_server/scan/mail_analysis.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "host_server/engine/fake_scan_engine.h"

namespace vmscan {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Flags "BAD" as Fake.Threat, "HEADERBOMB" as Fake.HeaderOnly, "LOCKED" as unscannable; like
// every FakeScanEngine it sees nothing inside base64 unless the object is a decoded part.
class TestEngine : public FakeScanEngine {
 public:
  TestEngine() {
    AddThreat("BAD", "Fake.Threat");
    AddThreat("HEADERBOMB", "Fake.HeaderOnly");
    AddUnscannable("LOCKED", v1::ENCRYPTED, "Fake.Encrypted");
  }
};

// A text part, then an attachment x.bin holding `attachment_base64` (already encoded).
std::string TextAndAttachment(absl::string_view text, absl::string_view attachment_base64) {
  return absl::StrCat(
      "From: a@example.org\r\n"
      "Subject: test\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
      "\r\n"
      "--b1\r\n"
      "Content-Type: text/plain\r\n"
      "\r\n",
      text,
      "--b1\r\n"
      "Content-Type: application/octet-stream; name=\"x.bin\"\r\n"
      "Content-Disposition: attachment; filename=\"x.bin\"\r\n"
      "Content-Transfer-Encoding: base64\r\n"
      "\r\n",
      attachment_base64,
      "\r\n"
      "--b1--\r\n");
}

// "BAD stuff" in the attachment, which the raw scan cannot see through base64.
std::string TwoParts() { return TextAndAttachment("hello\r\n", "QkFEIHN0dWZm"); }
// Clean: "ok stuff" in the attachment.
std::string CleanTwoParts() { return TextAndAttachment("hello\r\nworld\r\n", "b2sgc3R1ZmY="); }

absl::StatusOr<MailAnalysis> Analyze(const ScanEngine& engine, absl::string_view message) {
  return AnalyzeMessage(engine, message, ScanBounds());
}

TEST(MailAnalysisTest, ThreatInDecodedPartIsTiedToThatPart) {
  TestEngine engine;
  absl::StatusOr<MailAnalysis> a = Analyze(engine, TwoParts());
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
  TestEngine engine;
  std::string msg = "X-Evil: HEADERBOMB\r\nSubject: hi\r\n\r\nplain body\r\n";
  absl::StatusOr<MailAnalysis> a = Analyze(engine, msg);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->verdict, v1::INFECTED);
  ASSERT_EQ(a->threats.size(), 1u);
  EXPECT_EQ(a->threats[0].name(), "Fake.HeaderOnly");
  EXPECT_TRUE(a->threats[0].part_path().empty());
  EXPECT_TRUE(a->has_untied_threat());
}

TEST(MailAnalysisTest, UnscannableIsNeverClean) {
  TestEngine engine;
  absl::StatusOr<MailAnalysis> a = Analyze(engine, "Subject: x\r\n\r\nLOCKED\r\n");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->verdict, v1::UNSCANNABLE);
  EXPECT_EQ(a->unscannable_reason, v1::ENCRYPTED);
  EXPECT_EQ(a->unscannable_detail, "Fake.Encrypted");
}

TEST(MailAnalysisTest, ThreatWinsOverUnscannable) {
  TestEngine engine;
  absl::StatusOr<MailAnalysis> a = Analyze(engine, "Subject: x\r\n\r\nLOCKED BAD\r\n");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->verdict, v1::INFECTED);
}

TEST(MailAnalysisTest, CleanMessage) {
  TestEngine engine;
  absl::StatusOr<MailAnalysis> a = Analyze(engine, "Subject: x\r\n\r\nfine\r\n");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->verdict, v1::CLEAN);
  EXPECT_TRUE(a->threats.empty());
}

TEST(MailAnalysisTest, PartsTheCleanRawScanInspectedAreNotScannedAgain) {
  TestEngine engine;
  engine.inspected_text = {"hello\nworld\n\n"};  // libclamav's form of the text part
  engine.inspected_exact = {"ok stuff"};
  absl::StatusOr<MailAnalysis> a = Analyze(engine, CleanTwoParts());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->verdict, v1::CLEAN);
  EXPECT_TRUE(a->threats.empty());
  EXPECT_EQ(a->leaf_count, 2);
  EXPECT_EQ(a->parts_covered_by_raw_scan, 2);
  EXPECT_THAT(engine.PartScans(), IsEmpty());
}

TEST(MailAnalysisTest, WithoutARecordEveryPartIsScanned) {
  TestEngine engine;
  absl::StatusOr<MailAnalysis> a = Analyze(engine, CleanTwoParts());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->verdict, v1::CLEAN);
  EXPECT_EQ(a->parts_covered_by_raw_scan, 0);
  EXPECT_THAT(engine.PartScans(), ElementsAre("1", "2"));
}

// The raw scan is blind to base64 here and did not inspect the attachment: only the part scan
// can find the threat, and it must still run.
TEST(MailAnalysisTest, PartTheRawScanDidNotInspectIsScannedAndItsThreatFound) {
  TestEngine engine;
  engine.inspected_text = {"hello\n"};
  absl::StatusOr<MailAnalysis> a = Analyze(engine, TwoParts());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->verdict, v1::INFECTED);
  ASSERT_EQ(a->threats.size(), 1u);
  EXPECT_EQ(a->threats[0].name(), "Fake.Threat");
  EXPECT_EQ(a->threats[0].filename(), "x.bin");
  EXPECT_EQ(a->parts_covered_by_raw_scan, 1);
  EXPECT_THAT(engine.PartScans(), ElementsAre("2"));
}

// A part that differs from what the raw scan inspected is scanned, even by one character.
TEST(MailAnalysisTest, PartDifferingFromTheInspectedTextIsScanned) {
  TestEngine engine;
  engine.inspected_text = {"hello\nworld!\n"};
  engine.inspected_exact = {"ok stuff"};
  absl::StatusOr<MailAnalysis> a = Analyze(engine, CleanTwoParts());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(engine.PartScans(), ElementsAre("1"));
}

// After a raw detection every part is scanned, so that each threat is tied to its part.
TEST(MailAnalysisTest, AfterARawDetectionEveryPartIsScanned) {
  TestEngine engine;
  const std::string msg = absl::StrReplaceAll(CleanTwoParts(), {{"world", "BAD"}});
  engine.inspected_text = {"hello\nBAD\n"};
  engine.inspected_exact = {"ok stuff"};
  absl::StatusOr<MailAnalysis> a = Analyze(engine, msg);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->verdict, v1::INFECTED);
  ASSERT_EQ(a->threats.size(), 1u);
  EXPECT_EQ(a->threats[0].part_path(), "1");
  EXPECT_FALSE(a->has_untied_threat());
  EXPECT_EQ(a->parts_covered_by_raw_scan, 0);
  EXPECT_THAT(engine.PartScans(), ElementsAre("1", "2"));
}

// A raw scan that could not look at everything proves nothing about the parts.
TEST(MailAnalysisTest, AfterAnUnscannableRawScanEveryPartIsScanned) {
  TestEngine engine;
  const std::string msg = absl::StrCat("X-Lock: LOCKED\r\n", CleanTwoParts());
  engine.inspected_text = {"hello\nworld\n"};
  engine.inspected_exact = {"ok stuff"};
  absl::StatusOr<MailAnalysis> a = Analyze(engine, msg);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->verdict, v1::UNSCANNABLE);
  EXPECT_THAT(engine.PartScans(), ElementsAre("1", "2"));
}

// A named text attachment (a script, say) is skipped only when the raw scan met its exact bytes:
// a hash signature of its CRLF form must still be able to match.
TEST(MailAnalysisTest, NamedTextAttachmentIsSkippedOnlyOnAnExactMatch) {
  const std::string msg = absl::StrReplaceAll(
      CleanTwoParts(), {{"Content-Type: text/plain\r\n",
                         "Content-Type: text/plain\r\n"
                         "Content-Disposition: attachment; filename=\"run.cmd\"\r\n"}});
  TestEngine engine;
  engine.inspected_text = {"hello\nworld\n"};
  engine.inspected_exact = {"ok stuff"};
  absl::StatusOr<MailAnalysis> a = Analyze(engine, msg);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(engine.PartScans(), ElementsAre("1"));

  TestEngine exact;
  // GMime's decoding keeps the CRLFs; the one before the boundary belongs to the boundary.
  exact.inspected_exact = {"hello\r\nworld", "ok stuff"};
  a = Analyze(exact, msg);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(exact.PartScans(), IsEmpty());
}

// The VM's bounds reach the engine on the raw scan and on every part scan.
TEST(MailAnalysisTest, EveryEngineCallGetsTheBounds) {
  TestEngine engine;
  ScanBounds bounds;
  bounds.max_files = 3;
  bounds.max_scan_time_ms = 500;
  absl::StatusOr<MailAnalysis> a = AnalyzeMessage(engine, TwoParts(), bounds);
  ASSERT_TRUE(a.ok()) << a.status();
  const std::vector<FakeScanEngine::Call> calls = engine.calls();
  ASSERT_EQ(calls.size(), 3u) << "the raw scan and two part scans";
  EXPECT_TRUE(calls[0].recording_inspected);
  for (const FakeScanEngine::Call& call : calls) EXPECT_EQ(call.bounds, bounds) << call.name;
}

}  // namespace
}  // namespace vmscan
