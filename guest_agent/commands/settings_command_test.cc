// `vmscan-agent settings show|set` in-process against a fake AgentControl served by real gRPC on a
// loopback port: what each outcome prints and its exit code, and the local-settings file.
#include "guest_agent/commands/settings_command.h"

#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "guest_agent/control/agent_control_client.h"
#include "guest_agent/control/fake_agent_control.h"
#include "guest_agent/settings/settings_files.h"

namespace vmscan {
namespace {

class SettingsCommandTest : public FakeSvmTest {
 protected:
  // `words` and the options that point the command at the fake SVM and the test's state dir.
  std::vector<std::string> Args(std::vector<std::string> words) {
    words.insert(words.end(), {"--set", "servers=" + address_, "--set", "state_dir=" + state_dir_,
                               "--set", "vm.id=vm-1", "--set", "connect_timeout_ms=500"});
    return words;
  }
};

TEST_F(SettingsCommandTest, ExitCodes) {
  std::ostringstream out, err;
  // Not registered yet: the SVM does not know the VM.
  EXPECT_EQ(RunSettingsCommand(Args({"show"}), out, err), kSettingsExitFailed) << err.str();

  ASSERT_TRUE(AgentControlClient::Create(config_)
                  ->Register([&] {
                    v1::RegisterRequest r;
                    *r.mutable_vm() = vm_;
                    return r;
                  }())
                  .ok());
  out.str("");
  EXPECT_EQ(RunSettingsCommand(Args({"show"}), out, err), kSettingsExitOk) << err.str();
  EXPECT_TRUE(absl::StrContains(out.str(), "group Managed devices/Finance")) << out.str();
  EXPECT_TRUE(absl::StrContains(out.str(), "locked by group Managed devices/Finance")) << out.str();

  // Bad key or value: refused on the VM, nothing sent.
  err.str("");
  EXPECT_EQ(RunSettingsCommand(Args({"set", "action_on_threat=EXPLODE"}), out, err),
            kSettingsExitUsage);
  EXPECT_TRUE(absl::StrContains(err.str(), "EXPLODE")) << err.str();
  EXPECT_EQ(RunSettingsCommand(Args({"set", "--unset", "no_such_key"}), out, err),
            kSettingsExitUsage);
  EXPECT_EQ(RunSettingsCommand(Args({"set"}), out, err), kSettingsExitUsage);

  // Locked: refused by the SVM, naming the group; nothing saved.
  err.str("");
  EXPECT_EQ(RunSettingsCommand(Args({"set", "mail_antivirus.on_unscannable=DELIVER_WITH_HEADER"}),
                               out, err),
            kSettingsExitLocked);
  EXPECT_TRUE(absl::StrContains(err.str(), "Managed devices/Finance")) << err.str();
  EXPECT_FALSE(std::filesystem::exists(LocalSettingsPath(state_dir_)));

  // Accepted: saved locally, effective values printed.
  out.str("");
  EXPECT_EQ(RunSettingsCommand(Args({"set", "mail_antivirus.action_on_threat=delete"}), out, err),
            kSettingsExitOk)
      << err.str();
  EXPECT_TRUE(absl::StrContains(out.str(), "action_on_threat  DELETE  local")) << out.str();
  absl::StatusOr<std::optional<v1::MailAntivirusSettings>> saved = ReadLocalSettings(state_dir_);
  ASSERT_TRUE(saved.ok() && saved->has_value()) << saved.status();
  EXPECT_EQ((*saved)->action_on_threat(), v1::ActionOnThreat::DELETE);
  EXPECT_EQ(fake_.local().action_on_threat(), v1::ActionOnThreat::DELETE);

  // No SVM: show prints the cached settings with a note, set changes nothing; both exit 3.
  StopSvm();
  out.str("");
  err.str("");
  EXPECT_EQ(RunSettingsCommand(Args({"show"}), out, err), kSettingsExitNoScanner);
  EXPECT_TRUE(absl::StrContains(err.str(), "last received")) << err.str();
  EXPECT_TRUE(absl::StrContains(out.str(), "DELETE")) << out.str();
  EXPECT_EQ(RunSettingsCommand(Args({"set", "action_on_threat=BLOCK"}), out, err),
            kSettingsExitNoScanner);
  EXPECT_EQ((*ReadLocalSettings(state_dir_))->action_on_threat(), v1::ActionOnThreat::DELETE);
}

}  // namespace
}  // namespace vmscan
