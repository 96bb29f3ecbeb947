#include "host_server/mail/disinfect.h"

#include <algorithm>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "host_server/mail/mime_parts.h"
#include "tests/testing/test_mail.h"

namespace vmscan {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::vmscan::testing::Base64Lines;
using ::vmscan::testing::ToCrlf;

std::string Unwrapped(absl::string_view text) { return absl::StrReplaceAll(text, {{"\n", " "}}); }

// `text` with its only occurrence of `from` replaced by `to`.
std::string ReplaceOnce(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  EXPECT_EQ(text.find(from, at + 1), std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// A message with most of what a real one carries, built from named pieces so that the expected
// output can be spelled out: headers with folding, an encoded word, a repeated field and fields
// after Content-Type; a preamble and an epilogue; a multipart/alternative; a base64 PDF; the
// infected attachment; and an attached message with parts of its own.
struct RichMessage {
  std::string eicar = vmscan::testing::Eicar();
  std::string headers =
      "Received: from mx.example.net (mx.example.net [192.0.2.1])\n"
      "\tby svm.example.org with ESMTPS id 4F2;\n"
      "        Mon, 1 Apr 2024 10:00:00 +0000\n"
      "From: =?utf-8?q?Alice_M=C3=BCller?= <alice@example.org>\n"
      "To: bob@example.net,\n  carol@example.net\n"
      "Subject: =?utf-8?b?UmVjaG51bmcgZsO8ciBNw6Ryeg==?=\n"
      "X-Repeated: one\n"
      "X-Repeated: two\n"
      "MIME-Version: 1.0\n"
      "Content-Type: multipart/mixed;\n boundary=\"=_outer\"\n"
      "X-After-Content-Type:   odd   spacing  \n";
  std::string preamble = "This is a multi-part message in MIME format.\n";
  std::string alternative =
      "Content-Type: multipart/alternative; boundary=\"=_alt\"\n\n"
      "--=_alt\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: "
      "quoted-printable\n\nGr=C3=BC=C3=9Fe, the invoice is attached. This line is long enough =\n"
      "to be soft-wrapped.\n"
      "--=_alt\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n\n" +
      Base64Lines(
          "<p>Gr\xC3\xBC\xC3\x9F"
          "e</p>") +
      "--=_alt--\n";
  std::string pdf =
      "Content-Type: application/pdf; name=\"terms.pdf\"\n"
      "Content-Disposition: attachment; filename=\"terms.pdf\"\n"
      "Content-Transfer-Encoding: base64\n\n" +
      Base64Lines(std::string("%PDF-1.4\n\0\x01\x02\xFF binary\r\n", 22));
  std::string infected =
      "Content-Type: application/zip; name=\"invoice.zip\"\n"
      "Content-Disposition: attachment; filename=\"invoice.zip\"\n"
      "Content-Transfer-Encoding: base64\n\n" +
      Base64Lines(eicar);
  std::string attached_message =
      "Content-Type: message/rfc822\nContent-Disposition: attachment\n\n"
      "From: dave@example.com\nSubject: forwarded\nMIME-Version: 1.0\n"
      "Content-Type: multipart/mixed; boundary=\"=_inner\"\n\n"
      "--=_inner\nContent-Type: text/plain\n\ninner text\n"
      "--=_inner\nContent-Type: application/octet-stream; name=\"tool.exe\"\n"
      "Content-Transfer-Encoding: base64\n\n" +
      Base64Lines(eicar) + "--=_inner--\n";
  std::string epilogue = "epilogue text\n";

  std::string Raw() const {
    return absl::StrCat(headers, "\n", preamble, "--=_outer\n", alternative, "\n--=_outer\n", pdf,
                        "--=_outer\n", infected, "--=_outer\n", attached_message, "\n--=_outer--\n",
                        epilogue);
  }
};

std::string Notice(absl::string_view wrapped_text) {
  return absl::StrCat(
      "Content-Type: text/plain; charset=utf-8\nContent-Disposition: inline\n"
      "Content-Transfer-Encoding: 7bit\n\n",
      wrapped_text, "\n");
}

std::string InvoiceNotice() {
  return Notice(
      "vmscan removed the attachment \"invoice.zip\" (application/zip) because it\n"
      "contained the threat Eicar-Test-Signature. A copy of the original message is\n"
      "kept in Backup.\n");
}

TEST(DisinfectTest, ReplacesAttachmentAndKeepsEverythingElseByteForByte) {
  RichMessage m;
  const std::string raw = m.Raw();
  absl::StatusOr<DisinfectResult> result = Disinfect(raw, {{"3", "Eicar-Test-Signature"}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(result->removed_paths, ElementsAre("3"));
  std::string expected = ReplaceOnce(raw, m.infected, InvoiceNotice());
  expected = ReplaceOnce(expected, m.headers,
                         absl::StrCat(m.headers, "X-Vmscan-Status: disinfected; removed=1\n"));
  EXPECT_EQ(result->message, expected);
}

TEST(DisinfectTest, CrlfMessagesStayCrlf) {
  RichMessage m;
  const std::string raw = ToCrlf(m.Raw());
  absl::StatusOr<DisinfectResult> result = Disinfect(raw, {{"3", "Eicar-Test-Signature"}});
  ASSERT_TRUE(result.ok()) << result.status();
  std::string expected = ReplaceOnce(raw, ToCrlf(m.infected), ToCrlf(InvoiceNotice()));
  expected =
      ReplaceOnce(expected, ToCrlf(m.headers),
                  ToCrlf(absl::StrCat(m.headers, "X-Vmscan-Status: disinfected; removed=1\n")));
  EXPECT_EQ(result->message, expected);
}

TEST(DisinfectTest, ResultReparsesWithTheOtherPartsUnchanged) {
  RichMessage m;
  const std::string raw = m.Raw();
  absl::StatusOr<std::vector<MimeLeaf>> before = ExtractLeafParts(raw);
  ASSERT_TRUE(before.ok()) << before.status();
  absl::StatusOr<DisinfectResult> result =
      Disinfect(raw, {{"3", "Eicar-Test-Signature"}, {"4.2", "Eicar-Test-Signature"}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(result->removed_paths, ElementsAre("3", "4.2"));
  EXPECT_THAT(result->message, HasSubstr("X-Vmscan-Status: disinfected; removed=2\n"));
  EXPECT_THAT(result->message, Not(HasSubstr(m.eicar)));
  EXPECT_THAT(result->message, Not(HasSubstr(Base64Lines(m.eicar))));

  absl::StatusOr<std::vector<MimeLeaf>> after = ExtractLeafParts(result->message);
  ASSERT_TRUE(after.ok()) << after.status();
  ASSERT_EQ(after->size(), before->size());
  for (size_t i = 0; i < after->size(); ++i) {
    const MimeLeaf& was = (*before)[i];
    const MimeLeaf& now = (*after)[i];
    EXPECT_EQ(now.path, was.path);
    if (was.path == "3" || was.path == "4.2") {
      EXPECT_EQ(now.content_type, "text/plain");
      EXPECT_EQ(now.filename, "");
      EXPECT_THAT(now.decoded, HasSubstr("Eicar-Test-Signature"));
      EXPECT_THAT(now.decoded, Not(HasSubstr(m.eicar)));
    } else {
      EXPECT_EQ(now.content_type, was.content_type) << was.path;
      EXPECT_EQ(now.filename, was.filename) << was.path;
      EXPECT_EQ(now.decoded, was.decoded) << was.path;
    }
  }
  EXPECT_THAT((*after)[3].decoded, HasSubstr("\"invoice.zip\" (application/zip)"));
  EXPECT_THAT((*after)[5].decoded, HasSubstr("\"tool.exe\" (application/octet-stream)"));
}

TEST(DisinfectTest, RemovesFromNestedStructures) {
  RichMessage m;
  const std::string raw = m.Raw();
  // In an alternative and in an attached message; the paths may come in any order.
  absl::StatusOr<DisinfectResult> result =
      Disinfect(raw, {{"4.2", "Win.Trojan.Agent"}, {"1.2", "Html.Phishing"}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(result->removed_paths, ElementsAre("1.2", "4.2"));  // document order
  const std::string html_part =
      "Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n\n" +
      Base64Lines(
          "<p>Gr\xC3\xBC\xC3\x9F"
          "e</p>");
  const std::string exe_part =
      "Content-Type: application/octet-stream; name=\"tool.exe\"\n"
      "Content-Transfer-Encoding: base64\n\n" +
      Base64Lines(m.eicar);
  std::string expected = ReplaceOnce(
      raw, html_part,
      Notice("vmscan removed a part of this message (text/html) because it contained the\n"
             "threat Html.Phishing. A copy of the original message is kept in Backup.\n"));
  expected = ReplaceOnce(
      expected, exe_part,
      Notice("vmscan removed the attachment \"tool.exe\" (application/octet-stream) because\n"
             "it contained the threat Win.Trojan.Agent. A copy of the original message is\n"
             "kept in Backup.\n"));
  expected = ReplaceOnce(expected, m.headers,
                         absl::StrCat(m.headers, "X-Vmscan-Status: disinfected; removed=2\n"));
  EXPECT_EQ(result->message, expected);
}

TEST(DisinfectTest, SingleBodyOfAttachedMessageGetsMimeVersion) {
  // GMime adds "MIME-Version: 1.0" to an attached message whose body it sets (documented).
  const std::string raw =
      "From: a@example.org\nContent-Type: multipart/mixed; boundary=b\n\n"
      "--b\nContent-Type: text/plain\n\nsee attached\n"
      "--b\nContent-Type: message/rfc822\n\n"
      "From: c@example.org\nSubject: inner\n\ninner body with a threat\n"
      "--b--\n";
  absl::StatusOr<DisinfectResult> result = Disinfect(raw, {{"2.1", "Txt.Bad"}});
  ASSERT_TRUE(result.ok()) << result.status();
  std::string expected = ReplaceOnce(
      raw, "Subject: inner\n\ninner body with a threat\n",
      absl::StrCat("Subject: inner\nMIME-Version: 1.0\n",
                   Notice("vmscan removed a part of this message (text/plain) because it "
                          "contained the\nthreat Txt.Bad. A copy of the original message is kept "
                          "in Backup.\n")));
  // The new field goes after the message's own fields, before its body's Content-* fields.
  expected = ReplaceOnce(expected, "From: a@example.org\n",
                         "From: a@example.org\nX-Vmscan-Status: disinfected; removed=1\n");
  EXPECT_EQ(result->message, expected);
}

TEST(DisinfectTest, SameThreatTwiceIsOneRemovalAndTwoThreatsAreNamed) {
  RichMessage m;
  absl::StatusOr<DisinfectResult> result = Disinfect(
      m.Raw(), {{"3", "Eicar-Test-Signature"}, {"3", "Eicar-Test-Signature"}, {"3", "Zip.Other"}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(result->removed_paths, ElementsAre("3"));
  EXPECT_THAT(result->message, HasSubstr("X-Vmscan-Status: disinfected; removed=1\n"));
  absl::StatusOr<std::vector<MimeLeaf>> leaves = ExtractLeafParts(result->message);
  ASSERT_TRUE(leaves.ok()) << leaves.status();
  EXPECT_THAT(Unwrapped((*leaves)[3].decoded),
              HasSubstr("the threats Eicar-Test-Signature, Zip.Other. A copy of the original"));
}

TEST(DisinfectTest, SpoofedStatusHeaderIsReplaced) {
  const std::string raw = vmscan::testing::MailWithAttachment("a.zip", "application/zip", "zip");
  const std::string spoofed = ReplaceOnce(raw, "MIME-Version: 1.0\r\n",
                                          "X-Vmscan-Status: clean\r\nMIME-Version: 1.0\r\n"
                                          "X-VMSCAN-STATUS: clean too\r\n");
  absl::StatusOr<DisinfectResult> result = Disinfect(spoofed, {{"2", "Eicar-Test-Signature"}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(result->message, Not(HasSubstr("clean")));
  const std::string header = "X-Vmscan-Status: disinfected; removed=1\r\n";
  const size_t at = result->message.find(header);
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(result->message.find("X-Vmscan-Status", at + 1), std::string::npos);
  EXPECT_LT(at, result->message.find("\r\n\r\n"));  // in the top-level header
}

TEST(DisinfectTest, NamesAreCleanedAndNonAsciiNoticeIsQuotedPrintable) {
  const std::string raw = absl::StrCat(
      "From: a@example.org\nContent-Type: multipart/mixed; boundary=b\n\n"
      "--b\nContent-Type: text/plain\n\nhello\n"
      "--b\nContent-Type: application/zip\n"
      "Content-Disposition: attachment; filename*=utf-8''%C3%A9t%C3%A9%0Aline2.zip\n\nzip\n"
      "--b--\n");
  absl::StatusOr<DisinfectResult> result =
      Disinfect(raw, {{"2", "Bad\xFFName\r\nInjected: header"}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(result->message, HasSubstr("Content-Transfer-Encoding: quoted-printable\n"));
  absl::StatusOr<std::vector<MimeLeaf>> leaves = ExtractLeafParts(result->message);
  ASSERT_TRUE(leaves.ok()) << leaves.status();
  ASSERT_EQ(leaves->size(), 2u);
  EXPECT_EQ(
      (*leaves)[1].decoded,
      "vmscan removed the attachment \"\xC3\xA9t\xC3\xA9?line2.zip\" (application/zip) because it\n"
      "contained the threat Bad?Name??Injected: header. A copy of the original\n"
      "message is kept in Backup.\n");
}

TEST(DisinfectTest, VeryLongNamesAreCut) {
  const std::string name(1000, 'n');
  const std::string raw =
      vmscan::testing::MailWithAttachment(absl::StrCat(name, ".zip"), "application/zip", "zip");
  absl::StatusOr<DisinfectResult> result = Disinfect(raw, {{"2", "Eicar-Test-Signature"}});
  ASSERT_TRUE(result.ok()) << result.status();
  absl::StatusOr<std::vector<MimeLeaf>> leaves = ExtractLeafParts(result->message);
  ASSERT_TRUE(leaves.ok()) << leaves.status();
  ASSERT_EQ(leaves->size(), 2u);
  EXPECT_THAT((*leaves)[1].decoded, HasSubstr(absl::StrCat("\"", std::string(200, 'n'), "...\"")));
  EXPECT_THAT((*leaves)[1].decoded, Not(HasSubstr(std::string(201, 'n'))));
}

TEST(DisinfectTest, FailsWhenTheInfectedPartIsTheOnlyContent) {
  const std::string single = vmscan::testing::PlainMail("hi", "body");
  absl::StatusOr<DisinfectResult> result = Disinfect(single, {{"1", "Eicar-Test-Signature"}});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(result.status().message(), HasSubstr("without content"));

  const std::string two = vmscan::testing::MailWithAttachment("a.zip", "application/zip", "zip");
  result = Disinfect(two, {{"1", "A"}, {"2", "B"}});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(result.status().message(), HasSubstr("without content"));

  // Input without headers is one text leaf (see mime_parts.h): nothing else would remain.
  result = Disinfect("not a message\n", {{"1", "A"}});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(DisinfectTest, FailsForPathsThatNameNoPart) {
  RichMessage m;
  for (const char* path : {"", "0", "7", "1.3", "3.1", "03", "3.", ".3", " 3", "4.3", "4.1.1"}) {
    absl::StatusOr<DisinfectResult> result = Disinfect(m.Raw(), {{path, "A"}});
    EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition) << path;
    EXPECT_THAT(result.status().message(), HasSubstr("no MIME part")) << path;
  }
}

TEST(DisinfectTest, FailsForContainerPaths) {
  RichMessage m;
  for (const char* path : {"1", "4"}) {  // the alternative and the attached message
    absl::StatusOr<DisinfectResult> result = Disinfect(m.Raw(), {{"2", "A"}, {path, "B"}});
    EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition) << path;
    EXPECT_THAT(result.status().message(), HasSubstr("not a leaf")) << path;
  }
}

TEST(DisinfectTest, FailsWithoutRemovalsOrWithoutAMessage) {
  RichMessage m;
  EXPECT_EQ(Disinfect(m.Raw(), {}).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Disinfect("", {{"1", "A"}}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(DisinfectTest, ConcurrentCallsGiveIdenticalResults) {
  RichMessage m;
  const std::string raw = m.Raw();
  const std::vector<PartRemoval> removals = {{"3", "Eicar-Test-Signature"}, {"4.2", "X"}};
  absl::StatusOr<DisinfectResult> expected = Disinfect(raw, removals);
  ASSERT_TRUE(expected.ok()) << expected.status();
  constexpr int kThreads = 8;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        absl::StatusOr<DisinfectResult> result = Disinfect(raw, removals);
        if (!result.ok() || result->message != expected->message ||
            result->removed_paths != expected->removed_paths) {
          ++mismatches[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(mismatches, ::testing::Each(0));
}

int BareLineFeeds(absl::string_view text) {
  int count = 0;
  for (size_t i = 0; i < text.size(); ++i)
    count += text[i] == '\n' && (i == 0 || text[i - 1] != '\r');
  return count;
}

const char kSmallMessage[] =
    "From: a@example.org\nContent-Type: multipart/mixed; boundary=b\n\n"
    "--b\nContent-Type: text/plain\n\nkeep\n"
    "--b\nContent-Type: application/zip\n\nzip\n--b--\n";

TEST(DisinfectTest, CrlfPreambleAndEpilogueStayCrlf) {
  // GMime alone would write both back with bare LF.
  const std::string raw = ToCrlf(
      ReplaceOnce(ReplaceOnce(kSmallMessage, "boundary=b\n\n", "boundary=b\n\nPreamble line 1\n\n"),
                  "--b--\n", "--b--\n\nEpilogue line 1\nline 2\n"));
  absl::StatusOr<DisinfectResult> result = Disinfect(raw, {{"2", "X"}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(BareLineFeeds(result->message), 0) << result->message;
  EXPECT_THAT(result->message, HasSubstr("boundary=b\r\n\r\nPreamble line 1\r\n\r\n--b\r\n"));
  EXPECT_TRUE(absl::EndsWith(result->message, "--b--\r\n\r\nEpilogue line 1\r\nline 2\r\n"));
}

// The GMime rewrites that disinfect.h documents, pinned so that a GMime upgrade that changes them
// shows up here.
TEST(DisinfectTest, MixedLineEndingsFollowTheFirstLine) {
  // A CRLF message with bare-LF lines in a part. GMime would also drop the "e" of "more" (its
  // parser bug that ParseMessage repairs).
  const std::string mixed = ReplaceOnce(ToCrlf(kSmallMessage), "keep\r\n", "keep\nmore\n");
  absl::StatusOr<DisinfectResult> result = Disinfect(mixed, {{"2", "X"}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(result->message, HasSubstr("\r\n\r\nkeep\r\nmore\r\n--b\r\n"));
  EXPECT_EQ(BareLineFeeds(result->message), 0) << result->message;

  // And an LF message's CRLF lines become LF.
  const std::string lf = ReplaceOnce(kSmallMessage, "keep\n", "keep\r\nmore\r\n");
  result = Disinfect(lf, {{"2", "X"}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(result->message, HasSubstr("\n\nkeep\nmore\n--b\n"));
  EXPECT_THAT(result->message, Not(HasSubstr("\r")));
}

TEST(DisinfectTest, MboxFromLineIsDropped) {
  absl::StatusOr<DisinfectResult> result = Disinfect(
      absl::StrCat("From a@example.org Mon Apr  1 10:00:00 2024\n", kSmallMessage), {{"2", "X"}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(absl::StartsWith(result->message, "From: a@example.org\n")) << result->message;
}

TEST(DisinfectTest, BinaryContentKeepsItsBytesOtherContentGetsTheMessagesLineBreaks) {
  const std::string content("A\nB\rC\0D\xFF", 9);
  for (const char* encoding : {"binary", "8bit", "7bit"}) {
    const std::string raw = ReplaceOnce(
        ToCrlf(kSmallMessage), "Content-Type: text/plain\r\n\r\nkeep\r\n",
        absl::StrCat("Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: ",
                     encoding, "\r\n\r\n", content, "\r\n"));
    absl::StatusOr<DisinfectResult> result = Disinfect(raw, {{"2", "X"}});
    ASSERT_TRUE(result.ok()) << result.status();
    const std::string expected =
        std::string(encoding) == "binary" ? content : ReplaceOnce(content, "A\n", "A\r\n");
    EXPECT_THAT(result->message, HasSubstr(absl::StrCat("\r\n\r\n", expected, "\r\n--b\r\n")))
        << encoding;
  }
}

TEST(DisinfectTest, EmptyBoundaryRunsAreDropped) {
  const std::string raw = ReplaceOnce(kSmallMessage, "keep\n--b\n", "keep\n--b\n--b\n--b\n");
  absl::StatusOr<std::vector<MimeLeaf>> leaves = ExtractLeafParts(raw);
  ASSERT_TRUE(leaves.ok()) << leaves.status();
  EXPECT_EQ(leaves->size(), 2u);  // GMime sees no part between the repeated boundary lines
  absl::StatusOr<DisinfectResult> result = Disinfect(raw, {{"2", "X"}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(result->message, HasSubstr("keep\n--b\nContent-Type: text/plain; charset=utf-8\n"));
}

TEST(DisinfectTest, TextAfterAMisplacedOuterBoundaryIsDropped) {
  absl::StatusOr<std::string> raw = vmscan::testing::ReadFile(
      absl::StrCat(vmscan::testing::PythonEmailCorpusDir(), "/msg_38.txt"));
  ASSERT_TRUE(raw.ok()) << raw.status();
  ASSERT_THAT(*raw, HasSubstr("but puts them at the start of a line!"));
  absl::StatusOr<std::vector<MimeLeaf>> leaves = ExtractLeafParts(*raw);
  ASSERT_TRUE(leaves.ok()) << leaves.status();
  absl::StatusOr<DisinfectResult> result = Disinfect(*raw, {{leaves->back().path, "X"}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(result->message, Not(HasSubstr("but puts them at the start of a line!")));
}

TEST(DisinfectTest, EmptyPartGetsAnEmptyLine) {
  absl::StatusOr<DisinfectResult> result =
      Disinfect(ReplaceOnce(kSmallMessage, "text/plain\n\nkeep\n", "text/plain\n"), {{"2", "X"}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(result->message, HasSubstr("--b\nContent-Type: text/plain\n\n\n--b\n"));
}

// For every corpus message with at least two leaves: remove the last one, and every other leaf
// must come back with the same path, type, file name and decoded content.
TEST(DisinfectTest, PythonCorpusKeepsUntouchedParts) {
  const std::vector<vmscan::testing::CorpusMessage> corpus = vmscan::testing::PythonEmailCorpus();
  ASSERT_EQ(corpus.size(), 47u) << "install libpython3.11-testsuite";
  int disinfected = 0;
  for (const auto& [file, raw] : corpus) {
    absl::StatusOr<std::vector<MimeLeaf>> before = ExtractLeafParts(raw);
    ASSERT_TRUE(before.ok()) << file << ": " << before.status();
    if (before->size() < 2) continue;
    const std::string removed = before->back().path;
    absl::StatusOr<DisinfectResult> result = Disinfect(raw, {{removed, "Test.Threat"}});
    ASSERT_TRUE(result.ok()) << file << ": " << result.status();
    absl::StatusOr<std::vector<MimeLeaf>> after = ExtractLeafParts(result->message);
    ASSERT_TRUE(after.ok()) << file << ": " << after.status();
    ASSERT_EQ(after->size(), before->size()) << file;
    for (size_t i = 0; i + 1 < after->size(); ++i) {
      EXPECT_EQ((*after)[i].path, (*before)[i].path) << file;
      EXPECT_EQ((*after)[i].content_type, (*before)[i].content_type) << file;
      EXPECT_EQ((*after)[i].filename, (*before)[i].filename) << file;
      EXPECT_EQ((*after)[i].decoded, (*before)[i].decoded) << file << " " << (*before)[i].path;
    }
    EXPECT_EQ(after->back().path, removed) << file;
    EXPECT_THAT(after->back().decoded, HasSubstr("Test.Threat")) << file;
    ++disinfected;
  }
  EXPECT_GE(disinfected, 15);
}

}  // namespace
}  // namespace vmscan
