#include "tests/smtp/proxy_fixture.h"

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "common/config/config_loader.h"
#include "guest_agent/client/scan_client.h"
#include "guest_agent/config/agent_config.h"
#include "tests/integration/test_server.h"

namespace vmscan::testing {

HostServer* ProxyTest::server_ = nullptr;
SmtpSink* ProxyTest::sink_ = nullptr;

void ProxyTest::SetUpTestSuite() {
  absl::StatusOr<std::unique_ptr<HostServer>> server = StartTestServer();
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = server->release();
  absl::StatusOr<std::unique_ptr<SmtpSink>> sink = SmtpSink::Start();
  ASSERT_TRUE(sink.ok()) << sink.status();
  sink_ = sink->release();
}

void ProxyTest::TearDownTestSuite() {
  delete sink_;
  delete server_;
  sink_ = nullptr;
  server_ = nullptr;
}

std::unique_ptr<SmtpProxy> ProxyTest::StartProxy(const std::vector<std::string>& sets) {
  v1::AgentConfig config = DefaultAgentConfig();
  config.clear_servers();
  config.add_servers(server_->address());
  config.set_connect_timeout_ms(300);
  config.set_timeout_ms(60000);
  config.mutable_smtp_proxy()->set_listen("127.0.0.1:0");
  config.mutable_smtp_proxy()->set_upstream(absl::StrCat("127.0.0.1:", sink_->port()));
  config.mutable_smtp_proxy()->set_hostname("proxy.test");
  for (const std::string& set : sets) {
    absl::Status s = ApplyOverride(set, &config);
    EXPECT_TRUE(s.ok()) << s;
  }
  absl::Status valid = ValidateAgentConfig(config);
  EXPECT_TRUE(valid.ok()) << valid;
  std::shared_ptr<const ScanClient> client = ScanClient::Create(config);
  v1::VmIdentity vm;
  vm.set_id("proxy-test-vm");
  vm.set_name("proxy-test");
  absl::StatusOr<std::unique_ptr<SmtpProxy>> proxy =
      SmtpProxy::Start({config, vm, [client](const v1::ScanMetadata& m, absl::string_view msg) {
                          return client->Scan(m, msg);
                        }});
  EXPECT_TRUE(proxy.ok()) << proxy.status();
  return proxy.ok() ? std::move(*proxy) : nullptr;
}

std::string ProxyTest::WithoutSinkHeaders(const std::string& stored) {
  std::string out;
  for (absl::string_view line : absl::StrSplit(Lf(stored), '\n')) {
    if (absl::StartsWith(line, "X-Peer: ") || absl::StartsWith(line, "X-MailFrom: ") ||
        absl::StartsWith(line, "X-RcptTo: ")) {
      continue;
    }
    absl::StrAppend(&out, line, "\n");
  }
  out.pop_back();  // StrSplit gave one more (empty) piece after the last "\n"
  return out;
}

std::string ProxyTest::SendRaw(RawSmtpClient& client, const std::string& data) {
  auto reply = [](absl::StatusOr<std::string> r) { return r.ok() ? *r : r.status().ToString(); };
  std::string mail = reply(client.Command("MAIL FROM:<alice@example.org>"));
  if (!absl::StartsWith(mail, "250")) return "MAIL: " + mail;
  std::string rcpt = reply(client.Command("RCPT TO:<bob@example.net>"));
  if (!absl::StartsWith(rcpt, "250")) return "RCPT: " + rcpt;
  std::string go = reply(client.Command("DATA"));
  if (!absl::StartsWith(go, "354")) return "DATA: " + go;
  absl::Status sent = client.Send(data);
  if (!sent.ok()) return sent.ToString();
  return reply(client.ReadReply(absl::Seconds(120)));
}

}  // namespace vmscan::testing
