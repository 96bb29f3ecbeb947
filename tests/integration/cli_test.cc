// The binaries as a user runs them: vmscan-server started on a free port with its embedded
// defaults (plus a temp state dir), vmscan-agent scan on the samples, exit codes and JSON.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/testing/test_mail.h"

namespace vmscan::testing {
namespace {

class CliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(std::filesystem::temp_directory_path() /
                           absl::StrCat("vmscan-cli-", getpid()));
    std::filesystem::remove_all(*dir_);
    std::filesystem::create_directories(*dir_);
    std::string port_file = *dir_ + "/port";
    pid_ = fork();
    if (pid_ == 0) {
      std::string state = absl::StrCat("--set=state_dir=", *dir_, "/state");
      execl(VMSCAN_SERVER_BIN, VMSCAN_SERVER_BIN, "--set=listen=127.0.0.1:0", state.c_str(),
            "--set=log_level=warning", "--port-file", port_file.c_str(), nullptr);
      _exit(127);
    }
    for (int i = 0; i < 300 && !std::filesystem::exists(port_file); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::ifstream(port_file) >> port_;
    ASSERT_GT(port_, 0) << "vmscan-server did not start";
  }
  static void TearDownTestSuite() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "server did not stop cleanly";
    }
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  static std::string Agent(const std::string& args) {
    return absl::StrCat(VMSCAN_AGENT_BIN, " scan --server 127.0.0.1:", port_,
                        " --set state_dir=", *dir_, "/agent ", args);
  }
  static std::string Sample(const std::string& name) {
    return SourcePath(absl::StrCat("deploy/samples/", name));
  }

  static pid_t pid_;
  static int port_;
  static std::string* dir_;
};

pid_t CliTest::pid_ = -1;
int CliTest::port_ = 0;
std::string* CliTest::dir_ = nullptr;

TEST_F(CliTest, CleanSampleExitsZeroAndOutputIsTheOriginal) {
  std::string out = *dir_ + "/clean.out";
  CommandRun run = Shell(Agent(absl::StrCat("--json --output ", out, " ", Sample("clean.eml"))));
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(absl::StrContains(run.out, "\"verdict\":\"CLEAN\"")) << run.out;
  EXPECT_TRUE(absl::StrContains(run.out, "\"action\":\"DELIVER\"")) << run.out;
  EXPECT_EQ(ReadFile(out).value_or("x"), ReadFile(Sample("clean.eml")).value());
}

TEST_F(CliTest, InfectedAttachmentSample) {
  CommandRun run = Shell(Agent("--json " + Sample("infected-attachment.eml")));
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_TRUE(absl::StrContains(run.out, "\"verdict\":\"INFECTED\"")) << run.out;
  EXPECT_TRUE(absl::StrContains(run.out, "\"filename\":\"invoice.com\"")) << run.out;
  EXPECT_TRUE(absl::StrContains(run.out, "\"sha256\":\"")) << run.out;
}

TEST_F(CliTest, InfectedZipSampleHumanSummary) {
  CommandRun run = Shell(Agent(Sample("infected-zip.eml")));
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_TRUE(absl::StrContains(run.out, "INFECTED")) << run.out;
  EXPECT_TRUE(absl::StrContains(run.out, "\"documents.zip\"")) << run.out;
}

TEST_F(CliTest, OutgoingSmtpSampleIsBlockedAndNothingIsWritten) {
  std::string out = *dir_ + "/blocked.out";
  CommandRun run = Shell(Agent(
      absl::StrCat("--json --channel smtp-out --output ", out, " ", Sample("outgoing-smtp.eml"))));
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_TRUE(absl::StrContains(run.out, "\"action\":\"BLOCK\"")) << run.out;
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST_F(CliTest, StandardInputAndOutputForPipes) {
  CommandRun run = Shell(Agent("--output - - < " + Sample("clean.eml")));
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, ReadFile(Sample("clean.eml")).value());
  EXPECT_TRUE(absl::StrContains(run.err, "CLEAN")) << run.err;  // summary moved to stderr
}

// The agent reads the message in chunks instead of holding it: --output naming the input file
// itself must still get the whole message, not a file truncated before it was copied.
TEST_F(CliTest, OutputOverTheInputFileKeepsTheMessage) {
  std::string path = *dir_ + "/in-place.eml";
  std::filesystem::copy_file(Sample("clean.eml"), path,
                             std::filesystem::copy_options::overwrite_existing);
  CommandRun run = Shell(Agent(absl::StrCat("--output ", path, " ", path)));
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(ReadFile(path).value_or("x"), ReadFile(Sample("clean.eml")).value());
}

// A pipe is spooled to a temp file, sent in many chunks and copied to --output unchanged.
TEST_F(CliTest, LargeMessageFromAPipeIsDeliveredUnchanged) {
  std::string message = "From: a@example.org\r\nSubject: big\r\n\r\n";
  for (int i = 0; message.size() < 3 * 1024 * 1024; ++i) {
    absl::StrAppend(&message, "line ", i, " of a long and quite ordinary report\r\n");
  }
  std::string in = *dir_ + "/big.eml", out = *dir_ + "/big.out";
  std::ofstream(in, std::ios::binary) << message;
  CommandRun run = Shell(absl::StrCat("cat ", in, " | ", Agent(absl::StrCat("--output ", out))));
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(absl::StrContains(run.out, absl::StrCat(message.size(), " bytes"))) << run.out;
  EXPECT_TRUE(ReadFile(out).value_or("") == message) << "delivered copy differs";
}

TEST_F(CliTest, BadInputAndUsageExitCodes) {
  EXPECT_EQ(Shell(Agent(*dir_ + "/does-not-exist.eml")).exit_code, 65);
  EXPECT_EQ(Shell(Agent("/dev/null")).exit_code, 65);
  CommandRun channel = Shell(Agent("--channel fax " + Sample("clean.eml")));
  EXPECT_EQ(channel.exit_code, 64);
  EXPECT_TRUE(absl::StrContains(channel.err, "unknown channel 'fax'")) << channel.err;
  CommandRun typo = Shell(Agent("--set vm.nmae=x " + Sample("clean.eml")));
  EXPECT_EQ(typo.exit_code, 64);
  EXPECT_TRUE(absl::StrContains(typo.err, "vm.nmae")) << typo.err;
  EXPECT_EQ(Shell(Agent("--output")).exit_code, 64);
}

TEST_F(CliTest, NoScannerReachableExitsThree) {
  CommandRun run = Shell(absl::StrCat(VMSCAN_AGENT_BIN, " scan --server 127.0.0.1:1 --set ",
                                      "connect_timeout_ms=300 ", Sample("clean.eml")));
  EXPECT_EQ(run.exit_code, 3) << run.err;
  EXPECT_TRUE(absl::StrContains(run.err, "no scanner reachable")) << run.err;
  EXPECT_TRUE(run.out.empty());
}

TEST_F(CliTest, ServerConfigTypoIsAClearError) {
  std::string config = *dir_ + "/server.yaml";
  std::ofstream(config) << "mail_antivirus:\n  acton_on_threat: BLOCK\n";
  CommandRun run = Shell(absl::StrCat(VMSCAN_SERVER_BIN, " --config ", config));
  EXPECT_EQ(run.exit_code, 78);
  EXPECT_TRUE(absl::StrContains(run.err, "acton_on_threat")) << run.err;
}

TEST_F(CliTest, HelpDocumentsExitCodes) {
  CommandRun run = Shell(absl::StrCat(VMSCAN_AGENT_BIN, " scan --help"));
  EXPECT_EQ(run.exit_code, 0);
  for (const char* code :
       {"0   clean", "1   infected", "2   unscannable", "3   no scanner", "64", "65"}) {
    EXPECT_TRUE(absl::StrContains(run.out, code)) << code;
  }
}

}  // namespace
}  // namespace vmscan::testing
