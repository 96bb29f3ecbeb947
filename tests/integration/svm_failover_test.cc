// SVM choice and failover (docs/design.md §6.1) with three real vmscan-server processes on three
// "hypervisor hosts", the agent's real ScanClient and the real `vmscan-agent status`/`run`:
// discovery from one SVM, own-host preference, SIGKILL while scans run, the return of the own
// host's SVM, a listener that never answers, an SVM stopped in the middle of a call.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "guest_agent/client/scan_client.h"
#include "guest_agent/config/agent_config.h"
#include "tests/smtp/agent_process.h"
#include "tests/smtp/smtp_peers.h"
#include "tests/testing/test_mail.h"

namespace vmscan::testing {
namespace {

using ::testing::HasSubstr;

// One vmscan-server process on `port` for hypervisor host `host`, knowing `peers`.
class Svm {
 public:
  Svm(std::string dir, int port, std::string host, std::vector<std::pair<int, std::string>> peers)
      : dir_(std::move(dir)), port_(port), host_(std::move(host)), peers_(std::move(peers)) {}

  void Start() {
    std::filesystem::create_directories(dir_);
    const std::string config = dir_ + "/server.yaml";
    std::ofstream out(config);
    out << "listen: 127.0.0.1:" << port_ << "\nstate_dir: " << dir_ << "/var\n"
        << "log_level: warning\nworkers: 1\nsvm_directory:\n  hypervisor_host: " << host_
        << "\n  peers:\n";
    for (const auto& [port, host] : peers_) {
      out << "    - {address: \"127.0.0.1:" << port << "\", hypervisor_host: " << host << "}\n";
    }
    out.close();
    const std::string port_file = dir_ + "/port";
    std::filesystem::remove(port_file);
    absl::StatusOr<std::unique_ptr<ChildProcess>> started = ChildProcess::Start(
        {VMSCAN_SERVER_BIN, "--config", config, "--port-file", port_file}, dir_ + "/server.log");
    ASSERT_TRUE(started.ok()) << started.status();
    process_ = *std::move(started);
    for (int i = 0; i < 600 && !std::filesystem::exists(port_file); ++i)
      absl::SleepFor(absl::Milliseconds(50));
    ASSERT_TRUE(std::filesystem::exists(port_file)) << "server on " << host_ << " did not start";
  }
  void Kill() {
    kill(process_->pid(), SIGKILL);
    process_.reset();  // reaps
  }
  pid_t pid() const { return process_->pid(); }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  int port() const { return port_; }

 private:
  std::string dir_;
  int port_;
  std::string host_;
  std::vector<std::pair<int, std::string>> peers_;
  std::unique_ptr<ChildProcess> process_;
};

class SvmFailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir("failover");
    ASSERT_FALSE(dir_.empty());
    const int ports[3] = {FreePort(), FreePort(), FreePort()};
    const char* hosts[3] = {"esx-1", "esx-2", "esx-3"};
    for (int i = 0; i < 3; ++i) {
      std::vector<std::pair<int, std::string>> peers;
      for (int j = 0; j < 3; ++j) {
        if (j != i) peers.push_back({ports[j], hosts[j]});
      }
      svms_.push_back(
          std::make_unique<Svm>(absl::StrCat(dir_, "/svm", i + 1), ports[i], hosts[i], peers));
      svms_.back()->Start();
    }
  }
  void TearDown() override {
    svms_.clear();
    std::filesystem::remove_all(dir_);
  }

  // An agent config for a VM on `host` that knows only `servers` to begin with.
  v1::AgentConfig AgentConfigFor(const std::string& host, std::vector<std::string> servers) {
    std::vector<std::string> sets = {"vm.id=vm-on-" + host, "vm.host=" + host,
                                     "state_dir=" + dir_ + "/agent-" + host,
                                     "svm_choice.refresh_ms=300", "svm_choice.retry_ms=3000"};
    absl::StatusOr<v1::AgentConfig> config = LoadAgentConfig("", sets);
    EXPECT_TRUE(config.ok()) << config.status();
    config->clear_servers();
    for (const std::string& s : servers) config->add_servers(s);
    return *config;
  }

  static v1::ScanMetadata Metadata(const v1::AgentConfig& config) {
    v1::ScanMetadata metadata;
    metadata.mutable_vm()->set_id(config.vm().id());
    metadata.mutable_vm()->set_hypervisor_host(config.vm().host());
    metadata.set_channel(v1::CLI);
    metadata.set_direction(v1::INCOMING);
    return metadata;
  }

  static std::string First(const ScanClient& client) {
    v1::SvmChoiceStatus status = client.ChoiceStatus();
    return status.svms().empty() ? "" : status.svms(0).svm().address();
  }

  // Waits until the client's first choice is `address` (refreshes run every 300 ms).
  static bool WaitForFirst(const ScanClient& client, const std::string& address,
                           absl::Duration timeout) {
    const absl::Time end = absl::Now() + timeout;
    while (absl::Now() < end) {
      if (First(client) == address) return true;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return First(client) == address;
  }

  std::string dir_;
  std::vector<std::unique_ptr<Svm>> svms_;
};

TEST_F(SvmFailoverTest, LearnsEverySvmFromOneAndPrefersItsOwnHost) {
  // Both VMs are configured with the SVM of esx-1 only.
  for (int own = 0; own < 3; ++own) {
    const std::string host = absl::StrCat("esx-", own + 1);
    v1::AgentConfig config = AgentConfigFor(host, {svms_[0]->address()});
    std::unique_ptr<ScanClient> client = ScanClient::Create(config);
    client->StartChoosing(host, nullptr);
    v1::SvmChoiceStatus status = client->ChoiceStatus();
    ASSERT_EQ(status.svms_size(), 3) << status.DebugString();
    EXPECT_EQ(status.svms(0).svm().address(), svms_[own]->address()) << status.DebugString();
    EXPECT_THAT(status.svms(0).reason(), HasSubstr("on this VM's hypervisor host"));
    EXPECT_EQ(status.svms(0).configured(), own == 0);
    absl::StatusOr<ScanResponse> r = client->Scan(Metadata(config), PlainMail("hi", "hello\n"));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->server, svms_[own]->address());
  }
  // Without discovery the configured SVM is all there is.
  v1::AgentConfig config = AgentConfigFor("esx-2", {svms_[0]->address()});
  config.mutable_svm_choice()->set_discover(false);
  std::unique_ptr<ScanClient> client = ScanClient::Create(config);
  client->StartChoosing("esx-2", nullptr);
  EXPECT_EQ(client->ChoiceStatus().svms_size(), 1);
}

TEST_F(SvmFailoverTest, SigkillWhileScanningLosesNoScanAndTheOwnHostSvmIsBackAfterRestart) {
  v1::AgentConfig config = AgentConfigFor("esx-1", {svms_[0]->address()});
  std::unique_ptr<ScanClient> client = ScanClient::Create(config);
  client->StartChoosing("esx-1", nullptr);
  ASSERT_EQ(First(*client), svms_[0]->address());

  // Four VM threads scan without pause, clean mail and EICAR alike; esx-1's SVM is killed.
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0}, on_own{0}, elsewhere_after_kill{0};
  std::atomic<bool> killed{false};
  std::string last_error;
  std::mutex error_mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        const bool infected = (i + t) % 3 == 0;
        const std::string mail =
            infected ? MailWithAttachment("e.com", "application/octet-stream", Eicar())
                     : PlainMail(absl::StrCat("m", t, "-", i), "body\n");
        absl::StatusOr<ScanResponse> r = client->Scan(Metadata(config), mail);
        if (!r.ok()) {
          ++failed;
          std::lock_guard<std::mutex> lock(error_mu);
          last_error = std::string(r.status().message());
          continue;
        }
        ++ok;
        EXPECT_EQ(r->result.verdict() == v1::INFECTED, infected) << r->result.DebugString();
        if (r->server == svms_[0]->address()) {
          ++on_own;
        } else if (killed.load()) {
          ++elsewhere_after_kill;
        }
      }
    });
  }
  absl::SleepFor(absl::Seconds(1));
  ASSERT_GT(on_own.load(), 0);
  svms_[0]->Kill();
  killed = true;
  const absl::Time killed_at = absl::Now();
  // The next scans go elsewhere, without waiting out connect_timeout (3 s) per message.
  while (elsewhere_after_kill.load() < 20 && absl::Now() - killed_at < absl::Seconds(20)) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  const absl::Duration to_twenty = absl::Now() - killed_at;
  EXPECT_GE(elsewhere_after_kill.load(), 20);
  EXPECT_LT(to_twenty, absl::Seconds(3)) << "failover waited for the dead SVM";
  EXPECT_NE(First(*client), svms_[0]->address());
  EXPECT_EQ(client->ChoiceStatus().svms(2).state(), "down");

  // esx-1's SVM comes back on its port: the agent returns to it at a refresh.
  svms_[0]->Start();
  EXPECT_TRUE(WaitForFirst(*client, svms_[0]->address(), absl::Seconds(5)))
      << client->ChoiceStatus().DebugString();
  const int own_before = on_own.load();
  absl::SleepFor(absl::Milliseconds(500));
  stop = true;
  for (std::thread& t : threads) t.join();
  EXPECT_GT(on_own.load(), own_before);
  EXPECT_EQ(failed.load(), 0) << last_error;
  EXPECT_GT(ok.load(), 40);
}

TEST_F(SvmFailoverTest, AListenerThatNeverAnswersIsTriedLastAfterOneAttempt) {
  // Something accepts TCP on the own host's address and never speaks.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 16), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const std::string hung = absl::StrCat("127.0.0.1:", ntohs(addr.sin_port));

  v1::AgentConfig config = AgentConfigFor("esx-9", {hung, svms_[1]->address()});
  config.set_connect_timeout_ms(1500);
  config.mutable_svm_choice()->set_discover(false);
  std::unique_ptr<ScanClient> client = ScanClient::Create(config);  // one-shot: no refreshes
  ASSERT_EQ(First(*client), hung);
  absl::Time start = absl::Now();
  absl::StatusOr<ScanResponse> r = client->Scan(Metadata(config), PlainMail("a", "b\n"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->server, svms_[1]->address());
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));  // the call's own deadline is far away
  v1::SvmChoiceStatus status = client->ChoiceStatus();
  EXPECT_EQ(status.svms(0).svm().address(), svms_[1]->address());
  EXPECT_EQ(status.svms(1).state(), "down");
  EXPECT_THAT(status.svms(1).last_error(), HasSubstr("not reachable"));
  // The next messages go straight to the SVM that answers.
  for (int i = 0; i < 5; ++i) {
    r = client->Scan(Metadata(config), PlainMail("a", "b\n"));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->server, svms_[1]->address());
  }
  close(fd);
}

TEST_F(SvmFailoverTest, AnSvmStoppedInTheMiddleOfACallLosesTheMessageToTheNext) {
  v1::AgentConfig config = AgentConfigFor("esx-1", {svms_[0]->address()});
  std::unique_ptr<ScanClient> client = ScanClient::Create(config);
  client->StartChoosing("esx-1", nullptr);
  ASSERT_TRUE(client->Scan(Metadata(config), PlainMail("a", "b\n")).ok());  // connected
  // SIGSTOP: the TCP connection stays up, nothing answers.
  kill(svms_[0]->pid(), SIGSTOP);
  const absl::Time start = absl::Now();
  absl::StatusOr<ScanResponse> r = client->Scan(Metadata(config), PlainMail("c", "d\n"));
  const absl::Duration took = absl::Now() - start;
  kill(svms_[0]->pid(), SIGCONT);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NE(r->server, svms_[0]->address());
  // Keepalive (5 s + 5 s), not the call's deadline (timeout_ms, 300 s).
  EXPECT_LT(took, absl::Seconds(30));
}

TEST_F(SvmFailoverTest, StatusShowsTheRunningAgentsChoice) {
  const std::string state_dir = dir_ + "/agent-run";
  absl::StatusOr<AgentProcess> agent =
      StartAgent({"servers=" + svms_[0]->address(), "vm.id=desk-7", "vm.host=esx-2",
                  "state_dir=" + state_dir, "svm_choice.refresh_ms=300"});
  ASSERT_TRUE(agent.ok()) << agent.status();
  const std::string common = absl::StrCat(
      " --set servers=", svms_[0]->address(), " --set vm.id=desk-7 --set vm.host=esx-2",
      " --set state_dir=", state_dir, " --set svm_choice.refresh_ms=300");
  CommandRun run;
  for (int i = 0; i < 100; ++i) {
    run = Shell(absl::StrCat(VMSCAN_AGENT_BIN, " status", common));
    if (run.out.find("of the running agent") != std::string::npos) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("of the running agent"));
  EXPECT_THAT(run.out, HasSubstr("VM desk-7 on hypervisor host esx-2"));
  std::vector<std::string> lines = absl::StrSplit(run.out, '\n');
  ASSERT_GE(lines.size(), 5u) << run.out;
  EXPECT_THAT(lines[2], HasSubstr(svms_[1]->address()));
  EXPECT_THAT(lines[2], HasSubstr("<- next scan: on this VM's hypervisor host"));

  // The running agent notices the own host's SVM dying, and says so in its log and status.
  svms_[1]->Kill();
  bool moved = false;
  for (int i = 0; i < 100 && !moved; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    run = Shell(absl::StrCat(VMSCAN_AGENT_BIN, " status --json", common));
    v1::SvmChoiceStatus status;
    moved = google::protobuf::util::JsonStringToMessage(run.out, &status).ok() &&
            status.svms_size() == 3 && status.svms(0).svm().address() != svms_[1]->address() &&
            status.svms(2).state() == "down";
  }
  EXPECT_TRUE(moved) << run.out;
  absl::StatusOr<std::string> log = ReadFile(agent->log_file);
  ASSERT_TRUE(log.ok());
  EXPECT_THAT(*log, HasSubstr("SVM choice: " + svms_[1]->address()));
  EXPECT_THAT(*log, HasSubstr("; was " + svms_[1]->address()));

  // Without a running agent, status asks the SVMs itself.
  agent->process->Stop();
  run = Shell(absl::StrCat(VMSCAN_AGENT_BIN, " status --live", common));
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("asked now"));
}

}  // namespace
}  // namespace vmscan::testing
