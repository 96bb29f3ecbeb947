// The trust boundary end to end (docs/security.md): the real vmscan-server binary with mutual
// TLS, real vmscan-agent and vmscanctl binaries, certificates made by `vmscanctl pki`. Two VMs
// with their own certificates see only their own Backup records; every cross-VM attempt and every
// bad certificate is refused on both sides, logged on the SVM, nothing is scanned or delivered
// for the refused party, and the SVM keeps serving an honest VM meanwhile; restore brings a
// byte-identical original to the right VM only; certificate rotation while scanning drops no
// scan.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/sha256.h"
#include "common/tls/credentials.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "guest_agent/client/scan_client.h"
#include "guest_agent/config/agent_config.h"
#include "host_server/auth/authorizer.h"
#include "tests/smtp/smtp_peers.h"
#include "tests/testing/test_mail.h"
#include "vmscan/v1/admin.grpc.pb.h"
#include "vmscan/v1/control.grpc.pb.h"
#include "vmscan/v1/scan.grpc.pb.h"

namespace vmscan::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int kAgentRefused = 4;    // vmscan-agent scan: the SVM refused or failed
constexpr int kAgentNoScanner = 3;  // vmscan-agent scan: no SVM reachable
constexpr int kCtlUnreachable = 3;  // vmscanctl: the server cannot be reached

// A message with an EICAR attachment that AUTO disinfects (a Backup record is made).
std::string DisinfectableMail(const std::string& subject) {
  std::string mail = MailWithAttachment("eicar.com", "application/octet-stream", Eicar());
  return absl::StrCat("Subject: ", subject, "\n", mail);
}

class TrustBoundaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = TempDir("trust-boundary");
    pki_ = root_ + "/pki";
    ASSERT_EQ(Ctl("pki init " + pki_ + " --svm-name svm-1", /*tls=*/false).exit_code, 0);
    ASSERT_EQ(Ctl("pki issue-vm --id vm-a --name desk-a " + pki_, false).exit_code, 0);
    ASSERT_EQ(Ctl("pki issue-vm --id vm-b --name desk-b " + pki_, false).exit_code, 0);
    StartServer();
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Stop();
    if (!HasFailure()) std::filesystem::remove_all(root_);
  }

  void StartServer() {
    const std::string port_file = root_ + "/server.port";
    std::filesystem::remove(port_file);
    absl::StatusOr<std::unique_ptr<ChildProcess>> server =
        ChildProcess::Start({VMSCAN_SERVER_BIN,
                             "--port-file",
                             port_file,
                             "--set",
                             "listen=127.0.0.1:0",
                             "--set",
                             "state_dir=" + root_ + "/state",
                             "--set",
                             "tls.insecure_loopback=false",
                             "--set",
                             "tls.cert_file=" + pki_ + "/svm/svm-1.pem",
                             "--set",
                             "tls.key_file=" + pki_ + "/svm/svm-1.key",
                             "--set",
                             "tls.ca_file=" + pki_ + "/ca.pem",
                             "--set",
                             "tls.crl_file=" + pki_ + "/crl.pem",
                             "--set",
                             "tls.reload_interval_s=1",
                             "--set",
                             "control.heartbeat_timeout_ms=60000"},
                            root_ + "/server.log");
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    port_ = WaitForPortFile(port_file);
    ASSERT_GT(port_, 0) << ServerLog();
  }

  static int WaitForPortFile(const std::string& path) {
    for (int i = 0; i < 300; ++i) {
      std::ifstream in(path);
      int port = 0;
      if (in >> port && port > 0) return port;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return 0;
  }

  std::string Address() const { return absl::StrCat("127.0.0.1:", port_); }
  std::string ServerLog() const { return ReadFile(root_ + "/server.log").value_or(""); }

  // vmscanctl with the first administrator's certificate (or none).
  CommandRun Ctl(const std::string& args, bool tls = true, const std::string& cert_dir = "") {
    const std::string pki = cert_dir.empty() ? pki_ : cert_dir;
    std::string cmd = VMSCANCTL_BIN;
    if (tls) {
      absl::StrAppend(&cmd, " --server ", Address(), " --cert ", pki, "/admin/admin.pem --key ",
                      pki, "/admin/admin.key --cacert ", pki_, "/ca.pem");
    }
    return Shell(absl::StrCat(cmd, " --timeout 15000 ", args));
  }

  // An agent config for `vm` (a VM certificate of `pki`, default ours) and returns its path.
  std::string AgentConfig(const std::string& vm, const std::string& pki = "",
                          const std::string& extra = "") {
    const std::string dir = pki.empty() ? pki_ : pki;
    const std::string path = absl::StrCat(root_, "/agent-", vm, ".yaml");
    std::ofstream(path) << "servers: [\"" << Address() << "\"]\n"
                        << "state_dir: " << root_ << "/agent-" << vm << "\n"
                        << "connect_timeout_ms: 2000\ntimeout_ms: 20000\n"
                        << "heartbeat_interval_ms: 200\n"
                        << "tls:\n  cert_file: " << dir << "/vm/" << vm << ".pem\n"
                        << "  key_file: " << dir << "/vm/" << vm << ".key\n"
                        << "  ca_file: " << pki_ << "/ca.pem\n"
                        << "  insecure_loopback: false\n  reload_interval_s: 1\n"
                        << extra;
    return path;
  }

  // `vmscan-agent ARGS --config <vm's config>` with `message` on standard input when given.
  CommandRun Agent(const std::string& vm, const std::string& args, const std::string& message = "",
                   const std::string& pki = "") {
    std::string cmd = absl::StrCat(VMSCAN_AGENT_BIN, " ", args, " --config ", AgentConfig(vm, pki));
    if (!message.empty()) {
      const std::string input = absl::StrCat(root_, "/in-", vm, ".eml");
      std::ofstream(input, std::ios::binary) << message;
      cmd = absl::StrCat(cmd, " < ", input);
    }
    return Shell(cmd);
  }

  // Scans `message` as `vm` (CLI channel, incoming) and returns the backup id, if one was made.
  std::string ScanAs(const std::string& vm, const std::string& message) {
    CommandRun run = Agent(vm, "scan --json -", message);
    EXPECT_EQ(run.exit_code, 1) << run.err;  // infected
    std::string id;
    const size_t at = run.out.find("\"backupId\":");
    if (at != std::string::npos) {
      const size_t start = run.out.find('"', at + 11) + 1;
      id = run.out.substr(start, run.out.find('"', start) - start);
    }
    return id;
  }

  // A gRPC channel to the server with `vm`'s certificate (or the admin's).
  std::shared_ptr<grpc::Channel> Channel(const std::string& cert, const std::string& key) {
    v1::TlsConfig tls;
    tls.set_cert_file(cert);
    tls.set_key_file(key);
    tls.set_ca_file(pki_ + "/ca.pem");
    grpc::ChannelArguments args;
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds =
        MakeChannelCredentials(tls, Address(), &args);
    EXPECT_TRUE(creds.ok()) << creds.status();
    return grpc::CreateCustomChannel(Address(), *creds, args);
  }
  std::shared_ptr<grpc::Channel> VmChannel(const std::string& vm) {
    return Channel(absl::StrCat(pki_, "/vm/", vm, ".pem"), absl::StrCat(pki_, "/vm/", vm, ".key"));
  }

  int ScanLines(const std::string& vm) const {
    const std::string log = ServerLog();
    int n = 0;
    for (size_t at = 0; (at = log.find("scan vm=" + vm + " ", at)) != std::string::npos; ++at) {
      ++n;
    }
    return n;
  }

  std::string root_, pki_;
  std::unique_ptr<ChildProcess> server_;
  int port_ = 0;
};

TEST_F(TrustBoundaryTest, EachVmSeesOnlyItsOwnBackupsAndAnAdministratorSeesAll) {
  const std::string a = ScanAs("vm-a", DisinfectableMail("mail of a"));
  const std::string b = ScanAs("vm-b", DisinfectableMail("mail of b"));
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(b.empty());

  CommandRun list_a = Agent("vm-a", "backup list");
  ASSERT_EQ(list_a.exit_code, 0) << list_a.err;
  EXPECT_THAT(list_a.out, HasSubstr(a));
  EXPECT_THAT(list_a.out, Not(HasSubstr(b)));
  CommandRun list_b = Agent("vm-b", "backup list");
  ASSERT_EQ(list_b.exit_code, 0) << list_b.err;
  EXPECT_THAT(list_b.out, HasSubstr(b));
  EXPECT_THAT(list_b.out, Not(HasSubstr(a)));

  CommandRun admin = Ctl("backup list");
  ASSERT_EQ(admin.exit_code, 0) << admin.err;
  EXPECT_THAT(admin.out, HasSubstr(a));
  EXPECT_THAT(admin.out, HasSubstr(b));
  // The VM's identity came from its certificate: name from the CN, group recorded.
  CommandRun show = Ctl("--json backup show " + a);
  EXPECT_THAT(show.out, HasSubstr("\"id\":\"vm-a\""));
  EXPECT_THAT(show.out, HasSubstr("\"group\":\"Managed devices\""));

  // A VM cannot restore or even see another VM's record.
  CommandRun steal = Agent("vm-b", "backup restore " + a + " --dir " + root_ + "/stolen");
  EXPECT_EQ(steal.exit_code, 1) << steal.out << steal.err;
  EXPECT_FALSE(std::filesystem::exists(root_ + "/stolen/" + a + ".eml"));
}

TEST_F(TrustBoundaryTest, RestoreBringsTheOriginalBackToTheRightVmOnly) {
  const std::string original = DisinfectableMail("restore me");
  const std::string id = ScanAs("vm-a", original);
  ASSERT_FALSE(id.empty());
  const std::string other = ScanAs("vm-b", DisinfectableMail("not yours"));

  // The VM restores on its own.
  CommandRun own = Agent("vm-a", "backup restore " + id + " --dir " + root_ + "/mine");
  ASSERT_EQ(own.exit_code, 0) << own.err;
  absl::StatusOr<std::string> written = ReadFile(root_ + "/mine/" + id + ".eml");
  ASSERT_TRUE(written.ok());
  EXPECT_EQ(Sha256Hex(*written), Sha256Hex(original));
  struct stat st = {};
  ASSERT_EQ(stat((root_ + "/mine/" + id + ".eml").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // An administrator sends it back: the running agent of vm-a writes it, vm-b's does not.
  const std::string restore_a = root_ + "/restored-a";
  const std::string restore_b = root_ + "/restored-b";
  absl::StatusOr<std::unique_ptr<ChildProcess>> agent_a =
      ChildProcess::Start({VMSCAN_AGENT_BIN, "run", "--config",
                           AgentConfig("vm-a", "", "restore_dir: " + restore_a + "\n")},
                          root_ + "/agent-a.log");
  absl::StatusOr<std::unique_ptr<ChildProcess>> agent_b =
      ChildProcess::Start({VMSCAN_AGENT_BIN, "run", "--config",
                           AgentConfig("vm-b", "", "restore_dir: " + restore_b + "\n")},
                          root_ + "/agent-b.log");
  ASSERT_TRUE(agent_a.ok() && agent_b.ok());
  CommandRun sent = Ctl("backup restore " + id + " --wait");
  EXPECT_EQ(sent.exit_code, 0) << sent.out << sent.err
                               << ReadFile(root_ + "/agent-a.log").value_or("");
  EXPECT_THAT(sent.out, HasSubstr(restore_a + "/" + id + ".eml"));
  absl::StatusOr<std::string> restored = ReadFile(restore_a + "/" + id + ".eml");
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(*restored, original);  // byte for byte
  EXPECT_FALSE(std::filesystem::exists(restore_b + "/" + id + ".eml"));
  (*agent_a)->Stop();
  (*agent_b)->Stop();

  // The record says who restored it, when and where.
  CommandRun show = Ctl("--json backup show " + id);
  EXPECT_THAT(show.out, HasSubstr("administrator admin"));
  EXPECT_THAT(show.out, HasSubstr("VM vm-a"));
  EXPECT_THAT(show.out, HasSubstr(restore_a));
  EXPECT_THAT(Ctl("--json backup show " + other).out, HasSubstr("\"restores\":[]"));
}

TEST_F(TrustBoundaryTest, AVmCannotActForAnotherVm) {
  std::shared_ptr<grpc::Channel> channel = VmChannel("vm-a");
  const int b_scans = ScanLines("vm-b");
  {  // a scan whose metadata names vm-b
    auto stub = v1::ScanService::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    auto stream = stub->Scan(&context);
    v1::ScanRequest request;
    request.mutable_metadata()->mutable_vm()->set_id("vm-b");
    request.set_chunk(DisinfectableMail("as b"));
    stream->Write(request);
    stream->WritesDone();
    v1::ScanReply reply;
    while (stream->Read(&reply)) {
    }
    grpc::Status status = stream->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr("may not act for VM 'vm-b'"));
  }
  auto control = v1::AgentControl::NewStub(channel);
  auto call = [&](auto method, const auto& request, auto* response) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    return (control.get()->*method)(&context, request, response);
  };
  v1::RegisterRequest reg;
  reg.mutable_vm()->set_id("vm-b");
  v1::VmSettings settings;
  EXPECT_EQ(call(&v1::AgentControl::Stub::Register, reg, &settings).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::HeartbeatRequest beat;
  beat.set_vm_id("vm-b");
  v1::HeartbeatResponse beat_reply;
  EXPECT_EQ(call(&v1::AgentControl::Stub::Heartbeat, beat, &beat_reply).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::UpdateLocalSettingsRequest update;
  update.set_vm_id("vm-b");
  EXPECT_EQ(call(&v1::AgentControl::Stub::UpdateLocalSettings, update, &settings).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::WatchSettingsRequest watch;
    watch.set_vm_id("vm-b");
    auto reader = control->WatchSettings(&context, watch);
    while (reader->Read(&settings)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  // Its own identity works.
  reg.mutable_vm()->set_id("vm-a");
  EXPECT_TRUE(call(&v1::AgentControl::Stub::Register, reg, &settings).ok());
  // Logged with both identities and the address; nothing was scanned for vm-b.
  const std::string log = ServerLog();
  EXPECT_THAT(
      log,
      HasSubstr("/vmscan.v1.ScanService/Scan refused for VM vm-a (desk-a) at ipv4:127.0.0.1:"));
  EXPECT_THAT(log, HasSubstr("it names VM 'vm-b'"));
  EXPECT_EQ(ScanLines("vm-b"), b_scans);
}

TEST_F(TrustBoundaryTest, AVmCertificateCallsNoAdministrativeRpcAndAnAdminCallsThemAll) {
  grpc::GenericStub vm(VmChannel("vm-a"));
  grpc::GenericStub admin(Channel(pki_ + "/admin/admin.pem", pki_ + "/admin/admin.key"));
  auto call = [](grpc::GenericStub& stub, absl::string_view method) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    grpc::Slice empty(std::string(""));
    grpc::ByteBuffer request(&empty, 1);  // an empty message: every field at its default
    grpc::ByteBuffer response;
    grpc::Status result;
    absl::Notification done;
    stub.UnaryCall(&context, std::string(method), grpc::StubOptions(), &request, &response,
                   [&](grpc::Status s) {
                     result = s;
                     done.Notify();
                   });
    done.WaitForNotification();
    return result;
  };
  int admin_rpcs = 0;
  for (const RpcRule& rule : RpcRules()) {
    if (rule.callers & kVmCallers) continue;
    if (absl::StrContains(rule.method, "Export")) continue;  // streaming; VMs may call it anyway
    ++admin_rpcs;
    grpc::Status as_vm = call(vm, rule.method);
    EXPECT_EQ(as_vm.error_code(), grpc::StatusCode::PERMISSION_DENIED) << rule.method;
    grpc::Status as_admin = call(admin, rule.method);
    EXPECT_NE(as_admin.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << rule.method << ": " << as_admin.error_message();
    EXPECT_NE(as_admin.error_code(), grpc::StatusCode::UNIMPLEMENTED) << rule.method;
  }
  EXPECT_GE(admin_rpcs, 19);
  EXPECT_THAT(ServerLog(), HasSubstr("/vmscan.v1.PolicyAdmin/UpdatePolicy refused for VM vm-a"));
  // vmscanctl with a VM's certificate is refused the same way.
  CommandRun ctl = Shell(absl::StrCat(VMSCANCTL_BIN, " --server ", Address(), " --cert ", pki_,
                                      "/vm/vm-a.pem --key ", pki_, "/vm/vm-a.key --cacert ", pki_,
                                      "/ca.pem groups list"));
  EXPECT_EQ(ctl.exit_code, 2) << ctl.out << ctl.err;
  EXPECT_THAT(ctl.err, HasSubstr("for administrators only"));
}

// Keeps scanning as vm-a while bad callers try their luck; every honest scan must succeed.
class HonestVm {
 public:
  explicit HonestVm(const v1::AgentConfig& config) : client_(ScanClient::Create(config)) {
    thread_ = std::thread([this] {
      v1::ScanMetadata metadata;
      metadata.mutable_vm()->set_id("vm-a");
      metadata.set_channel(v1::CLI);
      metadata.set_direction(v1::INCOMING);
      while (!stop_.load()) {
        absl::StatusOr<ScanResponse> r = client_->Scan(metadata, PlainMail("honest", "hello"));
        (r.ok() && r->result.verdict() == v1::CLEAN ? ok_ : failed_)++;
        if (!r.ok()) last_error_ = std::string(r.status().message());
      }
    });
  }
  ~HonestVm() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int ok() const { return ok_; }
  int failed() const { return failed_; }
  const std::string& last_error() const { return last_error_; }

 private:
  std::unique_ptr<ScanClient> client_;
  std::atomic<bool> stop_{false};
  std::atomic<int> ok_{0}, failed_{0};
  std::string last_error_;
  std::thread thread_;
};

TEST_F(TrustBoundaryTest, BadCertificatesAndBadBytesAreRefusedWhileAnHonestVmIsServed) {
  absl::StatusOr<v1::AgentConfig> honest_config = LoadAgentConfig(AgentConfig("vm-a"), {});
  ASSERT_TRUE(honest_config.ok()) << honest_config.status();
  HonestVm honest(*honest_config);
  const std::string mail = DisinfectableMail("bad");

  // A VM certificate of an unknown CA.
  const std::string other = root_ + "/other-pki";
  ASSERT_EQ(Ctl("pki init " + other, false).exit_code, 0);
  ASSERT_EQ(Ctl("pki issue-vm --id vm-x --name x " + other, false).exit_code, 0);
  CommandRun stranger = Agent("vm-x", "scan -", mail, other);
  EXPECT_EQ(stranger.exit_code, kAgentRefused) << stranger.out << stranger.err;
  EXPECT_THAT(stranger.err, HasSubstr("TLS handshake failed"));

  // An expired client certificate.
  ASSERT_EQ(Ctl("pki issue-vm --id vm-old --name old --not-before 2020-01-01T00:00:00Z "
                "--not-after 2020-02-01T00:00:00Z " +
                    pki_,
                false)
                .exit_code,
            0);
  CommandRun expired = Agent("vm-old", "scan -", mail);
  EXPECT_EQ(expired.exit_code, kAgentRefused) << expired.err;
  EXPECT_THAT(expired.err, HasSubstr("expired"));  // the agent says so at start, loudly

  // An admin certificate of a wrong CA.
  CommandRun wrong_admin = Ctl("backup list", true, other);
  EXPECT_EQ(wrong_admin.exit_code, kCtlUnreachable) << wrong_admin.err;
  EXPECT_THAT(wrong_admin.err, HasSubstr("TLS handshake failed"));

  // A revoked certificate: refused at the next connection.
  ASSERT_EQ(Agent("vm-b", "scan -", PlainMail("before", "x")).exit_code, 0);
  ASSERT_EQ(Ctl("pki revoke " + pki_ + " --vm vm-b", false).exit_code, 0);
  absl::SleepFor(absl::Milliseconds(1500));  // tls.reload_interval_s=1
  const int b_scans = ScanLines("vm-b");
  CommandRun revoked = Agent("vm-b", "scan -", mail);
  EXPECT_EQ(revoked.exit_code, kAgentRefused) << revoked.err;
  EXPECT_EQ(ScanLines("vm-b"), b_scans);

  // A plaintext client of the TLS port: no scanner, nothing scanned.
  {
    std::ofstream(root_ + "/plain.eml") << mail;
    CommandRun p = Shell(absl::StrCat(VMSCAN_AGENT_BIN, " scan --set servers=", Address(),
                                      " --set connect_timeout_ms=2000 ", root_, "/plain.eml"));
    EXPECT_EQ(p.exit_code, kAgentNoScanner) << p.err;
  }

  // A truncated handshake and garbage on the port.
  for (const std::string& bytes :
       {std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11),
        std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n") + RandomBytes(4096)}) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ASSERT_GT(write(fd, bytes.data(), bytes.size()), 0);
    close(fd);
  }

  absl::SleepFor(absl::Milliseconds(500));
  honest.Stop();
  EXPECT_GT(honest.ok(), 0);
  EXPECT_EQ(honest.failed(), 0) << honest.last_error();
  // The SVM logged the refusals; it is still up.
  const std::string log = ServerLog();
  EXPECT_THAT(log, HasSubstr("certificate verify failed"));
  EXPECT_THAT(log, HasSubstr("is revoked"));
  EXPECT_EQ(Agent("vm-a", "scan -", PlainMail("after", "x")).exit_code, 0);
}

TEST_F(TrustBoundaryTest, ATlsClientOfAPlaintextSvmIsRefusedNotDeliveredUnscanned) {
  server_->Stop();
  const std::string port_file = root_ + "/plain.port";
  absl::StatusOr<std::unique_ptr<ChildProcess>> plain =
      ChildProcess::Start({VMSCAN_SERVER_BIN, "--port-file", port_file, "--set",
                           "listen=127.0.0.1:0", "--set", "state_dir=" + root_ + "/plain-state"},
                          root_ + "/plain.log");
  ASSERT_TRUE(plain.ok());
  port_ = WaitForPortFile(port_file);
  ASSERT_GT(port_, 0);
  std::ofstream(root_ + "/m.eml") << DisinfectableMail("m");
  CommandRun run = Shell(absl::StrCat(VMSCAN_AGENT_BIN, " scan --config ", AgentConfig("vm-a"),
                                      " --set on_no_scanner=DELIVER_UNSCANNED --output ", root_,
                                      "/out.eml ", root_, "/m.eml"));
  EXPECT_EQ(run.exit_code, kAgentRefused) << run.err;
  EXPECT_FALSE(std::filesystem::exists(root_ + "/out.eml"));
  (*plain)->Stop();
}

TEST_F(TrustBoundaryTest, CertificateRotationWhileScanningDropsNoScan) {
  absl::StatusOr<v1::AgentConfig> config = LoadAgentConfig(AgentConfig("vm-a"), {});
  ASSERT_TRUE(config.ok());
  HonestVm scanning(*config);
  const std::string before = Ctl("pki list " + pki_, false).out;
  absl::SleepFor(absl::Milliseconds(300));
  // New SVM certificate and new VM certificate, written over the files both ends watch.
  ASSERT_EQ(
      Ctl("pki issue-svm --name svm-1 --dns localhost --ip 127.0.0.1 " + pki_, false).exit_code, 0);
  ASSERT_EQ(Ctl("pki issue-vm --id vm-a --name desk-a " + pki_, false).exit_code, 0);
  absl::SleepFor(absl::Milliseconds(2500));  // both watchers (1 s) have reloaded
  scanning.Stop();
  EXPECT_GT(scanning.ok(), 10);
  EXPECT_EQ(scanning.failed(), 0) << scanning.last_error();
  EXPECT_NE(Ctl("pki list " + pki_, false).out, before);
  // New connections get the new certificate: a fresh agent with it scans fine.
  EXPECT_EQ(Agent("vm-a", "scan -", PlainMail("rotated", "x")).exit_code, 0);
}

}  // namespace
}  // namespace vmscan::testing
