// gRPC health checking and server reflection of the real vmscan-server binary
// (docs/design.md §7, "Health and reflection"): NOT_SERVING — and scans refused as UNAVAILABLE,
// never answered — while it loads its signature database; NOT_SERVING as soon as SIGTERM starts
// the drain, while a scan in flight still completes; reflection lists every service and
// describes them; `vmscanctl server health|services` as the probe an operator runs.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "google/protobuf/descriptor.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/integration/server_process.h"
#include "tests/smtp/smtp_peers.h"
#include "tests/testing/test_mail.h"
#include "tools/vmscanctl/probe_client.h"
#include "vmscan/v1/scan.grpc.pb.h"

namespace vmscan::testing {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

constexpr char kMessage[] =
    "From: a@example.com\r\nTo: b@example.com\r\nSubject: health\r\n\r\nHello.\r\n";

absl::StatusOr<ServerProcess> StartServer(const std::string& name, int port,
                                          const std::vector<std::string>& sets = {}) {
  return StartServerProcess(VMSCAN_SERVER_BIN, name, port, sets);
}

std::shared_ptr<grpc::Channel> ChannelTo(const ServerProcess& server) {
  return grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
}

// A Watch on the server as a whole; each Next() is the next status the server reports.
class HealthWatch {
 public:
  explicit HealthWatch(const std::shared_ptr<grpc::Channel>& channel)
      : stub_(grpc::health::v1::Health::NewStub(channel)) {
    context_.set_wait_for_ready(true);  // the server may not listen yet
    context_.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
    reader_ = stub_->Watch(&context_, HealthCheckRequest());
  }
  ~HealthWatch() { Close(); }
  // Ends the call: the server's shutdown waits for calls in flight, a Watch included.
  void Close() {
    if (reader_ == nullptr) return;
    context_.TryCancel();
    HealthCheckResponse ignored;
    while (reader_->Read(&ignored)) {
    }
    (void)reader_->Finish();
    reader_.reset();
  }
  HealthCheckResponse::ServingStatus Next() {
    HealthCheckResponse response;
    if (!reader_->Read(&response)) return HealthCheckResponse::UNKNOWN;
    return response.status();
  }

 private:
  std::unique_ptr<grpc::health::v1::Health::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<HealthCheckResponse>> reader_;
};

// One Scan stream, written in two halves so that a test can hold it in flight.
class ScanCall {
 public:
  explicit ScanCall(const std::shared_ptr<grpc::Channel>& channel)
      : stub_(v1::ScanService::NewStub(channel)) {
    context_.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    stream_ = stub_->Scan(&context_);
  }
  // The metadata and the first half of kMessage.
  bool Begin() {
    v1::ScanRequest request;
    v1::ScanMetadata* metadata = request.mutable_metadata();
    metadata->mutable_vm()->set_id("health-vm");
    metadata->set_channel(v1::CLI);
    metadata->set_direction(v1::INCOMING);
    const std::string message = kMessage;
    request.set_chunk(message.substr(0, message.size() / 2));
    return stream_->Write(request);
  }
  // The rest, then the SVM's answer.
  grpc::Status Finish(v1::ScanResult* result) {
    const std::string message = kMessage;
    v1::ScanRequest request;
    request.set_chunk(message.substr(message.size() / 2));
    stream_->Write(request);
    stream_->WritesDone();
    v1::ScanReply reply;
    while (stream_->Read(&reply)) {
      if (reply.has_result()) *result = reply.result();
    }
    return stream_->Finish();
  }

 private:
  std::unique_ptr<v1::ScanService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::ScanRequest, v1::ScanReply>> stream_;
};

grpc::Status ScanWhole(const std::shared_ptr<grpc::Channel>& channel, v1::ScanResult* result) {
  ScanCall call(channel);
  call.Begin();
  return call.Finish(result);
}

// A signature set big enough that libclamav takes seconds to load it: `count` hash signatures
// that match nothing the tests send, plus the bundled set.
std::string SlowSignatureDir(const std::string& parent, int count) {
  const std::string dir = parent + "/signatures";
  std::filesystem::create_directories(dir);
  std::filesystem::copy(SourcePath("deploy/signatures"), dir,
                        std::filesystem::copy_options::overwrite_existing);
  std::ofstream out(dir + "/load.hsb");
  for (int i = 0; i < count; ++i) {
    out << absl::StrFormat("%064x:%d:Vmscan.Test.Load-%d\n", i + 1, 1000 + i % 5000, i);
  }
  return dir;
}

TEST(HealthTest, NotServingAndScansUnavailableWhileTheSignaturesLoad) {
  const int port = FreePort();
  const std::string parent = TempDir("health-load-sigs");
  const std::string signatures = SlowSignatureDir(parent, 800000);
  absl::StatusOr<ServerProcess> server =
      StartServer("health-load", port, {absl::StrCat("signatures_dir=", signatures)});
  ASSERT_TRUE(server.ok()) << server.status();
  std::shared_ptr<grpc::Channel> channel = ChannelTo(*server);

  HealthWatch watch(channel);
  ASSERT_EQ(watch.Next(), HealthCheckResponse::NOT_SERVING)
      << "the server should listen, and say NOT_SERVING, before its engine is loaded";
  std::unique_ptr<ProbeClient> probe =
      ProbeClient::Create({server->address(), absl::Seconds(10), {}});
  absl::StatusOr<HealthStatus> scan_service = probe->Check("vmscan.v1.ScanService");
  ASSERT_TRUE(scan_service.ok()) << scan_service.status();
  EXPECT_EQ(*scan_service, HealthCheckResponse::NOT_SERVING);

  v1::ScanResult result;
  grpc::Status loading = ScanWhole(channel, &result);
  EXPECT_EQ(loading.error_code(), grpc::StatusCode::UNAVAILABLE) << loading.error_message();
  EXPECT_TRUE(absl::StrContains(loading.error_message(), "loading")) << loading.error_message();
  EXPECT_EQ(result.verdict(), v1::VERDICT_UNSPECIFIED) << "no verdict without an engine";

  EXPECT_EQ(watch.Next(), HealthCheckResponse::SERVING);
  grpc::Status scanned = ScanWhole(channel, &result);
  ASSERT_TRUE(scanned.ok()) << scanned.error_message();
  EXPECT_EQ(result.verdict(), v1::CLEAN);
  EXPECT_EQ(probe->Check("vmscan.v1.ScanService").value_or(HealthCheckResponse::UNKNOWN),
            HealthCheckResponse::SERVING);
  watch.Close();
  EXPECT_EQ(ExitCode(server->process->Stop()), 0);
}

TEST(HealthTest, NotServingAsSoonAsTheDrainStartsWhileAScanInFlightCompletes) {
  absl::StatusOr<ServerProcess> server = StartServer("health-drain", 0);
  ASSERT_TRUE(server.ok()) << server.status();
  std::shared_ptr<grpc::Channel> channel = ChannelTo(*server);
  HealthWatch watch(channel);
  ASSERT_EQ(watch.Next(), HealthCheckResponse::SERVING);

  ScanCall in_flight(channel);
  ASSERT_TRUE(in_flight.Begin());
  // The first half has reached the server once a second call has been answered after it.
  v1::ScanResult other;
  ASSERT_TRUE(ScanWhole(channel, &other).ok());

  server->process->Terminate();  // SIGTERM: drain
  EXPECT_EQ(watch.Next(), HealthCheckResponse::NOT_SERVING);
  watch.Close();

  v1::ScanResult result;
  grpc::Status drained = in_flight.Finish(&result);
  ASSERT_TRUE(drained.ok()) << drained.error_message();
  EXPECT_EQ(result.verdict(), v1::CLEAN);
  EXPECT_EQ(result.size(), std::string(kMessage).size());
  EXPECT_EQ(ExitCode(server->process->Stop()), 0);
}

TEST(HealthTest, ReflectionListsAndDescribesEveryService) {
  absl::StatusOr<ServerProcess> server = StartServer("health-reflection", 0);
  ASSERT_TRUE(server.ok()) << server.status();
  std::unique_ptr<ProbeClient> probe =
      ProbeClient::Create({server->address(), absl::Seconds(10), {}});
  absl::StatusOr<std::vector<std::string>> services = probe->ListServices();
  ASSERT_TRUE(services.ok()) << services.status();
  const std::vector<std::string> expected = {
      "grpc.health.v1.Health",  "grpc.reflection.v1alpha.ServerReflection",
      "vmscan.v1.AgentControl", "vmscan.v1.BackupAdmin",
      "vmscan.v1.EngineAdmin",  "vmscan.v1.InventoryAdmin",
      "vmscan.v1.PolicyAdmin",  "vmscan.v1.ScanService",
      "vmscan.v1.SvmDirectory"};
  EXPECT_EQ(*services, expected);

  for (const std::string& service : *services) {
    if (!absl::StartsWith(service, "vmscan.")) continue;
    absl::StatusOr<std::vector<std::string>> files = probe->FileContainingSymbol(service);
    ASSERT_TRUE(files.ok()) << service << ": " << files.status();
    google::protobuf::FileDescriptorProto file;
    ASSERT_TRUE(file.ParseFromString(files->front())) << service;
    std::set<std::string> defined;
    for (const auto& s : file.service()) defined.insert(file.package() + "." + s.name());
    EXPECT_TRUE(defined.count(service)) << service << " not in " << file.name();
  }
  absl::StatusOr<std::vector<std::string>> scan_files =
      probe->FileContainingSymbol("vmscan.v1.ScanService");
  ASSERT_TRUE(scan_files.ok());
  google::protobuf::FileDescriptorProto scan;
  ASSERT_TRUE(scan.ParseFromString(scan_files->front()));
  EXPECT_EQ(scan.name(), "vmscan/v1/scan.proto");
  EXPECT_FALSE(probe->FileContainingSymbol("vmscan.v1.NoSuchService").ok());

  // The operator's probe: vmscanctl.
  const std::string ctl = absl::StrCat(VMSCANCTL_BIN, " --server ", server->address());
  CommandRun health = Shell(ctl + " server health");
  EXPECT_EQ(health.exit_code, 0) << health.err;
  EXPECT_EQ(health.out, "SERVING\n");
  CommandRun scan_health = Shell(ctl + " server health --service vmscan.v1.ScanService --json");
  EXPECT_EQ(scan_health.exit_code, 0) << scan_health.err;
  EXPECT_TRUE(absl::StrContains(scan_health.out, "\"status\":\"SERVING\"")) << scan_health.out;
  CommandRun unknown = Shell(ctl + " server health --service vmscan.v1.NoSuchService");
  EXPECT_EQ(unknown.exit_code, 1) << unknown.out << unknown.err;
  CommandRun listed = Shell(ctl + " server services");
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  std::string lines;
  for (const std::string& service : expected) absl::StrAppend(&lines, service, "\n");
  EXPECT_EQ(listed.out, lines);

  EXPECT_EQ(ExitCode(server->process->Stop()), 0);
  CommandRun gone = Shell(ctl + " --timeout 2000 server health");
  EXPECT_EQ(gone.exit_code, 3) << gone.out << gone.err;
}

}  // namespace
}  // namespace vmscan::testing
