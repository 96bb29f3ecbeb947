#include "host_server/mail/mime_parts.h"

#include <algorithm>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/test_mail.h"

namespace vmscan {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::vmscan::testing::Base64Lines;
using ::vmscan::testing::ToCrlf;

std::vector<std::string> Paths(const std::vector<MimeLeaf>& leaves) {
  std::vector<std::string> paths;
  for (const MimeLeaf& leaf : leaves) paths.push_back(leaf.path);
  return paths;
}

std::string AllBytes() {
  std::string bytes;
  for (int round = 0; round < 4; ++round) {
    for (int b = 0; b < 256; ++b) bytes.push_back(static_cast<char>(b));
  }
  return bytes;
}

std::string TextAndAttachment(absl::string_view attachment) {
  return absl::StrCat(
      "From: alice@example.org\nTo: bob@example.net\nSubject: invoice\nMIME-Version: 1.0\n"
      "Content-Type: multipart/mixed; boundary=\"outer\"\n\n"
      "--outer\nContent-Type: text/plain; charset=us-ascii\n\n"
      "Please see the attached invoice.\n"
      "--outer\nContent-Type: application/zip; name=\"invoice.zip\"\n"
      "Content-Disposition: attachment; filename=\"invoice.zip\"\n"
      "Content-Transfer-Encoding: base64\n\n",
      Base64Lines(attachment), "--outer--\n");
}

TEST(ExtractLeafPartsTest, TextAndBase64Attachment) {
  const std::string eicar = vmscan::testing::Eicar();
  absl::StatusOr<std::vector<MimeLeaf>> leaves = ExtractLeafParts(TextAndAttachment(eicar));
  ASSERT_TRUE(leaves.ok()) << leaves.status();
  ASSERT_EQ(leaves->size(), 2u);
  EXPECT_EQ((*leaves)[0].path, "1");
  EXPECT_EQ((*leaves)[0].filename, "");
  EXPECT_EQ((*leaves)[0].content_type, "text/plain");
  // The line break before a boundary belongs to the boundary (RFC 2046 §5.1.1).
  EXPECT_EQ((*leaves)[0].decoded, "Please see the attached invoice.");
  EXPECT_EQ((*leaves)[1].path, "2");
  EXPECT_EQ((*leaves)[1].filename, "invoice.zip");
  EXPECT_EQ((*leaves)[1].content_type, "application/zip");
  EXPECT_EQ((*leaves)[1].decoded, eicar);
}

TEST(ExtractLeafPartsTest, Base64DecodingIsExactForEveryByteValue) {
  const std::string bytes = AllBytes();
  for (const std::string& message : {TextAndAttachment(bytes), ToCrlf(TextAndAttachment(bytes))}) {
    absl::StatusOr<std::vector<MimeLeaf>> leaves = ExtractLeafParts(message);
    ASSERT_TRUE(leaves.ok()) << leaves.status();
    ASSERT_EQ(leaves->size(), 2u);
    EXPECT_EQ((*leaves)[1].decoded, bytes);
  }
}

TEST(ExtractLeafPartsTest, QuotedPrintableIsDecoded) {
  absl::StatusOr<std::vector<MimeLeaf>> leaves = ExtractLeafParts(
      "From: a@example.org\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
      "Content-Transfer-Encoding: quoted-printable\n\n"
      "Caf=C3=A9 au lait, 1+1=3D2, soft-=\nwrapped.\n");
  ASSERT_TRUE(leaves.ok()) << leaves.status();
  ASSERT_EQ(leaves->size(), 1u);
  EXPECT_EQ((*leaves)[0].decoded, "Caf\xC3\xA9 au lait, 1+1=2, soft-wrapped.\n");
}

TEST(ExtractLeafPartsTest, AlternativeNestedInMixed) {
  absl::StatusOr<std::vector<MimeLeaf>> leaves = ExtractLeafParts(
      "From: a@example.org\nContent-Type: multipart/mixed; boundary=mixed\n\n"
      "--mixed\nContent-Type: multipart/alternative; boundary=alt\n\n"
      "--alt\nContent-Type: text/plain\n\nplain\n"
      "--alt\nContent-Type: text/html\n\n<p>html</p>\n"
      "--alt--\n"
      "--mixed\nContent-Type: application/pdf; name=report.pdf\n\n%PDF-1.4\n"
      "--mixed--\n");
  ASSERT_TRUE(leaves.ok()) << leaves.status();
  EXPECT_THAT(Paths(*leaves), ::testing::ElementsAre("1.1", "1.2", "2"));
  ASSERT_EQ(leaves->size(), 3u);
  EXPECT_EQ((*leaves)[0].decoded, "plain");
  EXPECT_EQ((*leaves)[1].content_type, "text/html");
  EXPECT_EQ((*leaves)[1].decoded, "<p>html</p>");
  EXPECT_EQ((*leaves)[2].filename, "report.pdf");
  EXPECT_EQ((*leaves)[2].decoded, "%PDF-1.4");
}

TEST(ExtractLeafPartsTest, AttachedMessagesAreDescendedInto) {
  const std::string eicar = vmscan::testing::Eicar();
  absl::StatusOr<std::vector<MimeLeaf>> leaves = ExtractLeafParts(absl::StrCat(
      "From: a@example.org\nContent-Type: multipart/mixed; boundary=outer\n\n"
      "--outer\nContent-Type: text/plain\n\nforwarding two messages\n"
      "--outer\nContent-Type: message/rfc822\n\n"
      "From: b@example.org\nSubject: inner\nContent-Type: multipart/mixed; boundary=inner\n\n"
      "--inner\nContent-Type: text/plain\n\ninner text\n"
      "--inner\nContent-Type: application/octet-stream\n"
      "Content-Disposition: attachment; filename=eicar.com\n"
      "Content-Transfer-Encoding: base64\n\n",
      Base64Lines(eicar),
      "--inner--\n"
      "--outer\nContent-Type: message/rfc822\n\n"
      "From: c@example.org\nSubject: single\n\nsingle-part inner body\n"
      "--outer--\n"));
  ASSERT_TRUE(leaves.ok()) << leaves.status();
  EXPECT_THAT(Paths(*leaves), ::testing::ElementsAre("1", "2.1", "2.2", "3.1"));
  ASSERT_EQ(leaves->size(), 4u);
  EXPECT_EQ((*leaves)[1].decoded, "inner text");
  EXPECT_EQ((*leaves)[2].filename, "eicar.com");
  EXPECT_EQ((*leaves)[2].decoded, eicar);
  EXPECT_EQ((*leaves)[3].content_type, "text/plain");
  EXPECT_EQ((*leaves)[3].decoded, "single-part inner body");
}

TEST(ExtractLeafPartsTest, SinglePartMessageHasOneLeafAtPathOne) {
  absl::StatusOr<std::vector<MimeLeaf>> leaves =
      ExtractLeafParts("From: a@example.org\nSubject: hi\n\nJust a body.\n");
  ASSERT_TRUE(leaves.ok()) << leaves.status();
  ASSERT_EQ(leaves->size(), 1u);
  EXPECT_EQ((*leaves)[0].path, "1");
  EXPECT_EQ((*leaves)[0].content_type, "text/plain");  // the RFC 2045 default
  EXPECT_EQ((*leaves)[0].decoded, "Just a body.\n");
}

TEST(ExtractLeafPartsTest, SinglePartAttachment) {
  const std::string eicar = vmscan::testing::Eicar();
  absl::StatusOr<std::vector<MimeLeaf>> leaves = ExtractLeafParts(
      absl::StrCat("From: a@example.org\nMIME-Version: 1.0\n"
                   "Content-Type: Application/X-MSDOS-Program; name=\"eicar.com\"\n"
                   "Content-Transfer-Encoding: base64\n\n",
                   Base64Lines(eicar)));
  ASSERT_TRUE(leaves.ok()) << leaves.status();
  ASSERT_EQ(leaves->size(), 1u);
  EXPECT_EQ((*leaves)[0].path, "1");
  EXPECT_EQ((*leaves)[0].filename, "eicar.com");  // from the Content-Type name parameter
  EXPECT_EQ((*leaves)[0].content_type, "application/x-msdos-program");
  EXPECT_EQ((*leaves)[0].decoded, eicar);
}

TEST(ExtractLeafPartsTest, ContentTypeIsLowerCasedAndFilenamesAreDecoded) {
  absl::StatusOr<std::vector<MimeLeaf>> leaves = ExtractLeafParts(
      "From: a@example.org\nContent-Type: multipart/mixed; boundary=b\n\n"
      "--b\nContent-Type: TEXT/HTML; charset=UTF-8\n\n<p>x</p>\n"
      "--b\nContent-Type: application/zip\n"
      "Content-Disposition: attachment; filename*=utf-8''%C3%A9t%C3%A9.zip\n\nzip\n"
      "--b\nContent-Type: application/zip\n"
      "Content-Disposition: attachment; filename=\"=?utf-8?b?w6l0w6kuemlw?=\"\n\nzip\n"
      "--b--\n");
  ASSERT_TRUE(leaves.ok()) << leaves.status();
  ASSERT_EQ(leaves->size(), 3u);
  EXPECT_EQ((*leaves)[0].content_type, "text/html");
  EXPECT_EQ((*leaves)[0].filename, "");
  EXPECT_EQ((*leaves)[1].filename, "\xC3\xA9t\xC3\xA9.zip");  // RFC 2231
  EXPECT_EQ((*leaves)[2].filename, "\xC3\xA9t\xC3\xA9.zip");  // RFC 2047, as mailers do it
}

TEST(ExtractLeafPartsTest, CrlfContentKeepsItsLineBreaks) {
  absl::StatusOr<std::vector<MimeLeaf>> leaves =
      ExtractLeafParts(ToCrlf("From: a@example.org\nContent-Type: multipart/mixed; boundary=b\n\n"
                              "--b\nContent-Type: text/plain\n\nline one\nline two\n--b--\n"));
  ASSERT_TRUE(leaves.ok()) << leaves.status();
  ASSERT_EQ(leaves->size(), 1u);
  EXPECT_EQ((*leaves)[0].decoded, "line one\r\nline two");
}

TEST(ExtractLeafPartsTest, BareLfBeforeCrlfBoundaryKeepsLastByte) {
  // GMime 3.2.13 alone returns "keep\nmor": it strips two bytes before a CRLF boundary line.
  absl::StatusOr<std::vector<MimeLeaf>> leaves = ExtractLeafParts(
      "From: a@example.org\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
      "--b\r\nContent-Type: text/plain\r\n\r\nkeep\nmore\n--b\r\n\r\nnext\r\n--b--\r\n");
  ASSERT_TRUE(leaves.ok()) << leaves.status();
  ASSERT_EQ(leaves->size(), 2u);
  EXPECT_EQ((*leaves)[0].decoded, "keep\nmore");
  EXPECT_EQ((*leaves)[1].decoded, "next");
}

TEST(ExtractLeafPartsTest, EmptyInputIsNotAMessage) {
  absl::StatusOr<std::vector<MimeLeaf>> leaves = ExtractLeafParts("");
  EXPECT_EQ(leaves.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ExtractLeafPartsTest, BytesWithoutHeadersAreOneTextLeaf) {
  std::string garbage = AllBytes();
  std::reverse(garbage.begin(), garbage.end());  // starts with 0xFF, not a header name
  for (const std::string& input :
       {garbage, std::string("hello world\n"), std::string("no line break at all")}) {
    absl::StatusOr<std::vector<MimeLeaf>> leaves = ExtractLeafParts(input);
    ASSERT_TRUE(leaves.ok()) << leaves.status();
    ASSERT_EQ(leaves->size(), 1u);
    EXPECT_EQ((*leaves)[0].path, "1");
    EXPECT_EQ((*leaves)[0].content_type, "text/plain");
    EXPECT_EQ((*leaves)[0].decoded, input);
  }
}

std::string MessageWithParts(int parts) {
  std::string message = "From: a@example.org\nContent-Type: multipart/mixed; boundary=b\n\n";
  for (int i = 0; i < parts; ++i) absl::StrAppend(&message, "--b\n\n", i, "\n");
  absl::StrAppend(&message, "--b--\n");
  return message;
}

TEST(ExtractLeafPartsTest, TenThousandPartsAreAllowed) {
  absl::StatusOr<std::vector<MimeLeaf>> leaves = ExtractLeafParts(MessageWithParts(10000));
  ASSERT_TRUE(leaves.ok()) << leaves.status();
  ASSERT_EQ(leaves->size(), 10000u);
  EXPECT_EQ(leaves->back().path, "10000");
  EXPECT_EQ(leaves->back().decoded, "9999");
}

TEST(ExtractLeafPartsTest, TwentyThousandPartsAreTooMany) {
  absl::StatusOr<std::vector<MimeLeaf>> leaves = ExtractLeafParts(MessageWithParts(20000));
  EXPECT_EQ(leaves.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(leaves.status().message(), HasSubstr("too many parts"));
  EXPECT_THAT(leaves.status().message(), HasSubstr("leaf parts"));  // counted while walking
}

TEST(ExtractLeafPartsTest, HugePartCountsAreRefusedBeforeParsing) {
  // 500,000 parts would cost GMime about 650 MB; the raw pre-check refuses them first.
  absl::StatusOr<std::vector<MimeLeaf>> leaves = ExtractLeafParts(MessageWithParts(500000));
  EXPECT_EQ(leaves.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(leaves.status().message(), HasSubstr("too many parts"));
  EXPECT_THAT(leaves.status().message(), HasSubstr("look like MIME boundaries"));
}

// `levels` multiparts, each the only child of the previous one, around one text leaf.
std::string NestedMultiparts(int levels) {
  std::string message = "From: a@example.org\n";
  for (int i = 0; i < levels; ++i) {
    absl::StrAppend(&message, "Content-Type: multipart/mixed; boundary=b", i, "\n\n--b", i, "\n");
  }
  absl::StrAppend(&message, "Content-Type: text/plain\n\ndeep\n");
  for (int i = levels - 1; i >= 0; --i) absl::StrAppend(&message, "--b", i, "--\n");
  return message;
}

TEST(ExtractLeafPartsTest, NestingUpToThirtyTwoLevelsIsAllowed) {
  absl::StatusOr<std::vector<MimeLeaf>> leaves = ExtractLeafParts(NestedMultiparts(32));
  ASSERT_TRUE(leaves.ok()) << leaves.status();
  ASSERT_EQ(leaves->size(), 1u);
  EXPECT_EQ(std::count((*leaves)[0].path.begin(), (*leaves)[0].path.end(), '.'), 31);
  EXPECT_EQ((*leaves)[0].decoded, "deep");
}

TEST(ExtractLeafPartsTest, DeeperNestingIsRefused) {
  // 3000 levels is past GMime's own limit (1024), where it stops parsing silently.
  for (int levels : {33, 3000}) {
    absl::StatusOr<std::vector<MimeLeaf>> leaves = ExtractLeafParts(NestedMultiparts(levels));
    EXPECT_EQ(leaves.status().code(), absl::StatusCode::kInvalidArgument) << levels;
    EXPECT_THAT(leaves.status().message(), HasSubstr("nesting too deep"));
  }
  std::string messages = "From: a@example.org\n";
  for (int i = 0; i < 3000; ++i) absl::StrAppend(&messages, "Content-Type: message/rfc822\n\n");
  absl::StrAppend(&messages, "Subject: innermost\n\nbody\n");
  absl::StatusOr<std::vector<MimeLeaf>> leaves = ExtractLeafParts(messages);
  EXPECT_EQ(leaves.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(leaves.status().message(), HasSubstr("nesting too deep"));
}

TEST(ExtractLeafPartsTest, ContentOutsidePartsIsInNoLeaf) {
  // Documented in mime_parts.h: why the raw message must be scanned too.
  absl::StatusOr<std::vector<MimeLeaf>> leaves = ExtractLeafParts(
      "From: a@example.org\nContent-Type: multipart/mixed; boundary=b\n\n"
      "PREAMBLE-CONTENT\n--b\nContent-Type: text/plain\n\npart\n--b--\nEPILOGUE-CONTENT\n");
  ASSERT_TRUE(leaves.ok()) << leaves.status();
  ASSERT_EQ(leaves->size(), 1u);
  EXPECT_EQ((*leaves)[0].decoded, "part");
  absl::StatusOr<std::vector<MimeLeaf>> no_boundary = ExtractLeafParts(
      "From: a@example.org\nContent-Type: multipart/mixed\n\n--b\n\nHIDDEN\n--b--\n");
  ASSERT_TRUE(no_boundary.ok()) << no_boundary.status();
  EXPECT_TRUE(no_boundary->empty());
}

TEST(ExtractLeafPartsTest, ConcurrentCallsAgree) {
  const std::string message = TextAndAttachment(vmscan::testing::Eicar());
  absl::StatusOr<std::vector<MimeLeaf>> expected = ExtractLeafParts(message);
  ASSERT_TRUE(expected.ok()) << expected.status();
  constexpr int kThreads = 8;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        absl::StatusOr<std::vector<MimeLeaf>> leaves = ExtractLeafParts(message);
        if (!leaves.ok() || leaves->size() != expected->size()) {
          ++mismatches[t];
          continue;
        }
        for (size_t j = 0; j < leaves->size(); ++j) {
          const MimeLeaf& a = (*leaves)[j];
          const MimeLeaf& b = (*expected)[j];
          if (a.path != b.path || a.filename != b.filename || a.content_type != b.content_type ||
              a.decoded != b.decoded) {
            ++mismatches[t];
          }
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(mismatches, ::testing::Each(0));
}

TEST(ExtractLeafPartsTest, PythonEmailCorpusParses) {
  const std::vector<vmscan::testing::CorpusMessage> corpus = vmscan::testing::PythonEmailCorpus();
  ASSERT_EQ(corpus.size(), 47u) << "install libpython3.11-testsuite";
  size_t total_leaves = 0;
  for (const auto& [file, raw] : corpus) {
    absl::StatusOr<std::vector<MimeLeaf>> leaves = ExtractLeafParts(raw);
    ASSERT_TRUE(leaves.ok()) << file << ": " << leaves.status();
    std::vector<std::string> paths = Paths(*leaves);
    std::sort(paths.begin(), paths.end());
    EXPECT_TRUE(std::adjacent_find(paths.begin(), paths.end()) == paths.end()) << file;
    for (const MimeLeaf& leaf : *leaves) {
      EXPECT_FALSE(leaf.path.empty()) << file;
      EXPECT_THAT(leaf.content_type, HasSubstr("/")) << file;
    }
    total_leaves += leaves->size();
  }
  EXPECT_GT(total_leaves, 100u);
}

TEST(ExtractLeafPartsTest, PythonCorpusSpecialCases) {
  // msg_19 is a digest body saved without headers: one text leaf holding all of it.
  absl::StatusOr<std::string> headerless = vmscan::testing::ReadFile(
      absl::StrCat(vmscan::testing::PythonEmailCorpusDir(), "/msg_19.txt"));
  ASSERT_TRUE(headerless.ok()) << headerless.status();
  absl::StatusOr<std::vector<MimeLeaf>> leaves = ExtractLeafParts(*headerless);
  ASSERT_TRUE(leaves.ok()) << leaves.status();
  ASSERT_EQ(leaves->size(), 1u);
  EXPECT_EQ((*leaves)[0].decoded, *headerless);

  // msg_35 has no empty line after its headers; GMime drops the body line it takes for a broken
  // header (documented in mime_parts.h).
  absl::StatusOr<std::string> no_separator = vmscan::testing::ReadFile(
      absl::StrCat(vmscan::testing::PythonEmailCorpusDir(), "/msg_35.txt"));
  ASSERT_TRUE(no_separator.ok()) << no_separator.status();
  ASSERT_THAT(*no_separator, HasSubstr("counter to RFC 2822"));
  leaves = ExtractLeafParts(*no_separator);
  ASSERT_TRUE(leaves.ok()) << leaves.status();
  ASSERT_EQ(leaves->size(), 1u);
  EXPECT_THAT((*leaves)[0].decoded, Not(HasSubstr("counter to RFC 2822")));
}

}  // namespace
}  // namespace vmscan
