// Bad input over the wire: each case gets a clear gRPC status naming the problem, and the server
// keeps serving others afterwards.
#include <grpcpp/create_channel.h>

#include <thread>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/integration/test_server.h"
#include "tests/testing/test_mail.h"
#include "vmscan/v1/scan.grpc.pb.h"

namespace vmscan::testing {
namespace {

using Stream = grpc::ClientReaderWriter<v1::ScanRequest, v1::ScanReply>;

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<HostServer>> server =
        StartTestServer({"limits.max_message_bytes=1048576"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    channel_ = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
    stub_ = v1::ScanService::NewStub(channel_);
  }

  // Sends `requests` as they are, then half-closes; returns the final status.
  grpc::Status Send(const std::vector<v1::ScanRequest>& requests) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    std::unique_ptr<Stream> stream = stub_->Scan(&context);
    for (const v1::ScanRequest& r : requests) {
      if (!stream->Write(r)) break;
    }
    stream->WritesDone();
    v1::ScanReply reply;
    while (stream->Read(&reply)) {
      last_reply_ = reply;
    }
    return stream->Finish();
  }

  static v1::ScanRequest WithMetadata(std::string chunk) {
    v1::ScanRequest r;
    *r.mutable_metadata() = TestMetadata();
    r.set_chunk(std::move(chunk));
    return r;
  }
  static v1::ScanRequest Chunk(std::string chunk) {
    v1::ScanRequest r;
    r.set_chunk(std::move(chunk));
    return r;
  }

  void ExpectStillServing() {
    std::unique_ptr<ScanClient> client = ClientFor(*server_);
    absl::StatusOr<ScanResponse> r = client->Scan(TestMetadata(), PlainMail("ok", "fine"));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->result.verdict(), v1::CLEAN);
  }

  std::unique_ptr<HostServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ScanService::Stub> stub_;
  v1::ScanReply last_reply_;
};

TEST_F(BadInputTest, EmptyMessage) {
  grpc::Status s = Send({WithMetadata("")});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "empty message")) << s.error_message();
  ExpectStillServing();
}

TEST_F(BadInputTest, NoRequestAtAll) {
  grpc::Status s = Send({});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "metadata")) << s.error_message();
}

TEST_F(BadInputTest, MetadataMissingFromFirstRequest) {
  grpc::Status s = Send({Chunk("Subject: x\r\n\r\nbody\r\n")});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "first ScanRequest must carry metadata"));
  ExpectStillServing();
}

TEST_F(BadInputTest, MetadataInALaterRequest) {
  grpc::Status s = Send({WithMetadata("Subject: x\r\n"), WithMetadata("\r\nbody\r\n")});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "only in the first")) << s.error_message();
}

TEST_F(BadInputTest, ChannelMissingOrContradictory) {
  v1::ScanRequest no_channel = WithMetadata(PlainMail("x", "y"));
  no_channel.mutable_metadata()->clear_channel();
  grpc::Status s = Send({no_channel});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "metadata.channel")) << s.error_message();
  v1::ScanRequest incoming_smtp = WithMetadata(PlainMail("x", "y"));
  incoming_smtp.mutable_metadata()->set_channel(v1::SMTP);
  incoming_smtp.mutable_metadata()->set_direction(v1::INCOMING);
  s = Send({incoming_smtp});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ExpectStillServing();
}

TEST_F(BadInputTest, ZeroLengthChunksAreHarmless) {
  grpc::Status s =
      Send({WithMetadata(""), Chunk(""), Chunk(PlainMail("zero", "chunks")), Chunk(""), Chunk("")});
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(last_reply_.result().verdict(), v1::CLEAN);
}

TEST_F(BadInputTest, DeclaredSizeOverTheLimitIsRefusedBeforeUpload) {
  v1::ScanRequest first = WithMetadata("Subject: x\r\n");
  first.mutable_metadata()->set_size(20 << 20);
  grpc::Status s = Send({first});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "limits.max_message_bytes"));
}

TEST_F(BadInputTest, MessageOverTheLimitGetsAClearError) {
  std::unique_ptr<ScanClient> client = ClientFor(*server_);
  std::string big = PlainMail("big", std::string(2 << 20, 'a'));
  absl::StatusOr<ScanResponse> r = client->Scan(TestMetadata(), big);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(absl::StrContains(r.status().message(), "exceeds the limit of 1048576 bytes"))
      << r.status();
  // Same without a declared size: the server counts what arrives.
  std::vector<v1::ScanRequest> requests = {WithMetadata("")};
  for (int i = 0; i < 5; ++i) requests.push_back(Chunk(std::string(300 << 10, 'b')));
  grpc::Status s = Send(requests);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  ExpectStillServing();
}

TEST_F(BadInputTest, DeclaredSizeThatDoesNotMatchIsATruncation) {
  v1::ScanRequest first = WithMetadata(PlainMail("short", "body"));
  first.mutable_metadata()->set_size(first.chunk().size() + 100);
  grpc::Status s = Send({first});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "truncated")) << s.error_message();
}

TEST_F(BadInputTest, AbandonedStreamsDoNotHurtOthers) {
  for (int i = 0; i < 20; ++i) {
    grpc::ClientContext context;
    std::unique_ptr<Stream> stream = stub_->Scan(&context);
    ASSERT_TRUE(stream->Write(WithMetadata("Subject: half\r\n\r\nsome of the bo")));
    context.TryCancel();  // the client goes away mid-upload
    (void)stream->Finish();
  }
  ExpectStillServing();
}

TEST_F(BadInputTest, FullQueueAnswersResourceExhausted) {
  absl::StatusOr<std::unique_ptr<HostServer>> server =
      StartTestServer({"workers=1", "queue_depth=0", "limits.max_message_bytes=104857600"});
  ASSERT_TRUE(server.ok()) << server.status();
  std::unique_ptr<ScanClient> client = ClientFor(**server);
  // A message that takes the single worker a while: many base64 parts.
  std::string part = std::string(200 << 10, 'x');
  std::string big = MailWithAttachment("a.bin", "application/octet-stream", part);
  for (int i = 0; i < 6; ++i) big += MailWithAttachment("b.bin", "application/octet-stream", part);
  std::vector<absl::Status> results(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      v1::ScanMetadata m = TestMetadata();
      results[i] = client->Scan(m, big + std::string(i, ' ')).status();
    });
  }
  for (std::thread& t : threads) t.join();
  int ok = 0, busy = 0;
  for (const absl::Status& s : results) {
    if (s.ok()) ++ok;
    // Busy is not "no scanner": nothing may be delivered unscanned because an SVM is busy.
    if (IsScanQueueFull(s)) ++busy;
  }
  EXPECT_GE(ok, 1);
  EXPECT_GE(busy, 1) << "8 concurrent scans on 1 worker with no queue: some must be refused";
  EXPECT_EQ(ok + busy, 8);
}

// The SVM's memory bound: while one upload holds most of max_inflight_bytes, another message
// that does not fit is refused as "scan queue full" (the agent's cue to try another SVM or
// retry), the holder still gets its verdict, and the bytes are free again once it is answered.
TEST_F(BadInputTest, MessagesOverTheInflightBudgetAreRefusedAsBusyUntilItFrees) {
  absl::StatusOr<std::unique_ptr<HostServer>> server =
      // The whole SVM's bound, so no per-VM share (both streams come from one VM; the share is
      // fair_scheduling_test's).
      StartTestServer({"max_inflight_bytes=1000000", "limits.max_message_bytes=1000000",
                       "scheduler.max_vm_share_percent=100"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::ScanService::NewStub(
      grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials()));
  std::unique_ptr<ScanClient> client = ClientFor(**server);

  // The holder declares 900,000 bytes and sends the first 1,000 of them.
  std::string held = PlainMail("held", std::string(899000, 'h'));
  ASSERT_LE(held.size(), 900000u);
  held.append(900000 - held.size(), 'h');
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  std::unique_ptr<Stream> holder = stub->Scan(&context);
  v1::ScanRequest first = WithMetadata(held.substr(0, 1000));
  first.mutable_metadata()->set_size(held.size());
  ASSERT_TRUE(holder->Write(first));

  // 200 KB does not fit beside it. The holder's metadata reaches the server first in practice;
  // the loop only absorbs a slow machine.
  const std::string other = PlainMail("other", std::string(200000, 'o'));
  absl::Status refused;
  for (int attempt = 0; attempt < 50; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    refused = client->Scan(TestMetadata(), other).status();
    if (!refused.ok()) break;
  }
  EXPECT_TRUE(IsScanQueueFull(refused)) << refused;  // RESOURCE_EXHAUSTED, not UNAVAILABLE
  EXPECT_TRUE(absl::StrContains(refused.message(), "scan queue full")) << refused;
  EXPECT_TRUE(absl::StrContains(refused.message(), "max_inflight_bytes (1000000)")) << refused;

  // The holder finishes its upload and gets its verdict.
  ASSERT_TRUE(holder->Write(Chunk(held.substr(1000))));
  holder->WritesDone();
  v1::ScanReply reply;
  bool have_result = false;
  while (holder->Read(&reply)) have_result = have_result || reply.has_result();
  grpc::Status status = holder->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(have_result);

  // Its bytes are released when the call ends (just after the client sees the status).
  absl::Status accepted;
  for (int attempt = 0; attempt < 50; ++attempt) {
    accepted = client->Scan(TestMetadata(), other).status();
    if (accepted.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(accepted.ok()) << accepted;
}

TEST_F(BadInputTest, InflightBudgetBelowTheLargestMessageIsAConfigError) {
  absl::StatusOr<std::unique_ptr<HostServer>> server =
      StartTestServer({"max_inflight_bytes=1000", "limits.max_message_bytes=2000"});
  ASSERT_FALSE(server.ok());
  EXPECT_TRUE(absl::StrContains(server.status().message(), "max_inflight_bytes (1000)"))
      << server.status();
}

}  // namespace
}  // namespace vmscan::testing
