// End to end: a real vmscan-server (in-process, real gRPC and LMDB) and real
// `vmscan-agent run` processes for two VMs in different groups. A policy change reaches one VM's
// agent and scans within a second while the other's stay; a locked setting refuses
// `vmscan-agent settings set` (exit 77, naming the group); registration, heartbeat expiry
// (SIGKILL) and `vms move` show in the inventory.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/grpc_status.h"
#include "gtest/gtest.h"
#include "guest_agent/settings/settings_files.h"
#include "tests/integration/test_server.h"
#include "tests/integration/vmscanctl_runner.h"
#include "tests/smtp/agent_process.h"
#include "tests/smtp/smtp_peers.h"
#include "tests/testing/test_mail.h"
#include "vmscan/v1/control.grpc.pb.h"

namespace vmscan::testing {
namespace {

constexpr char kFinance[] = "Managed devices/Finance";
constexpr char kHr[] = "Managed devices/HR";

class ControlPlaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<HostServer>> server =
        StartTestServer({"control.heartbeat_timeout_ms=1500"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    auto channel = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
    inventory_ = v1::InventoryAdmin::NewStub(channel);
    policy_ = v1::PolicyAdmin::NewStub(channel);
    dir_ = TempDir("control-plane");
    std::ofstream(dir_ + "/eicar.eml")
        << MailWithAttachment("invoice.com", "application/octet-stream", Eicar());
  }

  // `vmscan-agent run` for one VM, no interceptor: registration, heartbeats, settings only.
  AgentProcess StartVmAgent(const std::string& id, const std::string& name) {
    absl::StatusOr<AgentProcess> agent =
        StartAgent({"servers=" + server_->address(), "vm.id=" + id, "vm.name=" + name,
                    "heartbeat_interval_ms=300", "connect_timeout_ms=1000"});
    EXPECT_TRUE(agent.ok()) << agent.status();
    return agent.ok() ? std::move(*agent) : AgentProcess{};
  }
  static std::string StateDir(const AgentProcess& agent) {
    return (std::filesystem::path(agent.log_file).parent_path() / "state").string();
  }
  static std::string Log(const AgentProcess& agent) {
    return ReadFile(agent.log_file).value_or("");
  }
  // The agent's options for one-shot commands on the same VM: same SVM, id and state dir.
  std::string AgentArgs(const AgentProcess& agent, const std::string& id) {
    return absl::StrCat(" --set servers=", server_->address(), " --set vm.id=", id,
                        " --set state_dir=", StateDir(agent), " --set connect_timeout_ms=1000");
  }

  absl::StatusOr<v1::ListVmsResponse> ListVms(const std::string& group = "") {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::ListVmsRequest request;
    request.set_group(group);
    v1::ListVmsResponse response;
    absl::Status status = FromGrpcStatus(inventory_->ListVms(&context, request, &response));
    if (!status.ok()) return status;
    return response;
  }
  std::optional<v1::VmRecord> FindVm(const std::string& id) {
    absl::StatusOr<v1::ListVmsResponse> vms = ListVms();
    if (!vms.ok()) return std::nullopt;
    for (const v1::VmRecord& vm : vms->vms()) {
      if (vm.vm().id() == id) return vm;
    }
    return std::nullopt;
  }
  v1::ConnectionState::Value State(const std::string& id) {
    std::optional<v1::VmRecord> vm = FindVm(id);
    return vm ? vm->state() : v1::ConnectionState::UNSPECIFIED;
  }
  absl::Status CreateGroup(const std::string& path) {
    grpc::ClientContext context;
    v1::CreateGroupRequest request;
    request.set_path(path);
    v1::Group group;
    return FromGrpcStatus(inventory_->CreateGroup(&context, request, &group));
  }
  absl::Status MoveVm(const std::string& vm, const std::string& group) {
    grpc::ClientContext context;
    v1::MoveVmRequest request;
    request.set_vm(vm);
    request.set_group(group);
    v1::VmRecord record;
    return FromGrpcStatus(inventory_->MoveVm(&context, request, &record));
  }
  // The value of `key` in the agent's settings.json (written from the settings stream).
  static std::string CachedValue(const AgentProcess& agent, const std::string& key,
                                 std::string* group = nullptr) {
    absl::StatusOr<std::optional<v1::VmSettings>> cached = ReadCachedSettings(StateDir(agent));
    if (!cached.ok() || !cached->has_value()) return "";
    if (group != nullptr) *group = (*cached)->group();
    for (const v1::EffectiveSetting& s : (*cached)->effective()) {
      if (s.key() == key) return s.value();
    }
    return "";
  }

  // vmscanctl against the test server, as the administrator runs it.
  CommandRun Ctl(const std::string& args) { return RunVmscanctl(server_->address(), args); }

  // `vmscan-agent scan` of an EICAR mail as VM `id`: the action the SVM chose.
  std::string ScanAction(const AgentProcess& agent, const std::string& id) {
    CommandRun run = Shell(
        absl::StrCat(VMSCAN_AGENT_BIN, " scan --json ", dir_, "/eicar.eml", AgentArgs(agent, id)));
    EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
    return v1::Action_Name(FromJson<v1::ScanResult>(run.out).action());
  }

  template <typename F>
  static bool Eventually(F done, absl::Duration limit) {
    const absl::Time end = absl::Now() + limit;
    while (absl::Now() < end) {
      if (done()) return true;
      absl::SleepFor(absl::Milliseconds(25));
    }
    return done();
  }

  std::unique_ptr<HostServer> server_;
  std::unique_ptr<v1::InventoryAdmin::Stub> inventory_;
  std::unique_ptr<v1::PolicyAdmin::Stub> policy_;
  std::string dir_;
};

TEST_F(ControlPlaneTest, TwoVmsInTwoGroupsPoliciesLocksAndTheInventory) {
  ASSERT_TRUE(CreateGroup(kFinance).ok());
  ASSERT_TRUE(CreateGroup(kHr).ok());
  AgentProcess fin = StartVmAgent("vm-fin", "fin-desk");
  AgentProcess hr = StartVmAgent("vm-hr", "hr-desk");
  ASSERT_TRUE(fin.process && hr.process);

  // Registration: both VMs appear, connected, with what their agents told the SVM.
  ASSERT_TRUE(Eventually(
      [&] {
        std::optional<v1::VmRecord> a = FindVm("vm-fin"), b = FindVm("vm-hr");
        return a && b && a->state() == v1::ConnectionState::CONNECTED &&
               b->state() == v1::ConnectionState::CONNECTED;
      },
      absl::Seconds(10)))
      << Log(fin) << Log(hr);
  std::optional<v1::VmRecord> fin_record = FindVm("vm-fin");
  ASSERT_TRUE(fin_record.has_value());
  EXPECT_EQ(fin_record->vm().name(), "fin-desk");
  EXPECT_EQ(fin_record->agent_version(), VMSCAN_VERSION);
  EXPECT_FALSE(fin_record->hypervisor_type().empty());
  EXPECT_EQ(fin_record->group(), "Managed devices");  // no rule: the default group

  // `vms move` shows in the list, and reaches each agent by its settings stream.
  CommandRun move = Ctl("vms move vm-fin 'Managed devices/Finance'");
  ASSERT_EQ(move.exit_code, 0) << move.out << move.err;
  ASSERT_TRUE(MoveVm("hr-desk", kHr).ok());  // by name
  absl::StatusOr<v1::ListVmsResponse> in_finance = ListVms(kFinance);
  ASSERT_TRUE(in_finance.ok()) << in_finance.status();
  ASSERT_EQ(in_finance->vms_size(), 1);
  EXPECT_EQ(in_finance->vms(0).vm().id(), "vm-fin");
  EXPECT_EQ(FindVm("vm-hr").value_or(v1::VmRecord()).group(), kHr);
  std::string fin_group, hr_group;
  EXPECT_TRUE(Eventually(
      [&] {
        CachedValue(fin, "action_on_threat", &fin_group);
        CachedValue(hr, "action_on_threat", &hr_group);
        return fin_group == kFinance && hr_group == kHr;
      },
      absl::Seconds(2)))
      << fin_group << " / " << hr_group << "\n"
      << Log(fin);
  EXPECT_EQ(ScanAction(fin, "vm-fin"), "DELIVER_DISINFECTED");  // AUTO for both so far
  EXPECT_EQ(ScanAction(hr, "vm-hr"), "DELIVER_DISINFECTED");

  // A policy change on Finance reaches the Finance VM within a second, not the HR VM.
  CommandRun set = Ctl("policy set 'Managed devices/Finance' action_on_threat=BLOCK");
  ASSERT_EQ(set.exit_code, 0) << set.out << set.err;
  const absl::Time changed = absl::Now();
  EXPECT_TRUE(
      Eventually([&] { return CachedValue(fin, "action_on_threat") == "BLOCK"; }, absl::Seconds(1)))
      << Log(fin);
  // The next scan, started within that second, gets the new action (its duration is the
  // machine's, not the control plane's, so only the start is timed).
  EXPECT_LT(absl::Now() - changed, absl::Seconds(1));
  EXPECT_EQ(ScanAction(fin, "vm-fin"), "BLOCK");
  EXPECT_EQ(ScanAction(hr, "vm-hr"), "DELIVER_DISINFECTED");
  EXPECT_EQ(CachedValue(hr, "action_on_threat"), "AUTO");
  EXPECT_TRUE(absl::StrContains(
      Log(fin),
      "settings: action_on_threat AUTO → BLOCK (policy of group Managed devices/Finance)"))
      << Log(fin);
  EXPECT_EQ(FindVm("vm-fin").value_or(v1::VmRecord()).effective_action(), "BLOCK");

  // A locked setting refuses the local change, naming the group; nothing is saved. HR's VM,
  // under no lock, may change it.
  CommandRun lock = Ctl("policy set 'Managed devices/Finance' on_unscannable=BLOCK --lock");
  ASSERT_EQ(lock.exit_code, 0) << lock.out << lock.err;
  CommandRun refused = Shell(absl::StrCat(
      VMSCAN_AGENT_BIN, " settings set mail_antivirus.on_unscannable=DELIVER_WITH_HEADER",
      AgentArgs(fin, "vm-fin")));
  EXPECT_EQ(refused.exit_code, 77) << refused.out << refused.err;
  EXPECT_TRUE(absl::StrContains(refused.err, kFinance)) << refused.err;
  EXPECT_FALSE(std::filesystem::exists(LocalSettingsPath(StateDir(fin))));
  CommandRun allowed =
      Shell(absl::StrCat(VMSCAN_AGENT_BIN, " settings set mail_antivirus.action_on_threat=DELETE",
                         AgentArgs(hr, "vm-hr")));
  EXPECT_EQ(allowed.exit_code, 0) << allowed.out << allowed.err;
  EXPECT_TRUE(std::filesystem::exists(LocalSettingsPath(StateDir(hr))));
  EXPECT_EQ(ScanAction(hr, "vm-hr"), "DELETE");
  CommandRun show =
      Shell(absl::StrCat(VMSCAN_AGENT_BIN, " settings show", AgentArgs(fin, "vm-fin")));
  EXPECT_EQ(show.exit_code, 0) << show.err;
  EXPECT_TRUE(absl::StrContains(show.out, "locked by group Managed devices/Finance")) << show.out;
  EXPECT_TRUE(absl::StrContains(show.out, "policy of group Managed devices/Finance")) << show.out;

  // Heartbeat expiry: the HR agent dies without a goodbye; its VM turns DISCONNECTED after the
  // server's heartbeat timeout (1.5 s) while the Finance VM, heartbeating, stays CONNECTED.
  kill(hr.process->pid(), SIGKILL);
  EXPECT_TRUE(Eventually([&] { return State("vm-hr") == v1::ConnectionState::DISCONNECTED; },
                         absl::Seconds(5)));
  EXPECT_EQ(State("vm-fin"), v1::ConnectionState::CONNECTED);
  CommandRun list = Ctl("vms list");
  EXPECT_EQ(list.exit_code, 0) << list.err;
  for (absl::string_view line : absl::StrSplit(list.out, '\n')) {
    if (absl::StrContains(line, "hr-desk")) {
      EXPECT_TRUE(absl::StrContains(line, "disconnected")) << list.out;
      EXPECT_TRUE(absl::StrContains(line, kHr)) << list.out;
    }
    if (absl::StrContains(line, "fin-desk")) {
      EXPECT_TRUE(absl::StrContains(line, "connected")) << list.out;
      EXPECT_FALSE(absl::StrContains(line, "disconnected")) << list.out;
      EXPECT_TRUE(absl::StrContains(line, kFinance)) << list.out;
    }
  }
  EXPECT_TRUE(absl::StrContains(list.out, "hr-desk") && absl::StrContains(list.out, "fin-desk"))
      << list.out;

  // A clean stop says goodbye: DISCONNECTED at once, well before the timeout.
  const int status = fin.process->Stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << Log(fin);
  EXPECT_EQ(State("vm-fin"), v1::ConnectionState::DISCONNECTED) << Log(fin);
  EXPECT_TRUE(absl::StrContains(Log(fin), "unregistered VM vm-fin")) << Log(fin);
}

}  // namespace
}  // namespace vmscan::testing
