// BackupAdminService over real gRPC (loopback, port 0) and a real LmdbBackupStore in a temp dir.
#include "host_server/service/admin_service.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "host_server/backup/lmdb_backup_store.h"
#include "host_server/backup/record_format.h"
#include "tests/testing/lmdb_raw.h"
#include "tests/testing/test_mail.h"

namespace vmscan {
namespace {

using ::vmscan::testing::RandomBytes;
using ::vmscan::testing::RawRewrite;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr int64_t kHour = int64_t{3600} * 1000000;
constexpr int64_t kStart = int64_t{1732680000} * 1000000;  // 2024-11-27, in unix micros.

std::string Mail(absl::string_view subject, absl::string_view body) {
  return absl::StrCat("From: a@example.org\r\nSubject: ", subject, "\r\n\r\n", body, "\r\n");
}

v1::BackupRecord Meta(absl::string_view vm, absl::string_view threat, v1::Action action) {
  v1::BackupRecord meta;
  meta.mutable_vm()->set_id(std::string(vm));
  meta.set_channel(v1::CLI);
  meta.set_direction(v1::INCOMING);
  meta.set_subject(absl::StrCat("mail of ", vm));
  meta.add_threats()->set_name(std::string(threat));
  meta.set_action(action);
  return meta;
}

// Presents a fixed caller (as a certificate would), or refuses everyone; the authorization
// table applies as in production.
class FixedAuthorizer final : public Authorizer {
 public:
  explicit FixedAuthorizer(absl::StatusOr<Caller> caller)
      : Authorizer(/*tls=*/true, nullptr), caller_(std::move(caller)) {}

 protected:
  absl::StatusOr<Caller> Identify(const grpc::ServerContextBase& context) const override {
    absl::StatusOr<Caller> caller = caller_;
    if (caller.ok()) caller->peer = context.peer();
    return caller;
  }

 private:
  const absl::StatusOr<Caller> caller_;
};

Caller VmCaller(const std::string& id) {
  Caller caller;
  caller.kind = Caller::Kind::kVm;
  caller.name = id;
  return caller;
}

Caller AdminCaller(const std::string& name) {
  Caller caller;
  caller.kind = Caller::Kind::kAdmin;
  caller.name = name;
  return caller;
}

std::vector<std::string> Ids(const v1::ListBackupsResponse& response) {
  std::vector<std::string> ids;
  for (const v1::BackupRecord& r : response.records()) ids.push_back(r.id());
  return ids;
}

class AdminServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = ::testing::TempDir() + "/admin_service_test.XXXXXX";
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    root_ = templ;
    options_.dir = templ + "/backup";
    options_.max_age = absl::InfiniteDuration();
    options_.clock = [this] { return absl::FromUnixMicros(now_.load()); };
    OpenStore();
    StartServer(std::make_unique<Authorizer>(/*tls=*/false, nullptr));
  }

  void TearDown() override {
    StopServer();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }

  void OpenStore() {
    absl::StatusOr<std::unique_ptr<LmdbBackupStore>> store = LmdbBackupStore::Open(options_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  void StartServer(std::unique_ptr<Authorizer> authorizer,
                   BackupAdminService::Options options = BackupAdminService::Options()) {
    StopServer();
    authorizer_ = std::move(authorizer);
    service_ = std::make_unique<BackupAdminService>(store_.get(), authorizer_.get(), options);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port, 0);
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    stub_ = v1::BackupAdmin::NewStub(grpc::CreateCustomChannel(
        absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials(), args));
  }

  void StopServer() {
    if (server_ != nullptr) server_->Shutdown(std::chrono::system_clock::now());
    server_.reset();
    service_.reset();
  }

  std::string MustPut(const v1::BackupRecord& meta, absl::string_view original) {
    absl::StatusOr<std::string> id = store_->Put(meta, original);
    EXPECT_TRUE(id.ok()) << id.status();
    now_ += 1000;
    return id.value_or("");
  }

  static void SetDeadline(grpc::ClientContext& context) {
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  }

  grpc::Status List(const v1::BackupFilter& filter, v1::ListBackupsResponse* response) {
    grpc::ClientContext context;
    SetDeadline(context);
    v1::ListBackupsRequest request;
    *request.mutable_filter() = filter;
    return stub_->ListBackups(&context, request, response);
  }

  grpc::Status Get(const std::string& id, v1::BackupRecord* record) {
    grpc::ClientContext context;
    SetDeadline(context);
    v1::GetBackupRequest request;
    request.set_id(id);
    return stub_->GetBackup(&context, request, record);
  }

  grpc::Status Delete(const std::string& id) {
    grpc::ClientContext context;
    SetDeadline(context);
    v1::DeleteBackupRequest request;
    request.set_id(id);
    v1::DeleteBackupResponse response;
    return stub_->DeleteBackup(&context, request, &response);
  }

  grpc::Status Purge(int64_t older_than_seconds, bool all, v1::PurgeBackupsResponse* response) {
    grpc::ClientContext context;
    SetDeadline(context);
    v1::PurgeBackupsRequest request;
    request.set_older_than_seconds(older_than_seconds);
    request.set_all(all);
    return stub_->PurgeBackups(&context, request, response);
  }

  grpc::Status Stats(v1::BackupStats* stats) {
    grpc::ClientContext context;
    SetDeadline(context);
    return stub_->GetBackupStats(&context, v1::GetBackupStatsRequest(), stats);
  }

  // Starts an export of `id` on `context` (which gets the test's deadline).
  std::unique_ptr<grpc::ClientReader<v1::ExportBackupResponse>> StartExport(
      grpc::ClientContext& context, const std::string& id) {
    SetDeadline(context);
    v1::ExportBackupRequest request;
    request.set_id(id);
    return stub_->ExportBackup(&context, request);
  }

  grpc::Status Export(const std::string& id, std::vector<v1::ExportBackupResponse>* messages) {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReader<v1::ExportBackupResponse>> reader = StartExport(context, id);
    v1::ExportBackupResponse message;
    while (reader->Read(&message)) messages->push_back(message);
    return reader->Finish();
  }

  std::string root_;
  std::atomic<int64_t> now_{kStart};
  LmdbBackupOptions options_;
  std::unique_ptr<LmdbBackupStore> store_;
  std::unique_ptr<Authorizer> authorizer_;
  std::unique_ptr<BackupAdminService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::BackupAdmin::Stub> stub_;
};

TEST_F(AdminServiceTest, ListFiltersNewestFirst) {
  const std::string a1 = MustPut(Meta("vm-a", "Eicar-Test-Signature", v1::DELETE), Mail("1", "x"));
  const std::string b1 =
      MustPut(Meta("vm-b", "Vmscan.Test.Marker", v1::DELIVER_DISINFECTED), Mail("2", "y"));
  const std::string a2 =
      MustPut(Meta("vm-a", "Eicar-Test-Signature", v1::DELIVER_DISINFECTED), Mail("3", "z"));

  v1::ListBackupsResponse all;
  ASSERT_TRUE(List(v1::BackupFilter(), &all).ok());
  EXPECT_THAT(Ids(all), ElementsAre(a2, b1, a1));
  EXPECT_EQ(all.next_until_unix_micros(), 0);
  EXPECT_EQ(all.records(0).subject(), "mail of vm-a");

  v1::BackupFilter filter;
  filter.set_vm_id("vm-a");
  v1::ListBackupsResponse by_vm;
  ASSERT_TRUE(List(filter, &by_vm).ok());
  EXPECT_THAT(Ids(by_vm), ElementsAre(a2, a1));

  filter.Clear();
  filter.set_action(v1::DELETE);
  v1::ListBackupsResponse by_action;
  ASSERT_TRUE(List(filter, &by_action).ok());
  EXPECT_THAT(Ids(by_action), ElementsAre(a1));

  filter.Clear();
  filter.set_threat("marker");
  v1::ListBackupsResponse by_threat;
  ASSERT_TRUE(List(filter, &by_threat).ok());
  EXPECT_THAT(Ids(by_threat), ElementsAre(b1));
}

TEST_F(AdminServiceTest, ListPagesWithNextUntil) {
  std::vector<std::string> put;
  for (int i = 0; i < 5; ++i) {
    put.push_back(MustPut(Meta("vm", "T", v1::DELETE), Mail(absl::StrCat(i), "body")));
  }
  std::vector<std::string> seen;
  v1::BackupFilter filter;
  filter.set_limit(2);
  for (int page = 0; page < 10; ++page) {
    v1::ListBackupsResponse response;
    ASSERT_TRUE(List(filter, &response).ok());
    EXPECT_LE(response.records_size(), 2);
    for (const std::string& id : Ids(response)) seen.push_back(id);
    if (response.next_until_unix_micros() == 0) break;
    filter.set_until_unix_micros(response.next_until_unix_micros());
  }
  EXPECT_THAT(seen, ElementsAre(put[4], put[3], put[2], put[1], put[0]));

  filter.Clear();
  filter.set_limit(10001);
  v1::ListBackupsResponse too_many;
  grpc::Status s = List(filter, &too_many);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("limit"));
}

TEST_F(AdminServiceTest, GetShowsEveryField) {
  const std::string original = Mail("hello", "body");
  const std::string id = MustPut(Meta("vm-a", "Eicar", v1::DELETE), original);
  v1::BackupRecord record;
  grpc::Status s = Get(id, &record);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(record.id(), id);
  EXPECT_EQ(record.vm().id(), "vm-a");
  EXPECT_EQ(record.action(), v1::DELETE);
  EXPECT_EQ(record.size(), original.size());
  EXPECT_EQ(record.sha256(), Sha256Hex(original));
  EXPECT_EQ(record.created_unix_micros(), kStart);
}

TEST_F(AdminServiceTest, ExportStreamsRecordThenChunksOfOneMebibyte) {
  const std::string original = Mail("big", RandomBytes((5 << 20) / 2));  // 2.5 MiB
  const std::string id = MustPut(Meta("vm-a", "Eicar", v1::DELETE), original);
  std::vector<v1::ExportBackupResponse> messages;
  grpc::Status s = Export(id, &messages);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(messages.size(), 4u);  // record, 1 MiB, 1 MiB, the rest
  EXPECT_EQ(messages[0].record().id(), id);
  EXPECT_EQ(messages[0].record().size(), original.size());
  EXPECT_EQ(messages[0].record().sha256(), Sha256Hex(original));
  EXPECT_TRUE(messages[0].chunk().empty());
  std::string received;
  for (size_t i = 1; i < messages.size(); ++i) {
    EXPECT_FALSE(messages[i].has_record());
    EXPECT_LE(messages[i].chunk().size(), size_t{1} << 20);
    received += messages[i].chunk();
  }
  EXPECT_EQ(messages[1].chunk().size(), size_t{1} << 20);
  EXPECT_EQ(received, original);
}

TEST_F(AdminServiceTest, MalformedAndUnknownIdsAreClearErrors) {
  const std::string kept = MustPut(Meta("vm-a", "Eicar", v1::DELETE), Mail("kept", "x"));
  v1::BackupRecord record;
  grpc::Status malformed = Get("not-an-id", &record);
  EXPECT_EQ(malformed.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(malformed.error_message(), HasSubstr("malformed backup id \"not-an-id\""));

  const std::string unknown = "0000000000000001-00000000";
  grpc::Status missing = Get(unknown, &record);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(missing.error_message(), HasSubstr(unknown));

  std::vector<v1::ExportBackupResponse> messages;
  EXPECT_EQ(Export(unknown, &messages).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Export("../../etc/passwd", &messages).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(messages, IsEmpty());
  EXPECT_EQ(Delete(unknown).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Delete("").error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  v1::ListBackupsResponse all;  // nothing else was lost
  ASSERT_TRUE(List(v1::BackupFilter(), &all).ok());
  EXPECT_THAT(Ids(all), ElementsAre(kept));
}

TEST_F(AdminServiceTest, DeleteRemovesOnlyThatRecord) {
  const std::string gone = MustPut(Meta("vm-a", "Eicar", v1::DELETE), Mail("gone", "x"));
  const std::string kept = MustPut(Meta("vm-a", "Eicar", v1::DELETE), Mail("kept", "y"));
  grpc::Status s = Delete(gone);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::BackupRecord record;
  EXPECT_EQ(Get(gone, &record).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Delete(gone).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(Get(kept, &record).ok());
}

TEST_F(AdminServiceTest, PurgeNeedsAnAgeOrAnExplicitAll) {
  MustPut(Meta("vm", "T", v1::DELETE), Mail("old1", "x"));
  MustPut(Meta("vm", "T", v1::DELETE), Mail("old2", "x"));
  now_ += 2 * kHour;
  const std::string young = MustPut(Meta("vm", "T", v1::DELETE), Mail("young", "x"));

  v1::PurgeBackupsResponse response;
  grpc::Status forgot_age = Purge(0, false, &response);
  EXPECT_EQ(forgot_age.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(forgot_age.error_message(), HasSubstr("all"));
  EXPECT_EQ(Purge(-5, false, &response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Purge(3600, true, &response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::BackupStats stats;
  ASSERT_TRUE(Stats(&stats).ok());
  EXPECT_EQ(stats.records(), 3u);  // none of the refused purges removed anything

  ASSERT_TRUE(Purge(3600, false, &response).ok());
  EXPECT_EQ(response.removed(), 2u);
  v1::ListBackupsResponse left;
  ASSERT_TRUE(List(v1::BackupFilter(), &left).ok());
  EXPECT_THAT(Ids(left), ElementsAre(young));

  ASSERT_TRUE(Purge(0, true, &response).ok());
  EXPECT_EQ(response.removed(), 1u);
  ASSERT_TRUE(Stats(&stats).ok());
  EXPECT_EQ(stats.records(), 0u);
}

TEST_F(AdminServiceTest, StatsAreTheStoreTotals) {
  const std::string a = Mail("a", RandomBytes(3000));
  const std::string b = Mail("b", "short");
  MustPut(Meta("vm", "T", v1::DELETE), a);
  MustPut(Meta("vm", "T", v1::DELETE), b);
  v1::BackupStats stats;
  grpc::Status s = Stats(&stats);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(stats.records(), 2u);
  EXPECT_EQ(stats.original_bytes(), a.size() + b.size());
  EXPECT_EQ(stats.oldest_unix_micros(), kStart);
  EXPECT_EQ(stats.newest_unix_micros(), kStart + 1000);
  EXPECT_GT(stats.stored_bytes(), 0u);
}

TEST_F(AdminServiceTest, DamagedRecordIsDataLossForThatRecordOnly) {
  const std::string damaged =
      MustPut(Meta("vm-a", "T", v1::DELETE), Mail("bad", RandomBytes(4000)));
  const std::string bad_meta = MustPut(Meta("vm-a", "T", v1::DELETE), Mail("meta", "x"));
  const std::string good_original = Mail("good", RandomBytes(4000));
  const std::string good = MustPut(Meta("vm-a", "T", v1::DELETE), good_original);
  StopServer();
  store_.reset();
  ASSERT_TRUE(RawRewrite(options_.dir, kContentDbName, damaged, [](std::string& v) {
                v[v.size() / 2] ^= 0x10;
              }).ok());
  ASSERT_TRUE(RawRewrite(options_.dir, kMetaDbName, bad_meta, [](std::string& v) {
                v[v.size() - 3] ^= 0x01;
              }).ok());
  OpenStore();
  StartServer(std::make_unique<Authorizer>(/*tls=*/false, nullptr));

  std::vector<v1::ExportBackupResponse> messages;
  grpc::Status s = Export(damaged, &messages);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DATA_LOSS);
  EXPECT_THAT(s.error_message(), HasSubstr(damaged));
  EXPECT_THAT(messages, IsEmpty());  // not one byte of a damaged copy

  v1::BackupRecord record;
  grpc::Status meta = Get(bad_meta, &record);
  EXPECT_EQ(meta.error_code(), grpc::StatusCode::DATA_LOSS);
  EXPECT_THAT(meta.error_message(), HasSubstr(bad_meta));

  messages.clear();
  ASSERT_TRUE(Export(good, &messages).ok());
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[1].chunk(), good_original);

  v1::ListBackupsResponse all;
  ASSERT_TRUE(List(v1::BackupFilter(), &all).ok());
  EXPECT_THAT(Ids(all), ElementsAre(good, bad_meta, damaged));
  EXPECT_FALSE(all.records(1).damage().empty());
  EXPECT_TRUE(all.records(2).damage().empty());  // its metadata is fine, only the copy is not

  EXPECT_TRUE(Delete(bad_meta).ok());  // an administrator can remove a damaged record
}

TEST_F(AdminServiceTest, VmScopedCallerReachesOnlyItsOwnRecords) {
  const std::string mine = MustPut(Meta("vm-a", "T", v1::DELETE), Mail("mine", "x"));
  const std::string theirs = MustPut(Meta("vm-b", "T", v1::DELETE), Mail("theirs", "y"));
  StartServer(std::make_unique<FixedAuthorizer>(VmCaller("vm-a")));

  v1::ListBackupsResponse list;
  ASSERT_TRUE(List(v1::BackupFilter(), &list).ok());
  EXPECT_THAT(Ids(list), ElementsAre(mine));
  v1::BackupFilter other;
  other.set_vm_id("vm-b");
  v1::ListBackupsResponse other_list;
  ASSERT_TRUE(List(other, &other_list).ok());
  EXPECT_THAT(Ids(other_list), IsEmpty());

  v1::BackupRecord record;
  grpc::Status get = Get(theirs, &record);
  EXPECT_EQ(get.error_code(), grpc::StatusCode::NOT_FOUND);  // not PERMISSION_DENIED: no leak
  EXPECT_EQ(get.error_message(), absl::StrCat("no backup record ", theirs));
  std::vector<v1::ExportBackupResponse> messages;
  EXPECT_EQ(Export(theirs, &messages).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(messages, IsEmpty());
  // Deleting is for administrators (docs/security.md), also of the VM's own records.
  EXPECT_EQ(Delete(theirs).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(store_->Get(theirs).ok());  // still there

  EXPECT_TRUE(Get(mine, &record).ok());
  EXPECT_TRUE(Export(mine, &messages).ok());
  v1::PurgeBackupsResponse purged;
  EXPECT_EQ(Purge(0, true, &purged).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  v1::BackupStats stats;
  EXPECT_EQ(Stats(&stats).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Delete(mine).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(store_->Get(mine).ok());
  EXPECT_TRUE(store_->Get(theirs).ok());
}

TEST_F(AdminServiceTest, RefusedCallerGetsNothingAndChangesNothing) {
  const std::string id = MustPut(Meta("vm-a", "T", v1::DELETE), Mail("x", "y"));
  StartServer(std::make_unique<FixedAuthorizer>(absl::PermissionDeniedError("go away")));
  v1::ListBackupsResponse list;
  EXPECT_EQ(List(v1::BackupFilter(), &list).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(Ids(list), IsEmpty());
  v1::BackupRecord record;
  EXPECT_EQ(Get(id, &record).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  std::vector<v1::ExportBackupResponse> messages;
  grpc::Status exported = Export(id, &messages);
  EXPECT_EQ(exported.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(exported.error_message(), "go away");
  EXPECT_THAT(messages, IsEmpty());
  EXPECT_EQ(Delete(id).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  v1::PurgeBackupsResponse purged;
  EXPECT_EQ(Purge(0, true, &purged).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(store_->Get(id).ok());
}

TEST_F(AdminServiceTest, ConcurrentCallsWithinTheQueueAllSucceed) {
  const std::string original = Mail("c", RandomBytes(200000));
  const std::string id = MustPut(Meta("vm-a", "T", v1::DELETE), original);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      if (i % 2 == 0) {
        std::vector<v1::ExportBackupResponse> messages;
        if (Export(id, &messages).ok() && messages.size() == 2 && messages[1].chunk() == original) {
          ++ok;
        }
      } else {
        v1::ListBackupsResponse list;
        if (List(v1::BackupFilter(), &list).ok() && list.records_size() == 1) ++ok;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 16);
}

// An export holds its original in memory until the client has read it, so their number is capped.
TEST_F(AdminServiceTest, ExportsBeyondTheLimitAreRefusedUntilOneEnds) {
  BackupAdminService::Options options;
  options.max_concurrent_exports = 1;
  options.export_chunk_bytes = 4096;  // many small messages: a client that stops reading stalls
  StartServer(std::make_unique<Authorizer>(/*tls=*/false, nullptr), options);
  const std::string original = Mail("big", RandomBytes(16 << 20));
  const std::string id = MustPut(Meta("vm-a", "T", v1::DELETE), original);

  // A first export that reads one message and then stops: it stays in flight.
  grpc::ClientContext slow;
  std::unique_ptr<grpc::ClientReader<v1::ExportBackupResponse>> reader = StartExport(slow, id);
  v1::ExportBackupResponse first;
  ASSERT_TRUE(reader->Read(&first));
  EXPECT_EQ(first.record().id(), id);

  std::vector<v1::ExportBackupResponse> messages;
  grpc::Status refused = Export(id, &messages);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(refused.error_message(), HasSubstr("1 exports are already running"));
  EXPECT_THAT(messages, IsEmpty());
  v1::ListBackupsResponse list;  // other calls are not affected
  EXPECT_TRUE(List(v1::BackupFilter(), &list).ok());

  slow.TryCancel();
  (void)reader->Finish();
  // The server counts the export as ended once its reactor is done, shortly after the cancel.
  grpc::Status after;
  for (int i = 0; i < 100; ++i) {
    messages.clear();
    after = Export(id, &messages);
    if (after.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(after.ok()) << after.error_message();
  std::string received;
  for (size_t i = 1; i < messages.size(); ++i) received += messages[i].chunk();
  EXPECT_EQ(received, original);
}

// On a plaintext loopback listener every caller is a local administrator, over IPv4 and IPv6.
TEST_F(AdminServiceTest, PlaintextCallersAreLocalAdministrators) {
  MustPut(Meta("vm-a", "T", v1::DELETE), Mail("x", "y"));
  v1::BackupStats stats;
  grpc::Status v4 = Stats(&stats);  // SetUp serves on 127.0.0.1 without TLS
  ASSERT_TRUE(v4.ok()) << v4.error_message();
  EXPECT_EQ(stats.records(), 1u);

  StopServer();
  authorizer_ = std::make_unique<Authorizer>(/*tls=*/false, nullptr);
  service_ = std::make_unique<BackupAdminService>(store_.get(), authorizer_.get(),
                                                  BackupAdminService::Options());
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("[::1]:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port == 0) GTEST_SKIP() << "no IPv6 loopback on this machine";
  stub_ = v1::BackupAdmin::NewStub(
      grpc::CreateChannel(absl::StrCat("[::1]:", port), grpc::InsecureChannelCredentials()));
  grpc::Status v6 = Stats(&stats);
  EXPECT_TRUE(v6.ok()) << v6.error_message();
}

TEST_F(AdminServiceTest, AnAdministratorSendsARestoreAndOnlyItsVmConfirmsIt) {
  const std::string original = Mail("restore me", "body");
  const std::string id = MustPut(Meta("vm-a", "T", v1::DELETE), original);
  const std::string other = MustPut(Meta("vm-b", "T", v1::DELETE), Mail("b", "b"));
  StartServer(std::make_unique<FixedAuthorizer>(AdminCaller("alice")));
  grpc::ClientContext restore_context;
  v1::RestoreBackupRequest restore;
  restore.set_id(id);
  v1::RestoreBackupResponse restored;
  grpc::Status sent = stub_->RestoreBackup(&restore_context, restore, &restored);
  ASSERT_TRUE(sent.ok()) << sent.error_message();
  ASSERT_EQ(restored.record().restores_size(), 1);
  EXPECT_THAT(restored.record().restores(0).requested_by(), HasSubstr("administrator alice"));
  EXPECT_EQ(restored.record().restores(0).delivered_unix_micros(), 0);
  absl::StatusOr<std::vector<std::string>> pending = store_->PendingRestores("vm-a");
  ASSERT_TRUE(pending.ok());
  EXPECT_THAT(*pending, ElementsAre(id));
  EXPECT_THAT(*store_->PendingRestores("vm-b"), IsEmpty());

  auto confirm = [&](const std::string& which, const std::string& sha) {
    grpc::ClientContext context;
    v1::ConfirmRestoreRequest request;
    request.set_id(which);
    request.set_sha256(sha);
    request.set_written_to("/var/lib/vmscan/agent/restored/" + which + ".eml");
    v1::BackupRecord record;
    grpc::Status status = stub_->ConfirmRestore(&context, request, &record);
    return std::make_pair(status, record);
  };
  // An administrator cannot confirm on the VM's behalf; a VM cannot send restores.
  EXPECT_EQ(confirm(id, Sha256Hex(original)).first.error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  StartServer(std::make_unique<FixedAuthorizer>(VmCaller("vm-a")));
  grpc::ClientContext vm_restore;
  EXPECT_EQ(stub_->RestoreBackup(&vm_restore, restore, &restored).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Not what the record holds: not confirmed.
  EXPECT_EQ(confirm(id, Sha256Hex("other bytes")).first.error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(*store_->PendingRestores("vm-a"), ElementsAre(id));
  // Another VM's record looks missing.
  EXPECT_EQ(confirm(other, Sha256Hex(Mail("b", "b"))).first.error_code(),
            grpc::StatusCode::NOT_FOUND);
  auto [status, record] = confirm(id, Sha256Hex(original));
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(record.restores_size(), 1);
  EXPECT_GT(record.restores(0).delivered_unix_micros(), 0);
  EXPECT_THAT(record.restores(0).delivered_to(), HasSubstr(id + ".eml"));
  EXPECT_THAT(*store_->PendingRestores("vm-a"), IsEmpty());
  // A restore the VM does on its own is recorded too, as asked by the VM.
  auto [again, twice] = confirm(id, Sha256Hex(original));
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(twice.restores_size(), 2);
  EXPECT_THAT(twice.restores(1).requested_by(), HasSubstr("VM vm-a"));
  // The history survives a restart of the store.
  StopServer();
  store_.reset();
  OpenStore();
  absl::StatusOr<v1::BackupRecord> reread = store_->Get(id);
  ASSERT_TRUE(reread.ok());
  EXPECT_EQ(reread->restores_size(), 2);
}

}  // namespace
}  // namespace vmscan
