// The shared verdict cache and hash-first upload end to end (docs/verdict-cache.md): the real
// server (gRPC, libclamav with the bundled signatures, LMDB Backup) in-process and the real
// agent ScanClient. Copies of one message differ only in delivery fields, as a newsletter
// delivered to many VMs does.
#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "gtest/gtest.h"
#include "guest_agent/config/agent_config.h"
#include "host_server/backup/backup_store.h"
#include "host_server/cache/verdict_cache.h"
#include "tests/integration/test_server.h"
#include "tests/testing/test_mail.h"

namespace vmscan::testing {
namespace {

constexpr absl::string_view kCommonHeaders =
    "From: news@example.org\r\nSubject: Quarterly report\r\nMIME-Version: 1.0\r\n";

// Copy `n` of a message: its own delivery fields, then `rest` (the shared header fields from
// Content-Type on, the blank line and the body).
std::string Copy(int n, absl::string_view rest,
                 absl::string_view received_from = "mx.example.org") {
  return absl::StrCat("Received: from ", received_from, " by vm", n, ".example.net with ESMTP id Q",
                      n, "\r\nDelivered-To: user", n, "@example.net\r\nTo: User ", n, " <user", n,
                      "@example.net>\r\nMessage-ID: <", n,
                      ".report@example.org>\r\nDate: Fri, 4 Dec 2026 05:00:", n % 60, " +0000\r\n",
                      kCommonHeaders, rest);
}

constexpr absl::string_view kCleanRest =
    "Content-Type: text/plain; charset=utf-8\r\n\r\nThe numbers are in. Nothing to see here.\r\n";

std::string InfectedRest() {
  std::string m = MailWithAttachment("report.com", "application/octet-stream", Eicar());
  return m.substr(m.find("Content-Type: multipart"));  // its MIME fields and body
}

v1::ScanMetadata MetadataOf(int vm, v1::Channel channel = v1::POP3,
                            v1::Direction direction = v1::INCOMING) {
  v1::ScanMetadata metadata = TestMetadata(channel, direction);
  metadata.mutable_vm()->set_id(absl::StrCat("vdi-", vm));
  metadata.mutable_vm()->set_name(absl::StrCat("desktop-", vm));
  return metadata;
}

std::unique_ptr<ScanClient> StreamClientFor(const HostServer& server) {
  v1::AgentConfig config = DefaultAgentConfig();
  config.clear_servers();
  config.add_servers(server.address());
  config.set_timeout_ms(60000);
  config.set_hash_first(false);  // an agent from before hash-first
  return ScanClient::Create(config);
}

// Whether a threat of `result` is named `prefix` (libclamav may append ".UNOFFICIAL").
bool NamesThreat(const v1::ScanResult& result, absl::string_view prefix) {
  for (const v1::Threat& threat : result.threats())
    if (absl::StartsWith(threat.name(), prefix)) return true;
  return false;
}

class VerdictCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<HostServer>> server = StartTestServer();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = ClientFor(*server_);
  }

  absl::StatusOr<ScanResponse> Scan(const std::string& message, const v1::ScanMetadata& metadata) {
    v1::ScanMetadata m = metadata;
    m.set_size(message.size());
    return client_->Scan(m, message);
  }

  std::unique_ptr<HostServer> server_;
  std::unique_ptr<ScanClient> client_;
};

TEST_F(VerdictCacheTest, CleanCopiesToFiftyVmsAreUploadedOnce) {
  int uploads = 0;
  for (int vm = 0; vm < 50; ++vm) {
    const std::string copy = Copy(vm, kCleanRest);
    absl::StatusOr<ScanResponse> r = Scan(copy, MetadataOf(vm));
    ASSERT_TRUE(r.ok()) << vm << ": " << r.status();
    EXPECT_EQ(r->result.verdict(), v1::CLEAN) << vm;
    EXPECT_EQ(r->result.action(), v1::DELIVER) << vm;
    EXPECT_EQ(r->result.cache_hit(), vm > 0) << vm;
    EXPECT_EQ(r->uploaded, vm == 0) << vm;
    // Each copy's own identity, not the first copy's.
    EXPECT_EQ(r->result.sha256(), Sha256Hex(copy)) << vm;
    EXPECT_EQ(r->result.size(), copy.size()) << vm;
    uploads += r->uploaded;
  }
  EXPECT_EQ(uploads, 1);
  VerdictCacheStats stats = server_->verdict_cache()->stats();
  EXPECT_EQ(stats.hits, 49u);
  EXPECT_EQ(stats.inserts, 1u);
  EXPECT_EQ(stats.entries, 1u);
}

TEST_F(VerdictCacheTest, InfectedCopiesAreUploadedForBackupButScannedOnce) {
  // Incoming, action "select automatically": each VM's copy is disinfected, so each original
  // must reach the SVM to be kept in Backup and rewritten; the verdict still comes from the cache.
  const std::string rest = InfectedRest();
  std::set<std::string> backup_ids;
  for (int vm = 0; vm < 5; ++vm) {
    absl::StatusOr<ScanResponse> r = Scan(Copy(vm, rest), MetadataOf(vm));
    ASSERT_TRUE(r.ok()) << vm << ": " << r.status();
    EXPECT_EQ(r->result.verdict(), v1::INFECTED) << vm;
    EXPECT_TRUE(NamesThreat(r->result, "Eicar-Test-Signature")) << vm;
    EXPECT_EQ(r->result.action(), v1::DELIVER_DISINFECTED) << vm;
    EXPECT_TRUE(r->uploaded) << vm;
    EXPECT_EQ(r->result.cache_hit(), vm > 0) << vm;
    EXPECT_FALSE(absl::StrContains(r->cleaned, "EICAR")) << vm;
    EXPECT_TRUE(absl::StrContains(r->cleaned, absl::StrCat("user", vm, "@example.net"))) << vm;
    ASSERT_FALSE(r->result.backup_id().empty()) << vm;
    backup_ids.insert(r->result.backup_id());
    absl::StatusOr<v1::BackupRecord> record = server_->backup()->Get(r->result.backup_id());
    ASSERT_TRUE(record.ok()) << record.status();
    EXPECT_EQ(record->vm().id(), absl::StrCat("vdi-", vm));
  }
  EXPECT_EQ(backup_ids.size(), 5u);  // one Backup copy per VM, each its own original
  // Copies 1..4 hit twice each: at the probe (which then asks for the message) and at the scan.
  VerdictCacheStats stats = server_->verdict_cache()->stats();
  EXPECT_EQ(stats.hits, 8u);
  EXPECT_EQ(stats.inserts, 1u);
}

TEST_F(VerdictCacheTest, InfectedOutgoingCopyIsBlockedWithoutUpload) {
  // SMTP out: blocked whatever the action, no Backup, nothing to rewrite: the verdict is enough.
  const std::string rest = InfectedRest();
  absl::StatusOr<ScanResponse> first = Scan(Copy(1, rest), MetadataOf(1, v1::SMTP, v1::OUTGOING));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->result.action(), v1::BLOCK);
  EXPECT_TRUE(first->uploaded);
  absl::StatusOr<ScanResponse> second = Scan(Copy(2, rest), MetadataOf(2, v1::SMTP, v1::OUTGOING));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->result.verdict(), v1::INFECTED);
  EXPECT_EQ(second->result.action(), v1::BLOCK);
  EXPECT_TRUE(NamesThreat(second->result, "Eicar-Test-Signature"));
  EXPECT_TRUE(second->result.cache_hit());
  EXPECT_FALSE(second->uploaded);
  EXPECT_TRUE(second->result.backup_id().empty());
}

TEST_F(VerdictCacheTest, ThreatInADeliveryFieldOfACachedCopyIsFound) {
  ASSERT_TRUE(Scan(Copy(1, kCleanRest), MetadataOf(1)).ok());
  // The same content, but this copy's Received field carries the EICAR string: cut out of the
  // key, so the cache hits, and the header block scanned on every hit finds it.
  const std::string poisoned = Copy(2, kCleanRest, Eicar());
  absl::StatusOr<ScanResponse> r = Scan(poisoned, MetadataOf(2, v1::SMTP, v1::OUTGOING));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->result.verdict(), v1::INFECTED);
  EXPECT_TRUE(NamesThreat(r->result, "Eicar-Test-Signature"));
  EXPECT_EQ(r->result.action(), v1::BLOCK);
  EXPECT_TRUE(r->result.cache_hit());

  // Incoming, the same copy is deleted (a threat in a header cannot be disinfected), with the
  // original in Backup: uploaded.
  absl::StatusOr<ScanResponse> in = Scan(poisoned, MetadataOf(3));
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_EQ(in->result.verdict(), v1::INFECTED);
  EXPECT_EQ(in->result.action(), v1::DELETE);
  EXPECT_TRUE(in->uploaded);
  EXPECT_FALSE(in->result.backup_id().empty());
}

TEST_F(VerdictCacheTest, DifferentMimeFieldsAreADifferentMessage) {
  ASSERT_TRUE(Scan(Copy(1, kCleanRest), MetadataOf(1)).ok());
  // Content-* fields steer MIME parsing: never cut, so a change is a miss.
  std::string html = Copy(2, kCleanRest);
  html.replace(html.find("text/plain"), 10, "text/html");
  absl::StatusOr<ScanResponse> r = Scan(html, MetadataOf(2));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->result.cache_hit());
  EXPECT_TRUE(r->uploaded);
  // A body that differs by one byte too.
  std::string body = Copy(3, kCleanRest);
  body[body.size() - 3] = '?';
  absl::StatusOr<ScanResponse> b = Scan(body, MetadataOf(3));
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_FALSE(b->result.cache_hit());
}

// Evasion attempts: a first copy whose MIME-relevant fields hide the threat from every parser
// (clean), then a copy with the same body whose fields reveal it. Were those fields cut from the
// key like delivery fields, the second would inherit "clean".
TEST_F(VerdictCacheTest, ABoundaryChangeIsADifferentMessage) {
  // vmscan's two parsers find the attachment even behind a boundary that matches nothing, so
  // this one cannot evade; the key still must not let the copies share a verdict.
  const std::string rest = InfectedRest();  // boundary "=_b"
  std::string other = rest;
  other.replace(other.find("boundary=\"=_b\""), 14, "boundary=\"=_x\"");
  absl::StatusOr<ScanResponse> first = Scan(Copy(1, other), MetadataOf(1));
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<ScanResponse> second = Scan(Copy(2, rest), MetadataOf(2));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->result.verdict(), v1::INFECTED);
  EXPECT_FALSE(second->result.cache_hit());
}

TEST_F(VerdictCacheTest, ATransferEncodingThatRevealsTheBodyIsScanned) {
  const std::string body = Base64Lines(Eicar(), "\r\n");
  const std::string plain = absl::StrCat("Content-Type: application/octet-stream\r\n\r\n", body);
  const std::string encoded = absl::StrCat(
      "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n", body);
  absl::StatusOr<ScanResponse> first = Scan(Copy(1, plain), MetadataOf(1));
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->result.verdict(), v1::CLEAN) << "the premise: base64 text is not EICAR";
  absl::StatusOr<ScanResponse> second = Scan(Copy(2, encoded), MetadataOf(2));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->result.verdict(), v1::INFECTED);
  EXPECT_TRUE(NamesThreat(second->result, "Eicar-Test-Signature"));
  EXPECT_FALSE(second->result.cache_hit());
}

TEST_F(VerdictCacheTest, TenThousandRepeatsFromOneVm) {
  // A VM sending the same message 10,000 times: every one answered, one scan, one entry.
  const std::string message = Copy(7, kCleanRest);
  constexpr int kThreads = 4, kEach = 2500;
  std::atomic<int> clean{0}, failed{0}, uploads{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        absl::StatusOr<ScanResponse> r = Scan(message, MetadataOf(7));
        if (!r.ok()) {
          ++failed;
          continue;
        }
        clean += r->result.verdict() == v1::CLEAN;
        uploads += r->uploaded;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(clean.load(), kThreads * kEach);
  EXPECT_LE(uploads.load(), kThreads);
  VerdictCacheStats stats = server_->verdict_cache()->stats();
  EXPECT_EQ(stats.entries, 1u);
  EXPECT_GE(stats.hits, static_cast<uint64_t>(kThreads * kEach - kThreads));
}

TEST_F(VerdictCacheTest, AmbiguousHeaderBlocksShareNoVerdict) {
  // A folded To whose continuation looks like a Content-Type field: parsers may disagree on
  // where fields end, so nothing is cut and only byte-identical copies share a verdict.
  auto folded = [](int n) {
    return absl::StrCat("To: user", n, "@example.net,\r\n Content-Type: text/html\r\n",
                        kCommonHeaders, kCleanRest);
  };
  ASSERT_TRUE(Scan(folded(1), MetadataOf(1)).ok());
  absl::StatusOr<ScanResponse> other = Scan(folded(2), MetadataOf(2));
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_FALSE(other->result.cache_hit());
  EXPECT_TRUE(other->uploaded);
  absl::StatusOr<ScanResponse> same = Scan(folded(2), MetadataOf(3));
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_TRUE(same->result.cache_hit());  // the very same bytes: safe to share
  // Mixed line endings: the same rule.
  std::string mixed = Copy(4, kCleanRest);
  mixed.replace(mixed.find("\r\nTo:"), 2, "\n");
  absl::StatusOr<ScanResponse> m = Scan(mixed, MetadataOf(4));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_FALSE(m->result.cache_hit());
}

TEST_F(VerdictCacheTest, AgentsThatStreamStillGetServerSideHits) {
  std::unique_ptr<ScanClient> stream = StreamClientFor(*server_);
  for (int vm = 0; vm < 3; ++vm) {
    v1::ScanMetadata metadata = MetadataOf(vm);
    const std::string copy = Copy(vm, kCleanRest);
    metadata.set_size(copy.size());
    absl::StatusOr<ScanResponse> r = stream->Scan(metadata, copy);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r->uploaded);  // no probe: the message always travels
    EXPECT_EQ(r->result.cache_hit(), vm > 0);
    EXPECT_EQ(r->result.verdict(), v1::CLEAN);
  }
}

TEST_F(VerdictCacheTest, ConcurrentCopiesAreAllCleanAndMostlyNotUploaded) {
  constexpr int kThreads = 8, kPerThread = 25;
  std::atomic<int> uploads{0}, clean{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const int vm = t * kPerThread + i;
        absl::StatusOr<ScanResponse> r = Scan(Copy(vm, kCleanRest), MetadataOf(vm));
        if (!r.ok()) {
          ++failed;
          continue;
        }
        uploads += r->uploaded;
        clean += r->result.verdict() == v1::CLEAN;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(clean.load(), kThreads * kPerThread);
  // Only copies probed before the first scan finished can miss: at most one per thread.
  EXPECT_GE(uploads.load(), 1);
  EXPECT_LE(uploads.load(), kThreads);
}

TEST(VerdictCacheBoundsTest, CacheOffMeansEveryCopyIsScanned) {
  absl::StatusOr<std::unique_ptr<HostServer>> server = StartTestServer({"verdict_cache_bytes=0"});
  ASSERT_TRUE(server.ok()) << server.status();
  std::unique_ptr<ScanClient> client = ClientFor(**server);
  for (int vm = 0; vm < 3; ++vm) {
    const std::string copy = Copy(vm, kCleanRest);
    v1::ScanMetadata metadata = MetadataOf(vm);
    metadata.set_size(copy.size());
    absl::StatusOr<ScanResponse> r = client->Scan(metadata, copy);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r->uploaded);
    EXPECT_FALSE(r->result.cache_hit());
  }
  EXPECT_EQ((*server)->verdict_cache()->stats().hits, 0u);
}

TEST(VerdictCacheBoundsTest, ManyDistinctMessagesStayWithinTheByteBound) {
  absl::StatusOr<std::unique_ptr<HostServer>> server =
      StartTestServer({"verdict_cache_bytes=32768"});
  ASSERT_TRUE(server.ok()) << server.status();
  std::unique_ptr<ScanClient> client = ClientFor(**server);
  for (int n = 0; n < 2000; ++n) {
    const std::string message =
        PlainMail(absl::StrCat("distinct ", n), absl::StrCat("body number ", n));
    v1::ScanMetadata metadata = MetadataOf(n % 7);
    metadata.set_size(message.size());
    absl::StatusOr<ScanResponse> r = client->Scan(metadata, message);
    ASSERT_TRUE(r.ok()) << n << ": " << r.status();
    ASSERT_EQ(r->result.verdict(), v1::CLEAN) << n;
  }
  VerdictCacheStats stats = (*server)->verdict_cache()->stats();
  EXPECT_EQ(stats.inserts, 2000u);
  EXPECT_GT(stats.evictions, 0u);
  EXPECT_LE(stats.bytes, stats.max_bytes);
  EXPECT_EQ(stats.max_bytes, 32768u);
  EXPECT_EQ(stats.entries, stats.inserts - stats.evictions);
  // The most recent message is still known: a copy of it is answered without upload.
  const std::string last = PlainMail("distinct 1999", "body number 1999");
  v1::ScanMetadata metadata = MetadataOf(99);
  metadata.set_size(last.size());
  absl::StatusOr<ScanResponse> r = client->Scan(metadata, last);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->uploaded);
}

}  // namespace
}  // namespace vmscan::testing
