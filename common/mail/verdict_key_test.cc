#include "common/mail/verdict_key.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmscan {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A multipart message as a relay delivers it to `rcpt`; `extra` goes into the header block.
std::string Copy(const std::string& rcpt, const std::string& extra = "",
                 const std::string& boundary = "b1") {
  return absl::StrCat(
      "Received: from mx.example (mx.example [192.0.2.1]) by mail.", rcpt, " with ESMTP id Q",
      rcpt.size(), "\r\n\tfor <", rcpt, ">; Fri, 4 Dec 2026 01:00:00 +0000\r\n",
      "Return-Path: <news@example.com>\r\nDelivered-To: ", rcpt, "\r\nX-Original-To: ", rcpt,
      "\r\nFrom: News <news@example.com>\r\nTo: ", rcpt, "\r\nSubject: December news\r\n",
      "Message-ID: <", rcpt, ".1@example.com>\r\nDate: Fri, 4 Dec 2026 01:00:00 +0000\r\n",
      "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"", boundary, "\"\r\n", extra,
      "\r\n--", boundary, "\r\nContent-Type: text/plain\r\nTo: part-level@example.com\r\n\r\n",
      "Hello.\r\n--", boundary, "\r\nContent-Type: application/octet-stream\r\n",
      "Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--", boundary, "--\r\n");
}

TEST(VerdictKeyTest, CopiesThatDifferOnlyInDeliveryFieldsShareTheKey) {
  VerdictKey a = ComputeVerdictKey(Copy("alice@vm1.example"));
  VerdictKey b = ComputeVerdictKey(Copy("bob.longer.name@vm22.example"));
  VerdictKey c =
      ComputeVerdictKey(Copy("carol@vm3.example",
                             "Cc: dave@x.example\r\nDKIM-Signature: v=1; a=rsa-sha256;\r\n"
                             "\th=from:to:subject:date:message-id;\r\n"  // as real signers fold
                             " b=abc\r\nAuthentication-Results: mx; spf=pass\r\n"));
  EXPECT_TRUE(a.cut);
  EXPECT_EQ(a.digest.size(), 64u);
  EXPECT_EQ(a.digest, b.digest);
  EXPECT_EQ(a.digest, c.digest);
  EXPECT_NE(a.delivery_fields, b.delivery_fields);
  EXPECT_THAT(a.delivery_fields, HasSubstr("Delivered-To: alice@vm1.example\r\n"));
  EXPECT_THAT(a.delivery_fields, HasSubstr("\tfor <alice@vm1.example>;"));  // continuation kept
  EXPECT_TRUE(c.cut) << c.why_not_cut;
  EXPECT_THAT(c.delivery_fields, HasSubstr(" b=abc\r\n"));
  EXPECT_THAT(a.delivery_fields, Not(HasSubstr("Subject")));
}

TEST(VerdictKeyTest, FieldNamesMatchInAnyCase) {
  std::string upper = absl::StrReplaceAll(
      Copy("a@x"), {{"Delivered-To:", "DELIVERED-TO:"}, {"Return-Path:", "return-path:"}});
  EXPECT_EQ(ComputeVerdictKey(upper).digest, ComputeVerdictKey(Copy("a@x")).digest);
  EXPECT_TRUE(IsDeliveryField("received"));
  EXPECT_TRUE(IsDeliveryField("X-ORIGINAL-TO"));
  EXPECT_FALSE(IsDeliveryField("Content-Type"));
  EXPECT_FALSE(IsDeliveryField("Subject"));
  EXPECT_FALSE(IsDeliveryField("To2"));
}

TEST(VerdictKeyTest, EveryFieldThatCanChangeParsingOrDetectionChangesTheKey) {
  const std::string base = ComputeVerdictKey(Copy("a@x")).digest;
  // MIME-relevant fields and every other kept field.
  EXPECT_NE(ComputeVerdictKey(Copy("a@x", "", "b2")).digest, base);
  EXPECT_NE(ComputeVerdictKey(Copy("a@x", "Content-Transfer-Encoding: 7bit\r\n")).digest, base);
  EXPECT_NE(ComputeVerdictKey(
                absl::StrReplaceAll(Copy("a@x"), {{"MIME-Version: 1.0", "MIME-Version: 1.1"}}))
                .digest,
            base);
  EXPECT_NE(ComputeVerdictKey(Copy("a@x", "X-Anything: 1\r\n")).digest, base);
  EXPECT_NE(ComputeVerdictKey(absl::StrReplaceAll(Copy("a@x"), {{"December", "November"}})).digest,
            base);
  // A second Content-Type (parsers disagree which wins) is kept, so it changes the key.
  EXPECT_NE(ComputeVerdictKey(Copy("a@x", "Content-Type: text/plain\r\n")).digest, base);
  // The body, including fields of MIME parts named like delivery fields.
  EXPECT_NE(ComputeVerdictKey(absl::StrReplaceAll(Copy("a@x"), {{"aGVsbG8=", "aGVsbG9="}})).digest,
            base);
  EXPECT_NE(
      ComputeVerdictKey(absl::StrReplaceAll(Copy("a@x"), {{"To: part-level", "To: other-part"}}))
          .digest,
      base);
  // Where the delivery fields stand among the kept ones does not matter; their order relative
  // to each other does not either.
  EXPECT_EQ(
      ComputeVerdictKey(
          absl::StrReplaceAll(
              Copy("a@x"), {{"From: News", "Date: Sat, 5 Dec 2026 00:00:00 +0000\r\nFrom: News"}}))
          .digest,
      base);
}

TEST(VerdictKeyTest, AmbiguousHeaderBlocksAreNotCut) {
  struct Case {
    const char* what;
    std::string message;
    const char* why;
  };
  const std::string good = Copy("a@x");
  std::vector<Case> cases = {
      {"bare LF in a CRLF block",
       absl::StrReplaceAll(good, {{"Subject: December news\r\n", "Subject: December news\n"}}),
       "mixed line endings"},
      {"bare CR", absl::StrReplaceAll(good, {{"Subject: December", "Subject: Dec\rember"}}),
       "bare CR"},
      {"NUL", absl::StrReplaceAll(good, {{"Subject: December", std::string("Subject: Dec\0", 13)}}),
       "NUL"},
      {"mbox From_ line", "From news@example.com Fri Dec  4 01:00:00 2026\r\n" + good,
       "not a field"},
      {"space before the colon", absl::StrReplaceAll(good, {{"Subject:", "Subject :"}}),
       "not a field"},
      {"continuation first", " folded\r\n" + good, "starts with a continuation"},
      {"hidden field in a folded To",
       absl::StrReplaceAll(good, {{"To: a@x\r\n", "To: a@x\r\n Content-Type: text/html\r\n"}}),
       "looks like a MIME field"},
      {"hidden MIME-Version in a folded Received",
       absl::StrReplaceAll(good, {{"To: a@x\r\n", "To: a@x\r\n\tmime-version : 1.0\r\n"}}),
       "looks like a MIME field"},
      {"blank continuation of a delivery field",
       absl::StrReplaceAll(good, {{"To: a@x\r\n", "To: a@x\r\n \t\r\n"}}), "is blank"},
      {"no blank line", "To: a@x\r\nSubject: s\r\n", "no blank line"},
      {"no line end", "To: a@x", "no line ends"},
  };
  std::string many;
  for (int i = 0; i < 300; ++i) absl::StrAppend(&many, "X-Trace-", i, ": ", i, "\r\n");
  cases.push_back({"too many fields", many + good, "more than 256"});
  cases.push_back({"header block too large", "X-Big: " + std::string(70000, 'a') + "\r\n" + good,
                   "over 65536 bytes"});
  for (const Case& c : cases) {
    VerdictKey key = ComputeVerdictKey(c.message);
    EXPECT_FALSE(key.cut) << c.what;
    EXPECT_TRUE(key.delivery_fields.empty()) << c.what;
    EXPECT_THAT(key.why_not_cut, HasSubstr(c.why)) << c.what;
    // Uncut keys cover every byte: another recipient gives another key.
    EXPECT_NE(key.digest,
              ComputeVerdictKey(absl::StrReplaceAll(c.message, {{"a@x", "b@x"}})).digest)
        << c.what;
  }
}

TEST(VerdictKeyTest, LfOnlyMessagesAreCutToo) {
  std::string lf = absl::StrReplaceAll(Copy("a@x"), {{"\r\n", "\n"}});
  std::string lf2 = absl::StrReplaceAll(Copy("someone.else@x"), {{"\r\n", "\n"}});
  VerdictKey a = ComputeVerdictKey(lf);
  EXPECT_TRUE(a.cut) << a.why_not_cut;
  EXPECT_EQ(a.digest, ComputeVerdictKey(lf2).digest);
  // The CRLF and LF forms are different bytes, so different keys.
  EXPECT_NE(a.digest, ComputeVerdictKey(Copy("a@x")).digest);
}

TEST(VerdictKeyTest, UncutAndCutKeysNeverCollide) {
  // A message without delivery fields and the same bytes judged ambiguous use different
  // prefixes; a byte-identical message always gets one and the same key.
  const std::string plain = "Subject: s\r\n\r\nbody\r\n";
  EXPECT_EQ(ComputeVerdictKey(plain).digest, ComputeVerdictKey(plain).digest);
  EXPECT_FALSE(ComputeVerdictKey(plain).cut);
  EXPECT_TRUE(ComputeVerdictKey(plain).why_not_cut.empty());
}

TEST(VerdictKeyTest, FedInPiecesGivesTheSameKey) {
  const std::string message = Copy("pieces@x") + std::string(300000, 'b') + "\r\n";
  for (const std::string& m :
       {message, "X-Bad line\r\n" + message, std::string("To: a\r\n\r\nshort"),
        std::string("To: a@x\r\nno blank line")}) {
    const VerdictKey whole = ComputeVerdictKey(m);
    for (size_t piece : {1u, 7u, 100u, 4096u, 65536u}) {
      VerdictKeyHasher hasher;
      for (size_t at = 0; at < m.size(); at += piece)
        hasher.Update(absl::string_view(m).substr(at, piece));
      const VerdictKey fed = hasher.Finish();
      EXPECT_EQ(fed.digest, whole.digest) << piece;
      EXPECT_EQ(fed.delivery_fields, whole.delivery_fields) << piece;
      EXPECT_EQ(fed.header_block, whole.header_block) << piece;
      EXPECT_EQ(fed.cut, whole.cut) << piece;
    }
  }
}

TEST(VerdictKeyTest, TheHeaderBlockIsTheMessagesOwn) {
  const std::string message = Copy("hb@x");
  const VerdictKey key = ComputeVerdictKey(message);
  EXPECT_TRUE(absl::StartsWith(message, key.header_block));
  EXPECT_THAT(key.header_block, HasSubstr("Delivered-To: hb@x\r\n"));
  EXPECT_THAT(key.header_block, HasSubstr("Subject: December news\r\n"));
  EXPECT_EQ(message.substr(key.header_block.size(), 2), "\r\n");  // the blank line follows
}

}  // namespace
}  // namespace vmscan
