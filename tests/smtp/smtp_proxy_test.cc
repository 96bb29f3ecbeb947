// The SMTP proxy against real peers: a real SVM in-process, an aiosmtpd sink as the upstream,
// swaks and a raw socket client as the mail clients.
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/smtp/proxy_fixture.h"
#include "tests/testing/test_mail.h"

namespace vmscan::testing {
namespace {

std::unique_ptr<RawSmtpClient> Open(const SmtpProxy& proxy) {
  absl::StatusOr<std::unique_ptr<RawSmtpClient>> c = RawSmtpClient::Connect(proxy.port());
  EXPECT_TRUE(c.ok()) << c.status();
  if (!c.ok()) return nullptr;
  absl::StatusOr<std::string> banner = (*c)->ReadReply();
  EXPECT_TRUE(banner.ok() && absl::StartsWith(*banner, "220 ")) << banner.status();
  absl::StatusOr<std::string> ehlo = (*c)->Command("EHLO client.test");
  EXPECT_TRUE(ehlo.ok() && absl::StartsWith(*ehlo, "250")) << ehlo.status();
  return std::move(*c);
}

TEST_F(ProxyTest, CleanMessageArrivesWithItsBodyUnchanged) {
  std::unique_ptr<SmtpProxy> proxy = StartProxy();
  ASSERT_NE(proxy, nullptr);
  const size_t before = sink_->Messages().size();
  // Lines starting with dots (stuffing is undone for the scan and redone for the relay).
  const std::string message =
      "From: alice@example.org\r\nTo: bob@example.net\r\nSubject: clean\r\n\r\n"
      ".leading dot\r\n..two dots\r\n.\t.\r\nplain line\r\n";
  std::unique_ptr<RawSmtpClient> client = Open(*proxy);
  ASSERT_NE(client, nullptr);
  std::string stuffed =
      "From: alice@example.org\r\nTo: bob@example.net\r\nSubject: clean\r\n\r\n"
      "..leading dot\r\n...two dots\r\n..\t.\r\nplain line\r\n.\r\n";
  EXPECT_TRUE(absl::StartsWith(SendRaw(*client, stuffed), "250")) << "relayed";
  EXPECT_TRUE(absl::StartsWith(client->Command("QUIT").value_or(""), "221"));
  std::vector<std::string> got = sink_->WaitForMessages(before + 1, absl::Seconds(10));
  ASSERT_EQ(got.size(), before + 1);
  EXPECT_EQ(WithoutSinkHeaders(got.back()), Lf(message));
}

TEST_F(ProxyTest, SwaksCleanIsRelayedInfectedIsRefusedWith550) {
  std::unique_ptr<SmtpProxy> proxy = StartProxy();
  ASSERT_NE(proxy, nullptr);
  const std::string dir = TempDir("swaks");
  std::ofstream(dir + "/eicar.com") << Eicar();
  const std::string swaks = absl::StrCat("swaks -4 --server 127.0.0.1:", proxy->port(),
                                         " --from alice@example.org --to bob@example.net ");
  const size_t before = sink_->Messages().size();
  CommandResult clean = RunShell(swaks + "--body 'hello from swaks'");
  EXPECT_EQ(clean.exit_code, 0) << clean.output;
  ASSERT_EQ(sink_->WaitForMessages(before + 1, absl::Seconds(10)).size(), before + 1);
  EXPECT_TRUE(absl::StrContains(sink_->Messages().back(), "hello from swaks"));

  CommandResult infected = RunShell(swaks + "--attach " + dir + "/eicar.com");
  EXPECT_NE(infected.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(infected.output,
                                "550 5.7.1 Message contains a threat (Eicar-Test-Signature"))
      << infected.output;
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(sink_->Messages().size(), before + 1) << "the infected message reached the sink";
}

TEST_F(ProxyTest, InfectedIsRefusedNothingRelayedAndTheSessionGoesOn) {
  std::unique_ptr<SmtpProxy> proxy = StartProxy();
  ASSERT_NE(proxy, nullptr);
  const size_t before = sink_->Messages().size();
  std::unique_ptr<RawSmtpClient> client = Open(*proxy);
  ASSERT_NE(client, nullptr);
  std::string reply = SendRaw(
      *client, MailWithAttachment("invoice.com", "application/octet-stream", Eicar()) + ".\r\n");
  EXPECT_TRUE(absl::StartsWith(reply, "550 5.7.1 ")) << reply;
  EXPECT_TRUE(absl::StrContains(reply, "Eicar-Test-Signature")) << reply;
  // The upstream was RSET: the next transaction of the same session works.
  reply = SendRaw(*client, PlainMail("after", "second message") + ".\r\n");
  EXPECT_TRUE(absl::StartsWith(reply, "250")) << reply;
  client->Command("QUIT").IgnoreError();
  std::vector<std::string> got = sink_->WaitForMessages(before + 1, absl::Seconds(10));
  absl::SleepFor(absl::Milliseconds(200));
  got = sink_->Messages();
  ASSERT_EQ(got.size(), before + 1);
  EXPECT_TRUE(absl::StrContains(got.back(), "second message"));
}

TEST_F(ProxyTest, NoScannerReachableTempfails451AndRelaysNothing) {
  std::unique_ptr<SmtpProxy> proxy = StartProxy({"servers=127.0.0.1:1"});
  ASSERT_NE(proxy, nullptr);
  const size_t before = sink_->Messages().size();
  std::unique_ptr<RawSmtpClient> client = Open(*proxy);
  ASSERT_NE(client, nullptr);
  std::string reply = SendRaw(*client, PlainMail("x", "unscanned") + ".\r\n");
  EXPECT_TRUE(absl::StartsWith(reply, "451 4.7.0 ")) << reply;
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(sink_->Messages().size(), before);
}

TEST_F(ProxyTest, NoScannerWithDeliverUnscannedRelaysWithAHeader) {
  std::unique_ptr<SmtpProxy> proxy =
      StartProxy({"servers=127.0.0.1:1", "on_no_scanner=DELIVER_UNSCANNED"});
  ASSERT_NE(proxy, nullptr);
  const size_t before = sink_->Messages().size();
  std::unique_ptr<RawSmtpClient> client = Open(*proxy);
  ASSERT_NE(client, nullptr);
  std::string reply = SendRaw(*client, PlainMail("x", "delivered unscanned") + ".\r\n");
  EXPECT_TRUE(absl::StartsWith(reply, "250")) << reply;
  std::vector<std::string> got = sink_->WaitForMessages(before + 1, absl::Seconds(10));
  ASSERT_EQ(got.size(), before + 1);
  EXPECT_TRUE(absl::StartsWith(got.back(), "X-Vmscan-Status: not scanned (no scanner reachable)"))
      << got.back();
}

TEST_F(ProxyTest, TwentyMegabytesOverATenMegabyteLimitIsRefusedCleanly) {
  std::unique_ptr<SmtpProxy> proxy = StartProxy({"smtp_proxy.max_message_bytes=10485760"});
  ASSERT_NE(proxy, nullptr);
  const size_t before = sink_->Messages().size();
  std::unique_ptr<RawSmtpClient> client = Open(*proxy);
  ASSERT_NE(client, nullptr);
  // Announced with SIZE: refused at MAIL.
  absl::StatusOr<std::string> mail = client->Command("MAIL FROM:<a@example.org> SIZE=20971520");
  EXPECT_TRUE(mail.ok() && absl::StartsWith(*mail, "552 5.3.4")) << mail.value_or("");
  // Not announced: the whole 20 MiB is read and refused at the end of DATA, the session goes on.
  std::string big = "Subject: big\r\n\r\n";
  const std::string line(998, 'x');
  while (big.size() < (20u << 20)) absl::StrAppend(&big, line, "\r\n");
  std::string reply = SendRaw(*client, big + ".\r\n");
  EXPECT_TRUE(absl::StartsWith(reply, "552 5.3.4")) << reply;
  EXPECT_TRUE(absl::StartsWith(client->Command("NOOP").value_or(""), "250"));
  EXPECT_TRUE(absl::StartsWith(client->Command("QUIT").value_or(""), "221"));
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(sink_->Messages().size(), before);
}

TEST_F(ProxyTest, EhloOffersOnlyWhatTheProxySupports) {
  std::unique_ptr<SmtpProxy> proxy = StartProxy({"smtp_proxy.max_message_bytes=10485760"});
  ASSERT_NE(proxy, nullptr);
  absl::StatusOr<std::unique_ptr<RawSmtpClient>> c = RawSmtpClient::Connect(proxy->port());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->ReadReply().ok());
  std::string ehlo = (*c)->Command("EHLO client.test").value_or("");
  EXPECT_TRUE(absl::StartsWith(ehlo, "250-proxy.test")) << ehlo;
  EXPECT_TRUE(absl::StrContains(ehlo, "250-SIZE 10485760") ||
              absl::StrContains(ehlo, "250 SIZE 10485760"))
      << ehlo;
  EXPECT_TRUE(absl::StrContains(ehlo, "8BITMIME")) << ehlo;
  for (const char* hidden : {"CHUNKING", "STARTTLS", "33554432", "BINARYMIME"}) {
    EXPECT_FALSE(absl::StrContains(ehlo, hidden)) << hidden << " in " << ehlo;
  }
}

TEST_F(ProxyTest, PipelinedCommandsGetTheirRepliesInOrder) {
  std::unique_ptr<SmtpProxy> proxy = StartProxy();
  ASSERT_NE(proxy, nullptr);
  const size_t before = sink_->Messages().size();
  std::unique_ptr<RawSmtpClient> client = Open(*proxy);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client
                  ->Send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n"
                         "RCPT TO:<c@example.net>\r\nDATA\r\n")
                  .ok());
  for (const char* code : {"250", "250", "250", "354"}) {
    absl::StatusOr<std::string> r = client->ReadReply();
    EXPECT_TRUE(r.ok() && absl::StartsWith(*r, code)) << r.value_or(r.status().ToString());
  }
  ASSERT_TRUE(client->Send(PlainMail("pipelined", "body") + ".\r\nQUIT\r\n").ok());
  EXPECT_TRUE(absl::StartsWith(client->ReadReply().value_or(""), "250"));
  EXPECT_TRUE(absl::StartsWith(client->ReadReply().value_or(""), "221"));
  EXPECT_EQ(sink_->WaitForMessages(before + 1, absl::Seconds(10)).size(), before + 1);
}

TEST_F(ProxyTest, StopSends421ToIdleSessions) {
  std::unique_ptr<SmtpProxy> proxy = StartProxy();
  ASSERT_NE(proxy, nullptr);
  std::unique_ptr<RawSmtpClient> client = Open(*proxy);
  ASSERT_NE(client, nullptr);
  proxy->Stop(absl::Seconds(5));
  absl::StatusOr<std::string> bye = client->ReadReply(absl::Seconds(5));
  EXPECT_TRUE(bye.ok() && absl::StartsWith(*bye, "421 4.3.2")) << bye.value_or("");
}

TEST_F(ProxyTest, StopLetsTheTransactionInFlightFinishThenSends421) {
  std::unique_ptr<SmtpProxy> proxy = StartProxy();
  ASSERT_NE(proxy, nullptr);
  const size_t before = sink_->Messages().size();
  std::unique_ptr<RawSmtpClient> client = Open(*proxy);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(absl::StartsWith(client->Command("MAIL FROM:<a@x.org>").value_or(""), "250"));
  ASSERT_TRUE(absl::StartsWith(client->Command("RCPT TO:<b@x.net>").value_or(""), "250"));
  ASSERT_TRUE(absl::StartsWith(client->Command("DATA").value_or(""), "354"));
  ASSERT_TRUE(client->Send("Subject: in flight\r\n\r\nfirst half\r\n").ok());
  std::thread stopper([&] { proxy->Stop(absl::Seconds(20)); });
  absl::SleepFor(absl::Milliseconds(200));
  ASSERT_TRUE(client->Send("second half\r\n.\r\n").ok());
  absl::StatusOr<std::string> done = client->ReadReply();
  EXPECT_TRUE(done.ok() && absl::StartsWith(*done, "250")) << done.value_or("");
  absl::StatusOr<std::string> bye = client->ReadReply();
  EXPECT_TRUE(bye.ok() && absl::StartsWith(*bye, "421 4.3.2")) << bye.value_or("");
  stopper.join();
  EXPECT_EQ(sink_->WaitForMessages(before + 1, absl::Seconds(10)).size(), before + 1);
}

TEST_F(ProxyTest, BadCommandsAreAnsweredNotForwarded) {
  std::unique_ptr<SmtpProxy> proxy = StartProxy({"smtp_proxy.max_line_bytes=512"});
  ASSERT_NE(proxy, nullptr);
  std::unique_ptr<RawSmtpClient> client = Open(*proxy);
  ASSERT_NE(client, nullptr);
  EXPECT_TRUE(absl::StartsWith(client->Command(std::string(2000, 'A')).value_or(""), "500 5.5.2"));
  EXPECT_TRUE(absl::StartsWith(client->Command("XYZZY").value_or(""), "500 5.5.2"));
  EXPECT_TRUE(absl::StartsWith(client->Command("RCPT TO:<b@x>").value_or(""), "503"));
  EXPECT_TRUE(absl::StartsWith(client->Command("DATA").value_or(""), "503"));
  EXPECT_TRUE(
      absl::StartsWith(client->Command(std::string("MAIL FROM:<a@x>\rRSET")).value_or(""), "500"));
  EXPECT_TRUE(absl::StartsWith(client->Command("NOOP").value_or(""), "250"));
}

TEST_F(ProxyTest, UnreachableUpstreamIsA421) {
  std::unique_ptr<SmtpProxy> proxy = StartProxy({"smtp_proxy.upstream=127.0.0.1:1"});
  ASSERT_NE(proxy, nullptr);
  absl::StatusOr<std::unique_ptr<RawSmtpClient>> c = RawSmtpClient::Connect(proxy->port());
  ASSERT_TRUE(c.ok());
  absl::StatusOr<std::string> banner = (*c)->ReadReply();
  EXPECT_TRUE(banner.ok() && absl::StartsWith(*banner, "421 4.4.1")) << banner.value_or("");
}

TEST_F(ProxyTest, ClientVanishingMidDataLeavesTheProxyServing) {
  std::unique_ptr<SmtpProxy> proxy = StartProxy();
  ASSERT_NE(proxy, nullptr);
  {
    std::unique_ptr<RawSmtpClient> gone = Open(*proxy);
    ASSERT_NE(gone, nullptr);
    ASSERT_TRUE(absl::StartsWith(gone->Command("MAIL FROM:<a@x.org>").value_or(""), "250"));
    ASSERT_TRUE(absl::StartsWith(gone->Command("RCPT TO:<b@x.net>").value_or(""), "250"));
    ASSERT_TRUE(absl::StartsWith(gone->Command("DATA").value_or(""), "354"));
    ASSERT_TRUE(gone->Send("Subject: half\r\n\r\nhalf a mess").ok());
  }  // closed here
  const size_t before = sink_->Messages().size();
  std::unique_ptr<RawSmtpClient> client = Open(*proxy);
  ASSERT_NE(client, nullptr);
  EXPECT_TRUE(absl::StartsWith(SendRaw(*client, PlainMail("after", "ok") + ".\r\n"), "250"));
  EXPECT_EQ(sink_->WaitForMessages(before + 1, absl::Seconds(10)).size(), before + 1);
}

int ThreadCount() {
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

TEST_F(ProxyTest, ManyIdleSessionsNeedNoThreadEach) {
  std::unique_ptr<SmtpProxy> proxy = StartProxy();
  ASSERT_NE(proxy, nullptr);
  std::vector<std::unique_ptr<RawSmtpClient>> clients;
  clients.push_back(Open(*proxy));  // warm up: the first session starts no new threads either
  const int threads = ThreadCount();
  for (int i = 0; i < 100; ++i) {
    clients.push_back(Open(*proxy));
    ASSERT_NE(clients.back(), nullptr) << "session " << i;
  }
  EXPECT_LE(ThreadCount(), threads + 2) << "threads grew with idle sessions";
  const size_t before = sink_->Messages().size();
  EXPECT_TRUE(
      absl::StartsWith(SendRaw(*clients[50], PlainMail("one of many", "x") + ".\r\n"), "250"));
  EXPECT_EQ(sink_->WaitForMessages(before + 1, absl::Seconds(10)).size(), before + 1);
}

TEST_F(ProxyTest, StartTlsToAnUpstreamThatRequiresIt) {
  const std::string dir = TempDir("upstream-tls");
  ASSERT_TRUE(MakeSelfSignedCert(dir).ok());
  // aiosmtpd with a certificate refuses MAIL before STARTTLS: arrival proves TLS was used.
  absl::StatusOr<std::unique_ptr<SmtpSink>> tls_sink =
      SmtpSink::Start({"--tlscert", dir + "/cert.pem", "--tlskey", dir + "/key.pem"});
  ASSERT_TRUE(tls_sink.ok()) << tls_sink.status();
  const std::string upstream = absl::StrCat("smtp_proxy.upstream=127.0.0.1:", (*tls_sink)->port());
  std::unique_ptr<SmtpProxy> proxy = StartProxy({upstream});
  ASSERT_NE(proxy, nullptr);
  std::unique_ptr<RawSmtpClient> client = Open(*proxy);
  ASSERT_NE(client, nullptr);
  EXPECT_TRUE(absl::StartsWith(SendRaw(*client, PlainMail("tls", "via tls") + ".\r\n"), "250"));
  EXPECT_EQ((*tls_sink)->WaitForMessages(1, absl::Seconds(10)).size(), 1u);

  // A verified upstream whose certificate does not chain to the configured CA: no session.
  const std::string other = TempDir("other-ca");
  ASSERT_TRUE(MakeSelfSignedCert(other).ok());
  std::unique_ptr<SmtpProxy> strict =
      StartProxy({upstream, "smtp_proxy.upstream_tls=REQUIRED",
                  "smtp_proxy.upstream_ca_file=" + other + "/cert.pem",
                  "smtp_proxy.upstream_tls_name=localhost"});
  ASSERT_NE(strict, nullptr);
  absl::StatusOr<std::unique_ptr<RawSmtpClient>> c = RawSmtpClient::Connect(strict->port());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->ReadReply().ok());
  absl::StatusOr<std::string> ehlo = (*c)->Command("EHLO client.test");
  EXPECT_TRUE(ehlo.ok() && absl::StartsWith(*ehlo, "421 4.7.0")) << ehlo.value_or("");
}

TEST_F(ProxyTest, RequiredUpstreamTlsWithoutStartTlsOfferIsRefused) {
  std::unique_ptr<SmtpProxy> proxy = StartProxy({"smtp_proxy.upstream_tls=REQUIRED"});
  ASSERT_NE(proxy, nullptr);
  absl::StatusOr<std::unique_ptr<RawSmtpClient>> c = RawSmtpClient::Connect(proxy->port());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->ReadReply().ok());
  absl::StatusOr<std::string> ehlo = (*c)->Command("EHLO client.test");
  EXPECT_TRUE(ehlo.ok() && absl::StartsWith(*ehlo, "421 4.7.0")) << ehlo.value_or("");
}

// AUTH is the upstream's business: the proxy offers what the upstream offers and relays the
// SASL exchange (PLAIN in one line, LOGIN with 334 challenges); failures come back unchanged.
TEST_F(ProxyTest, AuthIsPassedThroughToAnUpstreamThatRequiresIt) {
  absl::StatusOr<std::unique_ptr<SmtpSink>> auth_sink =
      SmtpSink::StartRequiringAuth("alice", "s3cret");
  ASSERT_TRUE(auth_sink.ok()) << auth_sink.status();
  const std::string upstream = absl::StrCat("smtp_proxy.upstream=127.0.0.1:", (*auth_sink)->port());
  std::unique_ptr<SmtpProxy> proxy = StartProxy({upstream});
  ASSERT_NE(proxy, nullptr);

  // A real client: swaks with AUTH PLAIN, then AUTH LOGIN.
  const std::string swaks = absl::StrCat("swaks -4 --server 127.0.0.1:", proxy->port(),
                                         " --from alice@example.org --to bob@example.net ");
  CommandResult plain =
      RunShell(swaks + "--auth PLAIN --auth-user alice --auth-password s3cret --body 'via plain'");
  EXPECT_EQ(plain.exit_code, 0) << plain.output;
  EXPECT_TRUE(absl::StrContains(plain.output, "250-AUTH")) << plain.output;
  CommandResult login =
      RunShell(swaks + "--auth LOGIN --auth-user alice --auth-password s3cret --body 'via login'");
  EXPECT_EQ(login.exit_code, 0) << login.output;
  std::vector<std::string> got = (*auth_sink)->WaitForMessages(2, absl::Seconds(10));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(absl::StrContains(got[0] + got[1], "via plain"));
  EXPECT_TRUE(absl::StrContains(got[0] + got[1], "via login"));

  // A wrong password: the upstream's 535 reaches the client, and so does its refusal of MAIL.
  CommandResult wrong =
      RunShell(swaks + "--auth PLAIN --auth-user alice --auth-password nope --body 'no'");
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(wrong.output, "535")) << wrong.output;
  std::unique_ptr<RawSmtpClient> anonymous = Open(*proxy);
  ASSERT_NE(anonymous, nullptr);
  absl::StatusOr<std::string> mail = anonymous->Command("MAIL FROM:<alice@example.org>");
  EXPECT_TRUE(mail.ok() && absl::StartsWith(*mail, "530")) << mail.value_or("");
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ((*auth_sink)->Messages().size(), 2u);
}

}  // namespace
}  // namespace vmscan::testing
