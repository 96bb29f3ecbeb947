// Shared set-up of the SMTP proxy tests: a real SVM (HostServer in-process, bundled signatures),
// an aiosmtpd sink as the upstream, and SMTP proxies started in-process on port 0.
#ifndef VMSCAN_TESTS_SMTP_PROXY_FIXTURE_H_
#define VMSCAN_TESTS_SMTP_PROXY_FIXTURE_H_

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "guest_agent/smtp_proxy/smtp_proxy.h"
#include "host_server/service/host_server.h"
#include "tests/smtp/smtp_peers.h"

namespace vmscan::testing {

class ProxyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();

  // A proxy relaying to the sink and scanning on the suite's SVM; `sets` apply like --set to
  // the AgentConfig (e.g. "smtp_proxy.max_message_bytes=10485760", "servers=127.0.0.1:1").
  static std::unique_ptr<SmtpProxy> StartProxy(const std::vector<std::string>& sets = {});

  // A message as the sink stored it, without the X-Peer/X-MailFrom/X-RcptTo lines aiosmtpd adds
  // and with LF line endings.
  static std::string WithoutSinkHeaders(const std::string& stored);

  // MAIL, RCPT, DATA, the data (with the final ".\r\n" already in it); the reply to the data.
  static std::string SendRaw(RawSmtpClient& client, const std::string& data);

  static HostServer* server_;
  static SmtpSink* sink_;
};

}  // namespace vmscan::testing

#endif  // VMSCAN_TESTS_SMTP_PROXY_FIXTURE_H_
