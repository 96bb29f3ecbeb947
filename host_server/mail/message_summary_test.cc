#include "host_server/mail/message_summary.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace vmscan {
namespace {

TEST(MessageSummaryTest, ReadsFoldedHeadersCaseInsensitively) {
  MessageSummary s = SummarizeHeaders(
      "from: Alice <alice@example.org>\r\n"
      "SUBJECT: Quarterly\r\n"
      "\treport\r\n"
      "Message-Id: <abc@example.org>\r\n"
      "\r\n"
      "Subject: not a header, body text\r\n");
  EXPECT_EQ(s.from, "Alice <alice@example.org>");
  EXPECT_EQ(s.subject, "Quarterly report");
  EXPECT_EQ(s.message_id, "<abc@example.org>");
}

TEST(MessageSummaryTest, BodyIsNotReadAsHeaders) {
  MessageSummary s = SummarizeHeaders("X-A: 1\n\nSubject: in the body\n");
  EXPECT_EQ(s.subject, "");
}

TEST(MessageSummaryTest, GarbageGivesEmptyFields) {
  std::string garbage("\0\x01\xff:::\n \n", 10);
  MessageSummary s = SummarizeHeaders(garbage);
  EXPECT_EQ(s.subject, "");
  EXPECT_EQ(s.from, "");
  EXPECT_EQ(SummarizeHeaders("").message_id, "");
}

TEST(MessageSummaryTest, SubjectIsDecodedAndRecipientsComeFromToAndCc) {
  MessageSummary s = SummarizeHeaders(
      "Subject: =?utf-8?q?Rechnung_f=C3=BCr_Sie?=\r\n"
      "To: Bob <bob@example.net>, \"Carol, C.\" <carol@example.net>\r\n"
      "Cc: team: dave@example.net, erin@example.net;\r\n"
      "\r\nbody\r\n");
  EXPECT_EQ(s.subject, "Rechnung f\xC3\xBCr Sie");
  EXPECT_EQ(s.recipients, (std::vector<std::string>{"bob@example.net", "carol@example.net",
                                                    "dave@example.net", "erin@example.net"}));
}

TEST(MessageSummaryTest, LongValuesAreCut) {
  std::string long_subject(5000, 'x');
  MessageSummary s = SummarizeHeaders("Subject: " + long_subject + "\n\nbody");
  EXPECT_EQ(s.subject.size(), 998u);
}

}  // namespace
}  // namespace vmscan
