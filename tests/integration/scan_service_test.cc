// The SVM end to end over gRPC: real server, real libclamav, bundled signatures, real client.
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/test_server.h"
#include "tests/testing/test_mail.h"
#include "vmscan/v1/scan.grpc.pb.h"

namespace vmscan::testing {
namespace {

class ScanServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<HostServer>> server = StartTestServer();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
    client_ = ClientFor(*server_).release();
  }
  static void TearDownTestSuite() {
    delete client_;
    delete server_;
  }

  static absl::StatusOr<ScanResponse> Scan(absl::string_view message, v1::Channel channel = v1::CLI,
                                           v1::Direction direction = v1::INCOMING) {
    return client_->Scan(TestMetadata(channel, direction), message);
  }

  static HostServer* server_;
  static ScanClient* client_;
};

HostServer* ScanServiceTest::server_ = nullptr;
ScanClient* ScanServiceTest::client_ = nullptr;

TEST_F(ScanServiceTest, CleanMessageIsCleanAndDelivered) {
  absl::StatusOr<std::string> msg = ReadFile(SourcePath("deploy/samples/clean.eml"));
  ASSERT_TRUE(msg.ok());
  absl::StatusOr<ScanResponse> r = Scan(*msg);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->result.verdict(), v1::CLEAN);
  EXPECT_EQ(r->result.action(), v1::DELIVER);
  EXPECT_EQ(r->result.threats_size(), 0);
  EXPECT_EQ(r->result.size(), msg->size());
  EXPECT_EQ(r->result.sha256().size(), 64u);
  EXPECT_FALSE(r->result.signature_version().empty());
}

TEST_F(ScanServiceTest, EicarAttachmentIsInfectedAndNamesTheAttachment) {
  absl::StatusOr<ScanResponse> r =
      Scan(MailWithAttachment("invoice.com", "application/octet-stream", Eicar()));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->result.verdict(), v1::INFECTED);
  ASSERT_GE(r->result.threats_size(), 1);
  const v1::Threat& t = r->result.threats(0);
  EXPECT_TRUE(absl::StartsWith(t.name(), "Eicar-Test-Signature")) << t.name();
  EXPECT_EQ(t.filename(), "invoice.com");
  EXPECT_EQ(t.content_type(), "application/octet-stream");
  EXPECT_FALSE(t.part_path().empty());
}

TEST_F(ScanServiceTest, EicarInZipInMailIsInfected) {
  absl::StatusOr<std::string> zip = MakeZip({{"report.com", Eicar()}, {"notes.txt", "hello"}});
  ASSERT_TRUE(zip.ok()) << zip.status();
  absl::StatusOr<ScanResponse> r = Scan(MailWithAttachment("docs.zip", "application/zip", *zip));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->result.verdict(), v1::INFECTED);
  ASSERT_GE(r->result.threats_size(), 1);
  EXPECT_EQ(r->result.threats(0).filename(), "docs.zip");
}

TEST_F(ScanServiceTest, EveryClamavTestFileAttachedIsInfected) {
  const std::filesystem::path dir("/usr/share/clamav-testfiles");
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    absl::StatusOr<std::string> data = ReadFile(entry.path().string());
    ASSERT_TRUE(data.ok());
    std::string name = entry.path().filename().string();
    absl::StatusOr<ScanResponse> r =
        Scan(MailWithAttachment(name, "application/octet-stream", *data));
    ASSERT_TRUE(r.ok()) << name << ": " << r.status();
    EXPECT_EQ(r->result.verdict(), v1::INFECTED) << name;
  }
  EXPECT_EQ(files, 44);
}

TEST_F(ScanServiceTest, EncryptedZipIsUnscannableNotClean) {
  absl::StatusOr<std::string> zip = MakeZip({{"secret.txt", "harmless but locked"}}, "s3cret");
  ASSERT_TRUE(zip.ok()) << zip.status();
  absl::StatusOr<ScanResponse> r = Scan(MailWithAttachment("locked.zip", "application/zip", *zip));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->result.verdict(), v1::UNSCANNABLE);
  EXPECT_EQ(r->result.unscannable_reason(), v1::ENCRYPTED);
  EXPECT_EQ(r->result.action(), v1::DELIVER);  // on_unscannable default: deliver with header
  EXPECT_EQ(r->result.action_reason(), "mail_antivirus.on_unscannable=DELIVER_WITH_HEADER");
}

TEST_F(ScanServiceTest, RealWorldMessagesAreNotFlagged) {
  const std::vector<CorpusMessage> corpus = PythonEmailCorpus();
  ASSERT_EQ(corpus.size(), 47u) << "install libpython3.11-testsuite";
  for (const auto& [name, msg] : corpus) {
    absl::StatusOr<ScanResponse> r = Scan(msg);
    ASSERT_TRUE(r.ok()) << name << ": " << r.status();
    EXPECT_NE(r->result.verdict(), v1::INFECTED) << name;
  }
}

TEST_F(ScanServiceTest, OutgoingSmtpThreatIsBlocked) {
  absl::StatusOr<std::string> msg = ReadFile(SourcePath("deploy/samples/outgoing-smtp.eml"));
  ASSERT_TRUE(msg.ok());
  absl::StatusOr<ScanResponse> r = Scan(*msg, v1::SMTP, v1::OUTGOING);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->result.verdict(), v1::INFECTED);
  EXPECT_EQ(r->result.action(), v1::BLOCK);
  EXPECT_TRUE(r->result.backup_id().empty());  // blocked messages are not backed up
}

TEST_F(ScanServiceTest, ThreatOnlyInHeadersIsFoundWithoutAPart) {
  std::string msg = absl::StrCat("From: a@example.org\r\nX-Payload: ", Eicar(),
                                 "\r\nSubject: header\r\n\r\nplain body\r\n");
  absl::StatusOr<ScanResponse> r = Scan(msg);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->result.verdict(), v1::INFECTED);
  ASSERT_GE(r->result.threats_size(), 1);
  EXPECT_TRUE(r->result.threats(0).part_path().empty());
}

TEST_F(ScanServiceTest, BinaryGarbageGetsAVerdictNotACrash) {
  std::string garbage;
  for (int i = 0; i < 100000; ++i) garbage.push_back(static_cast<char>((i * 7919) % 256));
  absl::StatusOr<ScanResponse> r = Scan(garbage);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NE(r->result.verdict(), v1::VERDICT_UNSPECIFIED);
  absl::StatusOr<ScanResponse> clean = Scan(PlainMail("after garbage", "still serving"));
  ASSERT_TRUE(clean.ok());
  EXPECT_EQ(clean->result.verdict(), v1::CLEAN);
}

TEST_F(ScanServiceTest, HealthCheckServes) {
  auto channel = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  // grpc.health.v1.HealthCheckRequest{service: ""} serializes to zero bytes.
  grpc::Slice empty("");
  grpc::ByteBuffer request_buffer(&empty, 1);
  grpc::GenericStub stub(channel);
  grpc::ByteBuffer response;
  grpc::Status status;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request_buffer,
                 &response, [&](grpc::Status s) {
                   std::lock_guard<std::mutex> lock(mu);
                   status = s;
                   done = true;
                   cv.notify_one();
                 });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  EXPECT_TRUE(status.ok()) << status.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& s : slices)
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));  // status: SERVING
}

}  // namespace
}  // namespace vmscan::testing
