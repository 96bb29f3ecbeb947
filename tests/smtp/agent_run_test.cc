// `vmscan-agent run` as users run it: the SMTP proxy from config, mail through it to a real
// sink, SIGTERM for a clean exit, and clear exit codes for configuration mistakes.
#include <sys/wait.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/test_server.h"
#include "tests/smtp/agent_process.h"
#include "tests/smtp/smtp_peers.h"
#include "tests/testing/test_mail.h"

namespace vmscan::testing {
namespace {

TEST(AgentRunTest, ProxiesMailAndStopsCleanlyOnSigterm) {
  absl::StatusOr<std::unique_ptr<HostServer>> server = StartTestServer();
  ASSERT_TRUE(server.ok()) << server.status();
  absl::StatusOr<std::unique_ptr<SmtpSink>> sink = SmtpSink::Start();
  ASSERT_TRUE(sink.ok()) << sink.status();
  absl::StatusOr<AgentProcess> agent =
      StartAgent({"servers=" + (*server)->address(), "smtp_proxy.listen=127.0.0.1:0",
                  absl::StrCat("smtp_proxy.upstream=127.0.0.1:", (*sink)->port()), "vm.id=run-vm"});
  ASSERT_TRUE(agent.ok()) << agent.status();
  ASSERT_GT(agent->proxy_port, 0);
  EXPECT_EQ(agent->listening.size(), 1u) << "only the SMTP proxy is configured";
  EXPECT_EQ(agent->listening["smtp-proxy"], absl::StrCat("127.0.0.1:", agent->proxy_port));
  CommandResult swaks =
      RunShell(absl::StrCat("swaks -4 --server 127.0.0.1:", agent->proxy_port,
                            " --from a@example.org --to b@example.net", " --body run-test-body"));
  EXPECT_EQ(swaks.exit_code, 0) << swaks.output;
  std::vector<std::string> got = (*sink)->WaitForMessages(1, absl::Seconds(10));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(absl::StrContains(got[0], "run-test-body"));
  int status = agent->process->Stop();
  std::string log = ReadFile(agent->log_file).value_or("");
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << log;
  EXPECT_TRUE(absl::StrContains(
      log, absl::StrCat("vmscan-agent: smtp-proxy listening on 127.0.0.1:", agent->proxy_port)))
      << log;
  EXPECT_TRUE(absl::StrContains(log, "CLEAN: relayed")) << log;
  EXPECT_TRUE(absl::StrContains(log, "vmscan-agent: stopped")) << log;
}

TEST(AgentRunTest, ConfigurationMistakesExitWithClearErrors) {
  const std::string bin = VMSCAN_AGENT_BIN;
  // Without interceptors `run` still registers and follows settings (control_plane_test), so
  // the config is what can be wrong.
  CommandResult fast = RunShell(bin + " run --set heartbeat_interval_ms=5");
  EXPECT_EQ(fast.exit_code, 64);
  EXPECT_TRUE(absl::StrContains(fast.output, "heartbeat_interval_ms")) << fast.output;
  CommandResult no_upstream = RunShell(bin + " run --set smtp_proxy.listen=127.0.0.1:0");
  EXPECT_EQ(no_upstream.exit_code, 64);
  EXPECT_TRUE(absl::StrContains(no_upstream.output, "smtp_proxy.upstream")) << no_upstream.output;
  CommandResult bad_net = RunShell(bin +
                                   " run --set milter.listen=inet:127.0.0.1:1 "
                                   "--set milter.local_networks=10.0.0.0/99");
  EXPECT_EQ(bad_net.exit_code, 64);
  EXPECT_TRUE(absl::StrContains(bad_net.output, "milter.local_networks")) << bad_net.output;
  CommandResult bad_tls = RunShell(bin +
                                   " run --set smtp_proxy.listen=127.0.0.1:0 "
                                   "--set smtp_proxy.upstream=127.0.0.1:25 "
                                   "--set smtp_proxy.tls_cert_file=/nonexistent.pem "
                                   "--set smtp_proxy.tls_key_file=/nonexistent.key");
  EXPECT_EQ(bad_tls.exit_code, 69);
  EXPECT_TRUE(absl::StrContains(bad_tls.output, "/nonexistent.pem")) << bad_tls.output;
  CommandResult help = RunShell(bin + " run --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(help.output, "SIGTERM")) << help.output;
}

}  // namespace
}  // namespace vmscan::testing
