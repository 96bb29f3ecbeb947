// SMTP smuggling and STARTTLS command injection against the proxy, with a real SVM and a real
// aiosmtpd upstream: the upstream must never see a message boundary the scanner did not.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/smtp/proxy_fixture.h"
#include "tests/testing/test_mail.h"

namespace vmscan::testing {
namespace {

// What an attacker appends after a fake end of data: a whole second transaction.
constexpr char kSmuggled[] =
    "MAIL FROM:<ceo@example.org>\r\nRCPT TO:<victim@example.net>\r\nDATA\r\n"
    "Subject: smuggled\r\n\r\nSMUGGLED-PAYLOAD\r\n.\r\n";

struct Variant {
  const char* name;
  const char* fake_end;
};
constexpr Variant kVariants[] = {
    {"LF.LF", "\n.\n"}, {"LF.CRLF", "\n.\r\n"}, {"CRLF.LF", "\r\n.\n"}, {"CR.CR", "\r.\r"}};

class SmugglingTest : public ProxyTest {};

TEST_F(SmugglingTest, BareLineEndingsAreRefusedAndNothingIsSmuggled) {
  std::unique_ptr<SmtpProxy> proxy = StartProxy();
  ASSERT_NE(proxy, nullptr);
  const size_t before = sink_->Messages().size();
  for (const Variant& v : kVariants) {
    SCOPED_TRACE(v.name);
    absl::StatusOr<std::unique_ptr<RawSmtpClient>> c = RawSmtpClient::Connect(proxy->port());
    ASSERT_TRUE(c.ok());
    RawSmtpClient& client = **c;
    ASSERT_TRUE(client.ReadReply().ok());
    ASSERT_TRUE(client.Command("EHLO attacker.test").ok());
    // The real <CRLF>.<CRLF> is the one closing the smuggled part: the client meant one message.
    std::string data = absl::StrCat("Subject: innocent\r\n\r\nhello", v.fake_end, kSmuggled);
    std::string reply = SendRaw(client, data);
    EXPECT_TRUE(absl::StartsWith(reply, "554 5.6.0")) << reply;
    // The dialogue is still in step: no reply left over for a smuggled command.
    absl::StatusOr<std::string> noop = client.Command("NOOP");
    EXPECT_TRUE(noop.ok() && absl::StartsWith(*noop, "250 2.0.0")) << noop.value_or("");
    client.Command("QUIT").IgnoreError();
  }
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(sink_->Messages().size(), before) << "something reached the upstream";
}

TEST_F(SmugglingTest, NormalizedBareLineEndingsRelayExactlyTheOneMessageMeant) {
  std::unique_ptr<SmtpProxy> proxy = StartProxy({"smtp_proxy.bare_line_endings=NORMALIZE"});
  ASSERT_NE(proxy, nullptr);
  for (const Variant& v : kVariants) {
    SCOPED_TRACE(v.name);
    const size_t before = sink_->Messages().size();
    absl::StatusOr<std::unique_ptr<RawSmtpClient>> c = RawSmtpClient::Connect(proxy->port());
    ASSERT_TRUE(c.ok());
    RawSmtpClient& client = **c;
    ASSERT_TRUE(client.ReadReply().ok());
    ASSERT_TRUE(client.Command("EHLO attacker.test").ok());
    std::string reply =
        SendRaw(client, absl::StrCat("Subject: innocent\r\n\r\nhello", v.fake_end, kSmuggled));
    EXPECT_TRUE(absl::StartsWith(reply, "250")) << reply;
    client.Command("QUIT").IgnoreError();
    std::vector<std::string> got = sink_->WaitForMessages(before + 1, absl::Seconds(10));
    absl::SleepFor(absl::Milliseconds(300));
    got = sink_->Messages();
    ASSERT_EQ(got.size(), before + 1) << "the upstream saw more than one message";
    // The would-be second transaction is plain text inside the one message.
    EXPECT_TRUE(absl::StrContains(got.back(), "Subject: innocent"));
    EXPECT_TRUE(absl::StrContains(got.back(), "MAIL FROM:<ceo@example.org>")) << got.back();
    EXPECT_TRUE(absl::StrContains(got.back(), "SMUGGLED-PAYLOAD"));
  }
}

TEST_F(SmugglingTest, PlaintextPipelinedAfterStartTlsIsNotExecuted) {
  const std::string dir = TempDir("tls");
  ASSERT_TRUE(MakeSelfSignedCert(dir).ok());
  std::unique_ptr<SmtpProxy> proxy = StartProxy({"smtp_proxy.tls_cert_file=" + dir + "/cert.pem",
                                                 "smtp_proxy.tls_key_file=" + dir + "/key.pem"});
  ASSERT_NE(proxy, nullptr);
  absl::StatusOr<std::unique_ptr<RawSmtpClient>> c = RawSmtpClient::Connect(proxy->port());
  ASSERT_TRUE(c.ok());
  RawSmtpClient& client = **c;
  ASSERT_TRUE(client.ReadReply().ok());
  std::string ehlo = client.Command("EHLO client.test").value_or("");
  EXPECT_TRUE(absl::StrContains(ehlo, "STARTTLS")) << ehlo;
  // One packet: STARTTLS and an injected command.
  ASSERT_TRUE(client.Send("STARTTLS\r\nRSET\r\n").ok());
  absl::StatusOr<std::string> go = client.ReadReply();
  ASSERT_TRUE(go.ok() && absl::StartsWith(*go, "220")) << go.value_or("");
  // Had RSET run, its plaintext "250" would sit where the TLS handshake is expected.
  ASSERT_TRUE(client.StartTls().ok());
  ehlo = client.Command("EHLO client.test").value_or("");
  EXPECT_TRUE(absl::StartsWith(ehlo, "250-proxy.test")) << ehlo;
  EXPECT_FALSE(absl::StrContains(ehlo, "STARTTLS")) << "offered again inside TLS";
  absl::StatusOr<std::string> noop = client.Command("NOOP");
  EXPECT_TRUE(noop.ok() && *noop == "250 2.0.0 OK") << noop.value_or("");
  // Mail still flows over TLS.
  const size_t before = sink_->Messages().size();
  EXPECT_TRUE(absl::StartsWith(SendRaw(client, PlainMail("tls", "over tls") + ".\r\n"), "250"));
  EXPECT_EQ(sink_->WaitForMessages(before + 1, absl::Seconds(10)).size(), before + 1);
}

}  // namespace
}  // namespace vmscan::testing
