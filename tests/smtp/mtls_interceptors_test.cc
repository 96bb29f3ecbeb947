// The SMTP proxy and the milter over mutual TLS (docs/security.md): the real vmscan-server
// binary with a PKI made by `vmscanctl pki`, `vmscan-agent run` with a VM certificate, a real
// Postfix and an aiosmtpd sink. The SVM takes the VM's id from the certificate; an agent whose
// certificate is revoked holds every message back (451), clean or not, and delivers nothing.
#include <sys/wait.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/smtp/agent_process.h"
#include "tests/smtp/smtp_peers.h"
#include "tests/testing/test_mail.h"

namespace vmscan::testing {
namespace {

class MtlsInterceptorsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    env_ = new Env();
    env_->root = TempDir("mtls-interceptors");
    env_->pki = env_->root + "/pki";
    for (const std::string& args : {"pki init " + env_->pki + " --svm-name svm-1",
                                    "pki issue-vm --id vm-a --name desk-a " + env_->pki,
                                    "pki issue-vm --id vm-r --name desk-r " + env_->pki,
                                    "pki revoke " + env_->pki + " --vm vm-r"}) {
      CommandResult run = RunShell(absl::StrCat(VMSCANCTL_BIN, " ", args));
      ASSERT_EQ(run.exit_code, 0) << args << ": " << run.output;
    }
    const std::string port_file = env_->root + "/server.port";
    absl::StatusOr<std::unique_ptr<ChildProcess>> server = ChildProcess::Start(
        {VMSCAN_SERVER_BIN, "--port-file", port_file, "--set", "listen=127.0.0.1:0", "--set",
         "state_dir=" + env_->root + "/state", "--set", "tls.insecure_loopback=false", "--set",
         "tls.cert_file=" + env_->pki + "/svm/svm-1.pem", "--set",
         "tls.key_file=" + env_->pki + "/svm/svm-1.key", "--set",
         "tls.ca_file=" + env_->pki + "/ca.pem", "--set", "tls.crl_file=" + env_->pki + "/crl.pem"},
        env_->root + "/server.log");
    ASSERT_TRUE(server.ok()) << server.status();
    env_->server = std::move(*server);
    int port = 0;
    for (int i = 0; i < 600 && port == 0; ++i) {
      std::ifstream(port_file) >> port;
      if (port == 0) absl::SleepFor(absl::Milliseconds(50));
    }
    ASSERT_GT(port, 0) << ReadFile(env_->root + "/server.log").value_or("");
    env_->svm = absl::StrCat("127.0.0.1:", port);

    absl::StatusOr<std::unique_ptr<SmtpSink>> sink = SmtpSink::Start();
    ASSERT_TRUE(sink.ok()) << sink.status();
    env_->sink = std::move(*sink);
    for (const std::string vm : {"vm-a", "vm-r"}) {
      absl::StatusOr<AgentProcess> agent =
          StartAgent({"servers=" + env_->svm, "tls.insecure_loopback=false",
                      "tls.cert_file=" + env_->pki + "/vm/" + vm + ".pem",
                      "tls.key_file=" + env_->pki + "/vm/" + vm + ".key",
                      "tls.ca_file=" + env_->pki + "/ca.pem", "connect_timeout_ms=10000",
                      "shutdown_grace_ms=5000", "smtp_proxy.listen=127.0.0.1:0",
                      absl::StrCat("smtp_proxy.upstream=127.0.0.1:", env_->sink->port()),
                      "milter.listen=inet:127.0.0.1:0", "milter.local_networks=127.0.0.1/32"});
      ASSERT_TRUE(agent.ok()) << agent.status();
      ASSERT_GT(agent->proxy_port, 0);
      ASSERT_GT(agent->milter_port, 0);
      env_->agents[vm] = std::move(*agent);
    }
    // One Postfix smtpd listener per agent's milter.
    std::string services;
    for (const std::string vm : {"vm-a", "vm-r"}) {
      env_->smtpd[vm] = FreePort();
      absl::StrAppend(&services, "127.0.0.1:", env_->smtpd[vm], " inet n - n - - smtpd -o ",
                      "smtpd_milters=inet:127.0.0.1:", env_->agents[vm].milter_port, "\n");
    }
    const std::string relay = absl::StrCat("smtp:[127.0.0.1]:", env_->sink->port());
    absl::StatusOr<std::unique_ptr<Postfix>> postfix = Postfix::Start(
        absl::StrCat("mynetworks = 127.0.0.1/32\nrelay_domains = example.net\n",
                     "default_transport = ", relay, "\nrelay_transport = ", relay, "\n",
                     "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n",
                     "milter_default_action = tempfail\n"),
        services);
    ASSERT_TRUE(postfix.ok()) << postfix.status();
    env_->postfix = std::move(*postfix);
    for (const auto& [vm, port] : env_->smtpd) {
      ASSERT_TRUE(WaitForPort(port, absl::Seconds(20))) << "postfix smtpd for " << vm;
    }
    env_->eicar = env_->root + "/eicar.com";
    std::ofstream(env_->eicar) << Eicar();
  }

  static void TearDownTestSuite() {
    env_->postfix.reset();
    for (auto& [vm, agent] : env_->agents) {
      const int status = agent.process->Stop();
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
          << vm << ": " << ReadFile(agent.log_file).value_or("");
    }
    env_->server.reset();
    std::filesystem::remove_all(env_->root);
    delete env_;
  }

  // swaks to `port`; `incoming` binds the client to 127.0.0.2 (not a local network).
  static CommandResult Swaks(int port, bool incoming, const std::string& args) {
    return RunShell(absl::StrCat("swaks -4 --server 127.0.0.1:", port,
                                 incoming ? " --local-interface 127.0.0.2" : "",
                                 " --from sender@example.org --to rcpt@example.net ", args));
  }

  static std::string Delivered(const std::string& marker, absl::Duration wait) {
    const absl::Time end = absl::Now() + wait;
    do {
      for (const std::string& m : env_->sink->Messages()) {
        if (absl::StrContains(m, marker)) return m;
      }
      absl::SleepFor(absl::Milliseconds(100));
    } while (absl::Now() < end);
    return "";
  }

  static std::string ServerLog() { return ReadFile(env_->root + "/server.log").value_or(""); }

  struct Env {
    std::string root, pki, svm, eicar;
    std::unique_ptr<ChildProcess> server;
    std::unique_ptr<SmtpSink> sink;
    std::map<std::string, AgentProcess> agents;
    std::map<std::string, int> smtpd;
    std::unique_ptr<Postfix> postfix;
  };
  static Env* env_;
};

MtlsInterceptorsTest::Env* MtlsInterceptorsTest::env_ = nullptr;

TEST_F(MtlsInterceptorsTest, TheSmtpProxyScansOverMutualTlsAsTheVmOfItsCertificate) {
  const int proxy = env_->agents["vm-a"].proxy_port;
  CommandResult clean = Swaks(proxy, false, "--header 'Subject: mtls-proxy-clean'");
  EXPECT_EQ(clean.exit_code, 0) << clean.output;
  EXPECT_NE(Delivered("mtls-proxy-clean", absl::Seconds(10)), "");
  CommandResult infected =
      Swaks(proxy, false, "--header 'Subject: mtls-proxy-eicar' --attach " + env_->eicar);
  EXPECT_NE(infected.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(infected.output, "<** 5")) << infected.output;  // blocked
  EXPECT_EQ(Delivered("mtls-proxy-eicar", absl::Seconds(1)), "");
  // The SVM names the VM of the certificate.
  EXPECT_TRUE(absl::StrContains(ServerLog(), "scan vm=vm-a ")) << ServerLog();
}

TEST_F(MtlsInterceptorsTest, TheMilterScansOverMutualTls) {
  const int smtpd = env_->smtpd["vm-a"];
  CommandResult clean = Swaks(smtpd, true, "--header 'Subject: mtls-milter-clean'");
  EXPECT_EQ(clean.exit_code, 0) << clean.output;
  EXPECT_NE(Delivered("mtls-milter-clean", absl::Seconds(20)), "");
  // Incoming with a threat: AUTO disinfects, the cleaned copy is delivered.
  CommandResult incoming =
      Swaks(smtpd, true, "--header 'Subject: mtls-milter-disinfect' --attach " + env_->eicar);
  EXPECT_EQ(incoming.exit_code, 0) << incoming.output;
  const std::string m = Delivered("mtls-milter-disinfect", absl::Seconds(20));
  EXPECT_TRUE(absl::StrContains(m, "vmscan removed the attachment \"eicar.com\"")) << m;
  EXPECT_FALSE(absl::StrContains(m, "EICAR-STANDARD-ANTIVIRUS-TEST-FILE")) << m;
  // Outgoing with a threat: SMTP blocks it whatever the action.
  CommandResult outgoing =
      Swaks(smtpd, false, "--header 'Subject: mtls-milter-out' --attach " + env_->eicar);
  EXPECT_TRUE(absl::StrContains(outgoing.output, "<** 5")) << outgoing.output;
  EXPECT_EQ(Delivered("mtls-milter-out", absl::Seconds(1)), "");
}

TEST_F(MtlsInterceptorsTest, ARevokedVmCertificateHoldsEveryMessageBackAndDeliversNothing) {
  // Clean mail too: nothing may pass unscanned because the SVM refused the handshake.
  CommandResult proxied =
      Swaks(env_->agents["vm-r"].proxy_port, false, "--header 'Subject: mtls-revoked-proxy'");
  EXPECT_NE(proxied.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(proxied.output, "<** 451")) << proxied.output;
  CommandResult milter =
      Swaks(env_->smtpd["vm-r"], true, "--header 'Subject: mtls-revoked-milter'");
  EXPECT_NE(milter.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(milter.output, "<** 451")) << milter.output;
  EXPECT_EQ(Delivered("mtls-revoked", absl::Seconds(2)), "");
  EXPECT_TRUE(absl::StrContains(ServerLog(), "is revoked")) << ServerLog();
}

}  // namespace
}  // namespace vmscan::testing
