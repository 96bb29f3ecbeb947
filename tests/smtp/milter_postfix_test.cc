// The milter with a real Postfix (`postfix -c DIR`, config written here) relaying to an aiosmtpd
// sink. One Postfix, one smtpd listener per agent: each `vmscan-agent run` milter scans on its
// own SVM, configured with one action. Clients on 127.0.0.1 (= mynetworks and the milter's
// local_networks) send outgoing mail; clients bound to 127.0.0.2 send incoming mail.
#include <sys/wait.h>

#include <fstream>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/integration/test_server.h"
#include "tests/smtp/agent_process.h"
#include "tests/smtp/smtp_peers.h"
#include "tests/testing/test_mail.h"

namespace vmscan::testing {
namespace {

// Listener name → the action its SVM is configured with ("" = no SVM at all).
const std::map<std::string, std::string> kListeners = {
    {"auto", "AUTO"}, {"delete", "DELETE"}, {"block", "BLOCK"}, {"nosvm", ""}};

class MilterPostfixTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    env_ = new Env();
    absl::StatusOr<std::unique_ptr<SmtpSink>> started_sink = SmtpSink::Start();
    ASSERT_TRUE(started_sink.ok()) << started_sink.status();
    env_->sink = std::move(*started_sink);
    std::string services;
    std::string listeners;
    for (const auto& [name, action] : kListeners) {
      std::string svm = "127.0.0.1:1";
      if (!action.empty()) {
        absl::StatusOr<std::unique_ptr<HostServer>> server =
            StartTestServer({"mail_antivirus.action_on_threat=" + action});
        ASSERT_TRUE(server.ok()) << server.status();
        svm = (*server)->address();
        env_->servers.push_back(std::move(*server));
      }
      // A short connect timeout only where no SVM exists: a loaded CI machine can take longer
      // than 300 ms to open a loopback channel, and the real SVMs must not look unreachable.
      // The milter binds any free port and the agent says which (--port-file).
      absl::StatusOr<AgentProcess> agent = StartAgent(
          {"servers=" + svm, action.empty() ? "connect_timeout_ms=300" : "connect_timeout_ms=10000",
           "shutdown_grace_ms=5000", "milter.listen=inet:127.0.0.1:0",
           "milter.local_networks=127.0.0.1/32"});
      ASSERT_TRUE(agent.ok()) << agent.status();
      const int milter_port = agent->milter_port;
      ASSERT_GT(milter_port, 0) << agent->listening["milter"];
      env_->agents[name] = std::move(*agent);
      const int smtpd_port = FreePort();
      env_->ports[name] = smtpd_port;
      absl::StrAppend(&services, "127.0.0.1:", smtpd_port, " inet n - n - - smtpd -o ",
                      "smtpd_milters=inet:127.0.0.1:", milter_port, "\n");
    }
    const std::string sink = absl::StrCat("smtp:[127.0.0.1]:", env_->sink->port());
    absl::StatusOr<std::unique_ptr<Postfix>> postfix = Postfix::Start(
        absl::StrCat("mynetworks = 127.0.0.1/32\nrelay_domains = example.net\n",
                     "default_transport = ", sink, "\nrelay_transport = ", sink, "\n",
                     "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n",
                     "milter_default_action = tempfail\n"),
        services);
    ASSERT_TRUE(postfix.ok()) << postfix.status();
    env_->postfix = std::move(*postfix);
    for (const auto& [name, port] : env_->ports) {
      ASSERT_TRUE(WaitForPort(port, absl::Seconds(20))) << "postfix smtpd " << name;
    }
    env_->eicar = TempDir("eicar") + "/eicar.com";
    std::ofstream(env_->eicar) << Eicar();
  }

  static void TearDownTestSuite() {
    env_->postfix.reset();
    for (auto& [name, agent] : env_->agents) agent.process->Terminate();  // stop them together
    for (auto& [name, agent] : env_->agents) {
      int status = agent.process->Stop();
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
          << "agent " << name << " did not stop cleanly: " << ReadFile(agent.log_file).value_or("");
    }
    delete env_;
  }

  // swaks through the listener; `incoming` binds the client to 127.0.0.2 (not a local network).
  static CommandResult Swaks(const std::string& listener, bool incoming, const std::string& args) {
    return RunShell(absl::StrCat("swaks -4 --server 127.0.0.1:", env_->ports.at(listener),
                                 incoming ? " --local-interface 127.0.0.2" : "",
                                 " --from sender@example.org --to rcpt@example.net ", args));
  }

  // The postfix queue id from swaks' "250 2.0.0 Ok: queued as ID".
  static std::string QueueId(const std::string& swaks_output) {
    size_t at = swaks_output.rfind("queued as ");
    if (at == std::string::npos) return "";
    const std::string rest = swaks_output.substr(at + 10, swaks_output.find('\n', at) - at - 10);
    return std::string(absl::StripAsciiWhitespace(rest));
  }

  static std::string WaitForLog(const std::string& needle) {
    for (int i = 0; i < 200; ++i) {
      std::string log = env_->postfix->Log();
      if (absl::StrContains(log, needle)) return log;
      absl::SleepFor(absl::Milliseconds(100));
    }
    return env_->postfix->Log();
  }

  // The sink's message whose text contains `marker`, waiting for it.
  static std::string Delivered(const std::string& marker) {
    for (int i = 0; i < 200; ++i) {
      for (const std::string& m : env_->sink->Messages()) {
        if (absl::StrContains(m, marker)) return m;
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
    return "";
  }

  struct Env {
    std::unique_ptr<SmtpSink> sink;
    std::vector<std::unique_ptr<HostServer>> servers;
    std::map<std::string, AgentProcess> agents;
    std::map<std::string, int> ports;
    std::unique_ptr<Postfix> postfix;
    std::string eicar;
  };
  static Env* env_;
};

MilterPostfixTest::Env* MilterPostfixTest::env_ = nullptr;

int CountHeader(const std::string& message, const std::string& name) {
  int n = 0;
  for (absl::string_view line : absl::StrSplit(message, '\n')) {
    if (line.empty() || line == "\r") break;
    if (absl::StartsWithIgnoreCase(line, name + ":")) ++n;
  }
  return n;
}

TEST_F(MilterPostfixTest, CleanMailArrivesWithTheStatusHeader) {
  CommandResult r =
      Swaks("auto", true, "--body 'clean-marker-1' --add-header 'X-Vmscan-Status: forged'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string m = Delivered("clean-marker-1");
  ASSERT_FALSE(m.empty()) << env_->postfix->Log();
  EXPECT_TRUE(absl::StrContains(m, "X-Vmscan-Status: clean")) << m;
  EXPECT_EQ(CountHeader(m, "X-Vmscan-Status"), 1) << "the sender's own header must go: " << m;
  EXPECT_FALSE(absl::StrContains(m, "forged")) << m;
}

TEST_F(MilterPostfixTest, IncomingInfectedIsDisinfected) {
  CommandResult r = Swaks("auto", true, "--header 'Subject: disinfect-me' --attach " + env_->eicar);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string m = Delivered("disinfect-me");
  ASSERT_FALSE(m.empty()) << env_->postfix->Log();
  EXPECT_TRUE(absl::StrContains(m, "X-Vmscan-Status: disinfected")) << m;
  EXPECT_TRUE(absl::StrContains(m, "vmscan removed the attachment \"eicar.com\"")) << m;
  EXPECT_FALSE(absl::StrContains(m, "EICAR-STANDARD")) << m;
  // The base64 of the EICAR file must be gone too.
  EXPECT_FALSE(absl::StrContains(m, "WDVPIVAlQEFQ")) << m;
}

TEST_F(MilterPostfixTest, IncomingInfectedIsDiscardedWhenTheActionIsDelete) {
  CommandResult r = Swaks("delete", true, "--header 'Subject: delete-me' --attach " + env_->eicar);
  ASSERT_EQ(r.exit_code, 0) << r.output;  // discard: the sender is told it was accepted
  const std::string id = QueueId(r.output);
  ASSERT_FALSE(id.empty()) << r.output;
  std::string log = WaitForLog(id + ": milter-discard");
  EXPECT_TRUE(absl::StrContains(log, id + ": milter-discard")) << "[" << id << "] " << log;
  absl::SleepFor(absl::Milliseconds(500));
  for (const std::string& m : env_->sink->Messages()) {
    EXPECT_FALSE(absl::StrContains(m, "delete-me")) << "a deleted message was delivered";
  }
}

TEST_F(MilterPostfixTest, IncomingInfectedIsRejectedWhenTheActionIsBlock) {
  CommandResult r = Swaks("block", true, "--header 'Subject: block-me' --attach " + env_->eicar);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(
      absl::StrContains(r.output, "550 5.7.1 Message contains a threat (Eicar-Test-Signature"))
      << r.output;
}

TEST_F(MilterPostfixTest, OutgoingInfectedIsRejectedEvenWhenTheActionWouldDisinfect) {
  CommandResult r = Swaks("auto", false, "--header 'Subject: outgoing' --attach " + env_->eicar);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(r.output, "550 5.7.1 Message contains a threat")) << r.output;
  EXPECT_TRUE(absl::StrContains(ReadFile(env_->agents.at("auto").log_file).value_or(""),
                                "outgoing: INFECTED"));
}

TEST_F(MilterPostfixTest, NoScannerTempfails) {
  CommandResult r = Swaks("nosvm", true, "--body 'nosvm-marker'");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(r.output, "451 4.7.0 No virus scanner available")) << r.output;
}

}  // namespace
}  // namespace vmscan::testing
