#include "guest_agent/milter/milter_message.h"

#include "gtest/gtest.h"

namespace vmscan {
namespace {

TEST(MilterMessageTest, AssemblesHeadersAndBody) {
  MilterMessage m(1 << 20);
  m.AddHeader("Subject", "hello");
  m.AddHeader("X-Folded", "a\n\tb");
  m.AppendBody("line 1\r\n");
  m.AppendBody("line 2\r\n");
  EXPECT_EQ(m.TakeAssembled(), "Subject: hello\r\nX-Folded: a\r\n\tb\r\n\r\nline 1\r\nline 2\r\n");
  EXPECT_EQ(m.headers().size(), 2u);  // kept for the header edits
  EXPECT_FALSE(m.too_large());
  MilterMessage no_body(1 << 20);
  no_body.AddHeader("Subject", "empty");
  EXPECT_EQ(no_body.TakeAssembled(), "Subject: empty\r\n\r\n");
  MilterMessage small(10);
  small.AppendBody("0123456789abc");
  EXPECT_TRUE(small.too_large());
}

TEST(MilterMessageTest, SplitsAMessage) {
  std::vector<HeaderField> headers;
  std::string body;
  SplitMessage("From: a@b\r\nSubject: x\r\n  continued\r\nNot a field\r\n\r\nbody\r\n", &headers,
               &body);
  ASSERT_EQ(headers.size(), 2u);
  EXPECT_EQ(headers[0], HeaderField("From", "a@b"));
  EXPECT_EQ(headers[1], HeaderField("Subject", "x\n  continued"));
  EXPECT_EQ(body, "body\r\n");
}

TEST(MilterMessageTest, HeaderEditsAddChangeAndRemove) {
  std::vector<HeaderField> from = {{"Subject", "x"},
                                   {"Received", "1"},
                                   {"Received", "2"},
                                   {"Content-Type", "multipart/mixed; boundary=a"}};
  std::vector<HeaderField> to = {{"Subject", "x"},
                                 {"received", "1"},
                                 {"Content-Type", "multipart/mixed; boundary=b"},
                                 {"X-Vmscan-Status", "disinfected"}};
  std::vector<HeaderEdit> edits = HeaderEdits(from, to);
  ASSERT_EQ(edits.size(), 3u);
  EXPECT_EQ(edits[0].name, "Content-Type");
  EXPECT_EQ(edits[0].index, 1);
  EXPECT_EQ(edits[0].value, "multipart/mixed; boundary=b");
  EXPECT_EQ(edits[1].name, "X-Vmscan-Status");
  EXPECT_EQ(edits[1].index, 0);
  EXPECT_TRUE(edits[2].remove);
  EXPECT_EQ(edits[2].index, 2);
  EXPECT_TRUE(HeaderEdits(from, from).empty());
}

}  // namespace
}  // namespace vmscan
