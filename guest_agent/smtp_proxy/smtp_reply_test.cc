#include "guest_agent/smtp_proxy/smtp_reply.h"

#include "gtest/gtest.h"

namespace vmscan {
namespace {

TEST(SmtpReplyTest, ParsesMultiLineReplies) {
  SmtpReply reply;
  EXPECT_EQ(ParseReplyLine("250-mail.example says hi", &reply).value(), false);
  EXPECT_EQ(ParseReplyLine("250-PIPELINING", &reply).value(), false);
  EXPECT_EQ(ParseReplyLine("250 SIZE 1000", &reply).value(), true);
  EXPECT_EQ(reply.code, 250);
  ASSERT_EQ(reply.lines.size(), 3u);
  EXPECT_EQ(reply.Wire(), "250-mail.example says hi\r\n250-PIPELINING\r\n250 SIZE 1000\r\n");
  SmtpReply bare;
  EXPECT_EQ(ParseReplyLine("220", &bare).value(), true);
}

TEST(SmtpReplyTest, RefusesGarbage) {
  SmtpReply reply;
  EXPECT_FALSE(ParseReplyLine("hello", &reply).ok());
  EXPECT_FALSE(ParseReplyLine("99 x", &reply).ok());
  EXPECT_FALSE(ParseReplyLine("250x", &reply).ok());
  EXPECT_FALSE(ParseReplyLine("700 x", &reply).ok());
  SmtpReply mixed;
  ASSERT_TRUE(ParseReplyLine("250-a", &mixed).ok());
  EXPECT_FALSE(ParseReplyLine("251 b", &mixed).ok());
}

TEST(SmtpReplyTest, EhloFilterKeepsWhatTheProxySupports) {
  std::vector<std::string> upstream = {"PIPELINING", "SIZE 30000000",    "CHUNKING",
                                       "8BITMIME",   "SMTPUTF8",         "DSN",
                                       "STARTTLS",   "AUTH PLAIN LOGIN", "ENHANCEDSTATUSCODES",
                                       "BINARYMIME", "XCLIENT NAME ADDR"};
  std::vector<std::string> offered = FilterEhloCapabilities(upstream, {10 << 20, false});
  EXPECT_EQ(offered,
            (std::vector<std::string>{"PIPELINING", "8BITMIME", "SMTPUTF8", "AUTH PLAIN LOGIN",
                                      "ENHANCEDSTATUSCODES", "SIZE 10485760"}));
  // A smaller upstream limit wins; our STARTTLS is added when we have a certificate.
  offered = FilterEhloCapabilities({"size 1000"}, {10 << 20, true});
  EXPECT_EQ(offered, (std::vector<std::string>{"SIZE 1000", "STARTTLS"}));
  EXPECT_TRUE(HasCapability(upstream, "starttls"));
  EXPECT_FALSE(HasCapability(upstream, "STARTTL"));
}

}  // namespace
}  // namespace vmscan
