// Unit test of the raw+parts merge with a fake engine. The same pipeline runs against the real
// libclamav engine in tests/integration/.
#include "host_server/scan/mail_analysis.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmscan {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

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

// FakeEngine whose raw scan reports, as ScanRecordingInspected, the objects listed in
// `inspected_exact` (byte for byte) and `inspected_text` (normalized text), and which remembers
// the name of every object scanned with Scan() (the part scans).
class RecordingEngine : public FakeEngine {
 public:
  absl::StatusOr<EngineVerdict> Scan(absl::string_view data,
                                     absl::string_view name) const override {
    scanned.emplace_back(name);
    return FakeEngine::Scan(data, name);
  }
  absl::StatusOr<EngineVerdict> ScanRecordingInspected(absl::string_view data,
                                                       absl::string_view name) const override {
    absl::StatusOr<EngineVerdict> verdict = FakeEngine::Scan(data, name);
    if (!verdict.ok()) return verdict;
    for (const std::string& object : inspected_exact) {
      verdict->inspected.exact.insert(Sha256Hex(object));
    }
    for (const std::string& object : inspected_text) {
      verdict->inspected.text.insert(TextFingerprint(object));
    }
    return verdict;
  }

  std::vector<std::string> inspected_exact;
  std::vector<std::string> inspected_text;
  mutable std::vector<std::string> scanned;
};

constexpr char kTextAndAttachment[] =
    "From: a@example.org\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
    "\r\n"
    "--b1\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "hello\r\n"
    "world\r\n"
    "--b1\r\n"
    "Content-Type: application/octet-stream; name=\"x.bin\"\r\n"
    "Content-Disposition: attachment; filename=\"x.bin\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "b2sgc3R1ZmY=\r\n"  // "ok stuff"
    "--b1--\r\n";

TEST(MailAnalysisTest, PartsTheCleanRawScanInspectedAreNotScannedAgain) {
  RecordingEngine engine;
  engine.inspected_text = {"hello\nworld\n\n"};  // libclamav's form of the text part
  engine.inspected_exact = {"ok stuff"};
  absl::StatusOr<MailAnalysis> a = AnalyzeMessage(engine, kTextAndAttachment);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->verdict, v1::CLEAN);
  EXPECT_TRUE(a->threats.empty());
  EXPECT_EQ(a->leaf_count, 2);
  EXPECT_EQ(a->parts_covered_by_raw_scan, 2);
  EXPECT_THAT(engine.scanned, IsEmpty());
}

TEST(MailAnalysisTest, WithoutARecordEveryPartIsScanned) {
  RecordingEngine engine;
  absl::StatusOr<MailAnalysis> a = AnalyzeMessage(engine, kTextAndAttachment);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->verdict, v1::CLEAN);
  EXPECT_EQ(a->parts_covered_by_raw_scan, 0);
  EXPECT_THAT(engine.scanned, ElementsAre("1", "2"));
}

// The raw scan is blind to base64 here and did not inspect the attachment: only the part scan
// can find the threat, and it must still run.
TEST(MailAnalysisTest, PartTheRawScanDidNotInspectIsScannedAndItsThreatFound) {
  RecordingEngine engine;
  engine.inspected_text = {"hello\n"};
  absl::StatusOr<MailAnalysis> a = AnalyzeMessage(engine, kTwoParts);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->verdict, v1::INFECTED);
  ASSERT_EQ(a->threats.size(), 1u);
  EXPECT_EQ(a->threats[0].name(), "Fake.Threat");
  EXPECT_EQ(a->threats[0].filename(), "x.bin");
  EXPECT_EQ(a->parts_covered_by_raw_scan, 1);
  EXPECT_THAT(engine.scanned, ElementsAre("2"));
}

// A part that differs from what the raw scan inspected is scanned, even by one character.
TEST(MailAnalysisTest, PartDifferingFromTheInspectedTextIsScanned) {
  RecordingEngine engine;
  engine.inspected_text = {"hello\nworld!\n"};
  engine.inspected_exact = {"ok stuff"};
  absl::StatusOr<MailAnalysis> a = AnalyzeMessage(engine, kTextAndAttachment);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(engine.scanned, ElementsAre("1"));
}

// After a raw detection every part is scanned, so that each threat is tied to its part.
TEST(MailAnalysisTest, AfterARawDetectionEveryPartIsScanned) {
  RecordingEngine engine;
  const std::string msg = absl::StrReplaceAll(kTextAndAttachment, {{"world", "BAD"}});
  engine.inspected_text = {"hello\nBAD\n"};
  engine.inspected_exact = {"ok stuff"};
  absl::StatusOr<MailAnalysis> a = AnalyzeMessage(engine, msg);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->verdict, v1::INFECTED);
  ASSERT_EQ(a->threats.size(), 1u);
  EXPECT_EQ(a->threats[0].part_path(), "1");
  EXPECT_FALSE(a->has_untied_threat());
  EXPECT_EQ(a->parts_covered_by_raw_scan, 0);
  EXPECT_THAT(engine.scanned, ElementsAre("1", "2"));
}

// A raw scan that could not look at everything proves nothing about the parts.
TEST(MailAnalysisTest, AfterAnUnscannableRawScanEveryPartIsScanned) {
  RecordingEngine engine;
  const std::string msg = absl::StrCat("X-Lock: LOCKED\r\n", kTextAndAttachment);
  engine.inspected_text = {"hello\nworld\n"};
  engine.inspected_exact = {"ok stuff"};
  absl::StatusOr<MailAnalysis> a = AnalyzeMessage(engine, msg);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->verdict, v1::UNSCANNABLE);
  EXPECT_THAT(engine.scanned, ElementsAre("1", "2"));
}

// A named text attachment (a script, say) is skipped only when the raw scan met its exact bytes:
// a hash signature of its CRLF form must still be able to match.
TEST(MailAnalysisTest, NamedTextAttachmentIsSkippedOnlyOnAnExactMatch) {
  const std::string msg = absl::StrReplaceAll(
      kTextAndAttachment, {{"Content-Type: text/plain\r\n",
                            "Content-Type: text/plain\r\n"
                            "Content-Disposition: attachment; filename=\"run.cmd\"\r\n"}});
  RecordingEngine engine;
  engine.inspected_text = {"hello\nworld\n"};
  engine.inspected_exact = {"ok stuff"};
  absl::StatusOr<MailAnalysis> a = AnalyzeMessage(engine, msg);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(engine.scanned, ElementsAre("1"));

  RecordingEngine exact;
  // GMime's decoding keeps the CRLFs; the one before the boundary belongs to the boundary.
  exact.inspected_exact = {"hello\r\nworld", "ok stuff"};
  a = AnalyzeMessage(exact, msg);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(exact.scanned, IsEmpty());
}

}  // namespace
}  // namespace vmscan
