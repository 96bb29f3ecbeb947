#include "host_server/scan/message_summary.h"

#include <string>

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

TEST(MessageSummaryTest, LongValuesAreCut) {
  std::string long_subject(5000, 'x');
  MessageSummary s = SummarizeHeaders("Subject: " + long_subject + "\n\nbody");
  EXPECT_EQ(s.subject.size(), 998u);
}

}  // namespace
}  // namespace vmscan
