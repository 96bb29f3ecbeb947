#include "host_server/backup/lmdb_backup_store.h"

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "host_server/backup/backup_id.h"
#include "tests/testing/lmdb_raw.h"
#include "tests/testing/test_mail.h"

namespace vmscan {
namespace {

using ::vmscan::testing::RandomBytes;
using ::vmscan::testing::RawRead;
using ::vmscan::testing::RawRewrite;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr int64_t kDay = int64_t{24} * 3600 * 1000000;
constexpr int64_t kStart = int64_t{1732680000} * 1000000;  // 2024-11-27, in unix micros.

std::string Mail(absl::string_view subject, absl::string_view body) {
  return absl::StrCat("From: a@example.org\r\nTo: b@example.org\r\nSubject: ", subject,
                      "\r\nMessage-ID: <", subject, "@example.org>\r\n\r\n", body, "\r\n");
}

v1::BackupRecord Meta(absl::string_view vm, absl::string_view threat,
                      v1::Action action = v1::DELETE) {
  v1::BackupRecord meta;
  meta.mutable_vm()->set_id(std::string(vm));
  meta.mutable_vm()->set_name(absl::StrCat(vm, ".local"));
  meta.mutable_vm()->set_hypervisor_host("hv1");
  meta.set_channel(v1::POP3);
  meta.set_direction(v1::INCOMING);
  meta.set_envelope_sender("a@example.org");
  meta.add_recipients("b@example.org");
  meta.add_recipients("c@example.org");
  meta.set_subject("invoice");
  meta.set_message_id("<1@example.org>");
  v1::Threat* t = meta.add_threats();
  t->set_name(std::string(threat));
  t->set_part_path("2");
  t->set_filename("invoice.zip");
  meta.set_action(action);
  return meta;
}

std::vector<std::string> Ids(const std::vector<v1::BackupRecord>& records) {
  std::vector<std::string> ids;
  for (const v1::BackupRecord& r : records) ids.push_back(r.id());
  return ids;
}

class LmdbBackupStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = ::testing::TempDir() + "/backup_test.XXXXXX";
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ + "/store";  // Open must create it.
    options_.dir = dir_;
    options_.clock = [this] { return absl::FromUnixMicros(now_.load()); };
  }

  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(std::filesystem::path(dir_).parent_path(), ec);
  }

  void Open() {
    store_.reset();
    absl::StatusOr<std::unique_ptr<LmdbBackupStore>> store = LmdbBackupStore::Open(options_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  std::string MustPut(const v1::BackupRecord& meta, absl::string_view original) {
    absl::StatusOr<std::string> id = store_->Put(meta, original);
    EXPECT_TRUE(id.ok()) << id.status();
    return id.value_or("");
  }

  v1::BackupStats MustStats() {
    absl::StatusOr<v1::BackupStats> stats = store_->Stats();
    EXPECT_TRUE(stats.ok()) << stats.status();
    return stats.value_or(v1::BackupStats());
  }

  std::vector<v1::BackupRecord> MustList(const v1::BackupFilter& filter) {
    absl::StatusOr<std::vector<v1::BackupRecord>> list = store_->List(filter);
    EXPECT_TRUE(list.ok()) << list.status();
    return list.value_or(std::vector<v1::BackupRecord>());
  }

  std::string dir_;
  std::atomic<int64_t> now_{kStart};
  LmdbBackupOptions options_;
  std::unique_ptr<LmdbBackupStore> store_;
};

TEST_F(LmdbBackupStoreTest, PutThenGetReturnsMetadataAndFillsStoreFields) {
  Open();
  v1::BackupRecord meta = Meta("vm-1", "Eicar-Test-Signature", v1::DELIVER_DISINFECTED);
  meta.set_id("caller-chosen");  // ignored
  meta.set_sha256("bogus");      // ignored
  const std::string mail = Mail("invoice", std::string(20000, 'x'));
  std::string id = MustPut(meta, mail);
  EXPECT_EQ(ParseBackupId(id).value_or(-1), kStart);

  absl::StatusOr<v1::BackupRecord> got = store_->Get(id);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->id(), id);
  EXPECT_EQ(got->created_unix_micros(), kStart);
  EXPECT_EQ(got->size(), mail.size());
  EXPECT_EQ(got->sha256(), Sha256Hex(mail));
  EXPECT_GT(got->stored_size(), 0u);
  EXPECT_LT(got->stored_size(), mail.size() / 10);  // compressed
  EXPECT_EQ(got->vm().id(), "vm-1");
  EXPECT_EQ(got->vm().name(), "vm-1.local");
  EXPECT_EQ(got->channel(), v1::POP3);
  EXPECT_EQ(got->direction(), v1::INCOMING);
  EXPECT_EQ(got->envelope_sender(), "a@example.org");
  EXPECT_THAT(got->recipients(), ElementsAre("b@example.org", "c@example.org"));
  EXPECT_EQ(got->subject(), "invoice");
  EXPECT_EQ(got->message_id(), "<1@example.org>");
  ASSERT_THAT(got->threats(), SizeIs(1));
  EXPECT_EQ(got->threats(0).name(), "Eicar-Test-Signature");
  EXPECT_EQ(got->threats(0).filename(), "invoice.zip");
  EXPECT_EQ(got->action(), v1::DELIVER_DISINFECTED);
  EXPECT_TRUE(got->damage().empty());

  v1::BackupStats stats = MustStats();
  EXPECT_EQ(stats.records(), 1u);
  EXPECT_EQ(stats.original_bytes(), mail.size());
  EXPECT_EQ(stats.stored_bytes(), got->stored_size());
  EXPECT_EQ(stats.oldest_unix_micros(), kStart);
  EXPECT_EQ(stats.newest_unix_micros(), kStart);
  EXPECT_GE(stats.map_bytes(), options_.initial_map_bytes);
}

TEST_F(LmdbBackupStoreTest, OriginalsComeBackByteIdentical) {
  Open();
  const std::vector<std::string> originals = {
      Mail("text", "hello"),
      std::string("\0\0binary\0with\xff\xfe NULs\0", 22),
      std::string(),
      RandomBytes(5 << 20),
  };
  std::vector<std::string> ids;
  for (const std::string& original : originals) ids.push_back(MustPut(Meta("vm", "T"), original));
  for (size_t i = 0; i < originals.size(); ++i) {
    absl::StatusOr<std::string> back = store_->GetOriginal(ids[i]);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->size(), originals[i].size()) << i;
    EXPECT_TRUE(*back == originals[i]) << i;
  }
  EXPECT_EQ(store_->Get(ids[2])->size(), 0u);
}

TEST_F(LmdbBackupStoreTest, IdsAreUniqueAndFollowCreationOrder) {
  options_.clock = nullptr;  // the real clock
  Open();
  std::vector<std::string> ids;
  for (int i = 0; i < 30; ++i) ids.push_back(MustPut(Meta("vm", "T"), "m"));
  for (size_t i = 1; i < ids.size(); ++i) EXPECT_LT(ids[i - 1], ids[i]);
  const int64_t created = store_->Get(ids.back())->created_unix_micros();
  EXPECT_EQ(ParseBackupId(ids.back()).value_or(-1), created);
  EXPECT_LE(absl::ToUnixMicros(absl::Now()) - created, 60 * int64_t{1000000});
}

TEST_F(LmdbBackupStoreTest, IdsStayOrderedWhenTheClockRepeatsOrStepsBack) {
  Open();
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(MustPut(Meta("vm", "T"), "same microsecond"));
  now_ = kStart - kDay;  // NTP steps the clock back
  ids.push_back(MustPut(Meta("vm", "T"), "after the step"));
  std::set<std::string> unique(ids.begin(), ids.end());
  EXPECT_EQ(unique.size(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(store_->Get(ids[i])->created_unix_micros(), kStart + static_cast<int64_t>(i));
  }
}

class ListTest : public LmdbBackupStoreTest {
 protected:
  void SetUp() override {
    LmdbBackupStoreTest::SetUp();
    Open();
    a_ = Put(0, Meta("vm-a", "Eicar-Test-Signature", v1::DELETE));
    b_ = Put(1, Meta("vm-b", "Win.Trojan.Agent-1", v1::DELIVER_DISINFECTED));
    c_ = Put(2, Meta("vm-a", "Win.Trojan.Agent-2", v1::DELIVER_DISINFECTED));
    d_ = Put(3, Meta("vm-c", "Eicar-Test-Signature", v1::DELETE));
  }

  std::string Put(int day, const v1::BackupRecord& meta) {
    now_ = kStart + day * kDay;
    return MustPut(meta, Mail(absl::StrCat("day", day), "body"));
  }

  std::string a_, b_, c_, d_;
};

TEST_F(ListTest, NoFilterListsEverythingNewestFirst) {
  EXPECT_THAT(Ids(MustList(v1::BackupFilter())), ElementsAre(d_, c_, b_, a_));
}

TEST_F(ListTest, ByVm) {
  v1::BackupFilter filter;
  filter.set_vm_id("vm-a");
  EXPECT_THAT(Ids(MustList(filter)), ElementsAre(c_, a_));
  filter.set_vm_id("vm-unknown");
  EXPECT_THAT(MustList(filter), IsEmpty());
}

TEST_F(ListTest, ByTimeRangeSinceInclusiveUntilExclusive) {
  v1::BackupFilter filter;
  filter.set_since_unix_micros(kStart + kDay);
  EXPECT_THAT(Ids(MustList(filter)), ElementsAre(d_, c_, b_));
  filter.set_until_unix_micros(kStart + 3 * kDay);
  EXPECT_THAT(Ids(MustList(filter)), ElementsAre(c_, b_));
  filter.clear_since_unix_micros();
  filter.set_until_unix_micros(kStart + kDay + 1);
  EXPECT_THAT(Ids(MustList(filter)), ElementsAre(b_, a_));
  filter.set_until_unix_micros(kStart + 10 * kDay);  // beyond the newest
  EXPECT_THAT(Ids(MustList(filter)), ElementsAre(d_, c_, b_, a_));
  filter.set_until_unix_micros(kStart);  // before the oldest
  EXPECT_THAT(MustList(filter), IsEmpty());
}

TEST_F(ListTest, ByThreatSubstringIgnoringCase) {
  v1::BackupFilter filter;
  filter.set_threat("eicar");
  EXPECT_THAT(Ids(MustList(filter)), ElementsAre(d_, a_));
  filter.set_threat("trojan.agent-2");
  EXPECT_THAT(Ids(MustList(filter)), ElementsAre(c_));
  filter.set_threat("nothing like it");
  EXPECT_THAT(MustList(filter), IsEmpty());
}

TEST_F(ListTest, ByAction) {
  v1::BackupFilter filter;
  filter.set_action(v1::DELIVER_DISINFECTED);
  EXPECT_THAT(Ids(MustList(filter)), ElementsAre(c_, b_));
  filter.set_action(v1::DELETE);
  EXPECT_THAT(Ids(MustList(filter)), ElementsAre(d_, a_));
}

TEST_F(ListTest, LimitAndPagingWithUntil) {
  v1::BackupFilter filter;
  filter.set_limit(3);
  std::vector<v1::BackupRecord> page = MustList(filter);
  EXPECT_THAT(Ids(page), ElementsAre(d_, c_, b_));
  filter.set_until_unix_micros(page.back().created_unix_micros());
  EXPECT_THAT(Ids(MustList(filter)), ElementsAre(a_));
}

TEST_F(ListTest, FiltersCombine) {
  v1::BackupFilter filter;
  filter.set_vm_id("vm-a");
  filter.set_action(v1::DELIVER_DISINFECTED);
  filter.set_threat("agent");
  filter.set_since_unix_micros(kStart + kDay);
  EXPECT_THAT(Ids(MustList(filter)), ElementsAre(c_));
  filter.set_vm_id("vm-b");
  EXPECT_THAT(Ids(MustList(filter)), ElementsAre(b_));
  filter.set_action(v1::DELETE);
  EXPECT_THAT(MustList(filter), IsEmpty());
}

TEST_F(LmdbBackupStoreTest, DeleteRemovesOneRecord) {
  Open();
  std::string keep = MustPut(Meta("vm", "T"), "keep me");
  std::string gone = MustPut(Meta("vm", "T"), "delete me");
  const uint64_t keep_stored = store_->Get(keep)->stored_size();
  ASSERT_TRUE(store_->Delete(gone).ok());
  EXPECT_EQ(store_->Get(gone).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetOriginal(gone).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->Delete(gone).code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Ids(MustList(v1::BackupFilter())), ElementsAre(keep));
  v1::BackupStats stats = MustStats();
  EXPECT_EQ(stats.records(), 1u);
  EXPECT_EQ(stats.original_bytes(), 7u);
  EXPECT_EQ(stats.stored_bytes(), keep_stored);
  EXPECT_EQ(store_->GetOriginal(keep).value_or(""), "keep me");
}

TEST_F(LmdbBackupStoreTest, UnknownIdIsNotFoundMalformedIdIsInvalid) {
  Open();
  MustPut(Meta("vm", "T"), "x");
  const std::string unknown = FormatBackupId(kStart, 0x12345678);
  EXPECT_EQ(store_->Get(unknown).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetOriginal(unknown).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->Delete(unknown).code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(store_->Get(unknown).status().message(), HasSubstr(unknown));
  for (const char* bad : {"", "nope", "../meta", "00062A1B2C3D4E5F-9F8E7D6C"}) {
    EXPECT_EQ(store_->Get(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(store_->GetOriginal(bad).status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(store_->Delete(bad).code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(MustStats().records(), 1u);
}

TEST_F(LmdbBackupStoreTest, PurgeByAgeThenEverything) {
  Open();
  std::vector<std::string> ids;
  for (int hour = 0; hour < 3; ++hour) {
    now_ = kStart + hour * int64_t{3600000000};
    ids.push_back(MustPut(Meta("vm", "T"), absl::StrCat("hour ", hour)));
  }
  now_ = kStart + 3 * int64_t{3600000000};
  EXPECT_EQ(store_->Purge(absl::Minutes(90)).value_or(999), 2u);  // hours 0 and 1
  EXPECT_THAT(Ids(MustList(v1::BackupFilter())), ElementsAre(ids[2]));
  EXPECT_EQ(store_->Purge(absl::Minutes(90)).value_or(999), 0u);
  EXPECT_EQ(store_->Purge(absl::ZeroDuration()).value_or(999), 1u);
  v1::BackupStats stats = MustStats();
  EXPECT_EQ(stats.records(), 0u);
  EXPECT_EQ(stats.original_bytes(), 0u);
  EXPECT_EQ(stats.stored_bytes(), 0u);
  EXPECT_EQ(stats.oldest_unix_micros(), 0);
  EXPECT_EQ(stats.newest_unix_micros(), 0);
}

TEST_F(LmdbBackupStoreTest, PurgeEverythingCrossesBatches) {
  Open();
  // Purge removes 1024 records per transaction.
  for (int i = 0; i < 1030; ++i) MustPut(Meta("vm", "T"), absl::StrCat("message ", i));
  EXPECT_EQ(store_->Purge(absl::ZeroDuration()).value_or(0), 1030u);
  EXPECT_EQ(MustStats().records(), 0u);
  EXPECT_THAT(MustList(v1::BackupFilter()), IsEmpty());
}

TEST_F(LmdbBackupStoreTest, RetentionByAgeRemovesOldestFirst) {
  options_.max_age = absl::Hours(24 * 10);
  Open();
  now_ = kStart;
  std::string day0 = MustPut(Meta("vm", "T"), "day 0");
  now_ = kStart + 5 * kDay;
  std::string day5 = MustPut(Meta("vm", "T"), "day 5");
  now_ = kStart + 9 * kDay;
  std::string day9 = MustPut(Meta("vm", "T"), "day 9");
  EXPECT_EQ(store_->EnforceRetention().value_or(999), 0u);

  now_ = kStart + 12 * kDay;
  EXPECT_EQ(store_->EnforceRetention().value_or(999), 1u);
  EXPECT_THAT(Ids(MustList(v1::BackupFilter())), ElementsAre(day9, day5));

  now_ = kStart + 16 * kDay;  // Put enforces retention by itself.
  std::string day16 = MustPut(Meta("vm", "T"), "day 16");
  EXPECT_THAT(Ids(MustList(v1::BackupFilter())), ElementsAre(day16, day9));

  now_ = kStart + 40 * kDay;  // the age limit spares nothing, not even the newest.
  EXPECT_EQ(store_->EnforceRetention().value_or(999), 2u);
  EXPECT_EQ(MustStats().records(), 0u);
}

TEST_F(LmdbBackupStoreTest, RetentionBySizeRemovesOldestFirst) {
  options_.max_total_bytes = 300 * 1000;
  Open();
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    now_ = kStart + i;
    ids.push_back(MustPut(Meta("vm", "T"), RandomBytes(100 * 1000)));  // incompressible
    EXPECT_LE(MustStats().stored_bytes(), options_.max_total_bytes) << i;
  }
  // 3 x (100,000 bytes + frame overhead) is over the limit: two fit.
  EXPECT_THAT(Ids(MustList(v1::BackupFilter())), ElementsAre(ids[4], ids[3]));
  EXPECT_EQ(MustStats().records(), 2u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(store_->Get(ids[i]).status().code(), absl::StatusCode::kNotFound) << i;
  }
}

TEST_F(LmdbBackupStoreTest, RecordLargerThanTheLimitIsKeptUntilANewerOneArrives) {
  options_.max_total_bytes = 50 * 1000;
  Open();
  const std::string big1 = RandomBytes(100 * 1000);
  std::string first = MustPut(Meta("vm", "T"), big1);
  EXPECT_EQ(store_->EnforceRetention().value_or(999), 0u);
  EXPECT_EQ(store_->GetOriginal(first).value_or(""), big1);
  now_ = kStart + 1;
  std::string second = MustPut(Meta("vm", "T"), RandomBytes(100 * 1000));
  EXPECT_THAT(Ids(MustList(v1::BackupFilter())), ElementsAre(second));
  EXPECT_EQ(MustStats().records(), 1u);
}

TEST_F(LmdbBackupStoreTest, MapGrowsFromOneMebibyteForTwentyMebibytes) {
  options_.initial_map_bytes = 1 << 20;
  Open();
  const uint64_t initial_map = MustStats().map_bytes();
  EXPECT_LT(initial_map, uint64_t{4} << 20);
  std::vector<std::string> originals;
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    now_ = kStart + i;
    originals.push_back(RandomBytes(1 << 20));
    ids.push_back(MustPut(Meta("vm", "T"), originals.back()));
    ASSERT_FALSE(ids.back().empty()) << i;
  }
  v1::BackupStats stats = MustStats();
  EXPECT_EQ(stats.records(), 20u);
  EXPECT_GT(stats.map_bytes(), uint64_t{20} << 20);
  EXPECT_GT(stats.map_bytes(), initial_map);
  for (int i = 0; i < 20; ++i) {
    EXPECT_TRUE(store_->GetOriginal(ids[i]).value_or("") == originals[i]) << i;
  }
  // One record several times the map size needs several doublings in one Put.
  const std::string big = RandomBytes(3 * stats.map_bytes() / 2);
  std::string id = MustPut(Meta("vm", "T"), big);
  EXPECT_TRUE(store_->GetOriginal(id).value_or("") == big);
}

TEST_F(LmdbBackupStoreTest, MapCeilingGivesResourceExhaustedAndTheStoreStaysUsable) {
  options_.initial_map_bytes = 1 << 20;
  options_.max_map_bytes = 2 << 20;
  Open();
  std::string small = MustPut(Meta("vm", "T"), "small");
  absl::StatusOr<std::string> id = store_->Put(Meta("vm", "T"), RandomBytes(5 << 20));
  EXPECT_EQ(id.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(MustStats().records(), 1u);
  EXPECT_EQ(store_->GetOriginal(small).value_or(""), "small");
  MustPut(Meta("vm", "T"), "another small one");
  EXPECT_EQ(MustStats().records(), 2u);
}

TEST_F(LmdbBackupStoreTest, ReopenKeepsEverything) {
  Open();
  std::map<std::string, std::string> originals;
  for (int i = 0; i < 5; ++i) {
    now_ = kStart + i;
    std::string original = Mail(absl::StrCat("m", i), RandomBytes(1000));
    originals[MustPut(Meta("vm", "T"), original)] = original;
  }
  const v1::BackupStats before = MustStats();
  store_.reset();

  now_ = kStart;  // the clock went back while the server was down
  Open();
  const v1::BackupStats after = MustStats();
  EXPECT_EQ(after.records(), 5u);
  EXPECT_EQ(after.original_bytes(), before.original_bytes());
  EXPECT_EQ(after.stored_bytes(), before.stored_bytes());
  EXPECT_EQ(after.newest_unix_micros(), before.newest_unix_micros());
  for (const auto& [id, original] : originals) {
    EXPECT_EQ(store_->GetOriginal(id).value_or(""), original) << id;
  }
  EXPECT_GT(MustPut(Meta("vm", "T"), "later"), originals.rbegin()->first);
}

TEST_F(LmdbBackupStoreTest, DamagedTotalsAreRecountedAtOpen) {
  Open();
  MustPut(Meta("vm", "T"), "one");
  MustPut(Meta("vm", "T"), RandomBytes(5000));
  const v1::BackupStats before = MustStats();
  store_.reset();
  ASSERT_TRUE(RawRewrite(dir_, "info", "totals", [](std::string& v) { v = "garbage"; }).ok());
  Open();
  const v1::BackupStats after = MustStats();
  EXPECT_EQ(after.records(), 2u);
  EXPECT_EQ(after.original_bytes(), before.original_bytes());
  EXPECT_EQ(after.stored_bytes(), before.stored_bytes());
}

TEST_F(LmdbBackupStoreTest, SecondOpenInTheSameProcessIsRefused) {
  Open();
  absl::StatusOr<std::unique_ptr<LmdbBackupStore>> again = LmdbBackupStore::Open(options_);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  LmdbBackupOptions other_path = options_;
  other_path.dir = dir_ + "/../store/.";
  again = LmdbBackupStore::Open(other_path);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  store_.reset();
  again = LmdbBackupStore::Open(other_path);
  EXPECT_TRUE(again.ok()) << again.status();
}

TEST_F(LmdbBackupStoreTest, DamagedContentIsDataLossForThatRecordOnly) {
  Open();
  const std::string good_mail = Mail("good", RandomBytes(4000));
  std::string damaged = MustPut(Meta("vm", "T"), Mail("bad", RandomBytes(4000)));
  std::string good = MustPut(Meta("vm", "T"), good_mail);
  store_.reset();
  ASSERT_TRUE(
      RawRewrite(dir_, "content", damaged, [](std::string& v) { v[v.size() / 2] ^= 0x10; }).ok());
  Open();

  absl::StatusOr<std::string> original = store_->GetOriginal(damaged);
  EXPECT_EQ(original.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(original.status().message(), HasSubstr(damaged));
  EXPECT_TRUE(store_->Get(damaged).ok());  // the metadata is intact
  EXPECT_EQ(store_->GetOriginal(good).value_or(""), good_mail);
  EXPECT_THAT(MustList(v1::BackupFilter()), SizeIs(2));
}

TEST_F(LmdbBackupStoreTest, ValidButWrongContentFailsTheSha256Check) {
  Open();
  const std::string mail_a = Mail("aaaa", std::string(3000, 'a'));
  const std::string mail_b = Mail("bbbb", std::string(3000, 'b'));
  ASSERT_EQ(mail_a.size(), mail_b.size());
  std::string a = MustPut(Meta("vm", "T"), mail_a);
  std::string b = MustPut(Meta("vm", "T"), mail_b);
  store_.reset();
  const std::string content_b = RawRead(dir_, "content", b).value_or("");
  ASSERT_TRUE(RawRewrite(dir_, "content", a, [&](std::string& v) { v = content_b; }).ok());
  Open();
  absl::StatusOr<std::string> original = store_->GetOriginal(a);
  EXPECT_EQ(original.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(original.status().message(), HasSubstr("SHA-256"));
  EXPECT_THAT(original.status().message(), HasSubstr(a));
  EXPECT_EQ(store_->GetOriginal(b).value_or(""), mail_b);
}

TEST_F(LmdbBackupStoreTest, DamagedMetadataIsReportedListedForAdminsAndDeletable) {
  Open();
  std::string damaged = MustPut(Meta("vm-1", "T"), "first");
  now_ = kStart + 1;
  std::string good = MustPut(Meta("vm-1", "T"), "second");
  const uint64_t damaged_stored = store_->Get(damaged)->stored_size();
  const v1::BackupRecord good_record = *store_->Get(good);
  store_.reset();
  ASSERT_TRUE(
      RawRewrite(dir_, "meta", damaged, [](std::string& v) { v[v.size() - 3] ^= 0x01; }).ok());
  Open();

  absl::StatusOr<v1::BackupRecord> got = store_->Get(damaged);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(got.status().message(), HasSubstr(damaged));
  EXPECT_EQ(store_->GetOriginal(damaged).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(store_->Get(good).ok());
  EXPECT_EQ(store_->GetOriginal(good).value_or(""), "second");

  std::vector<v1::BackupRecord> all = MustList(v1::BackupFilter());
  ASSERT_THAT(all, SizeIs(2));
  EXPECT_EQ(all[0].id(), good);
  EXPECT_TRUE(all[0].damage().empty());
  EXPECT_EQ(all[1].id(), damaged);
  EXPECT_FALSE(all[1].damage().empty());
  EXPECT_EQ(all[1].created_unix_micros(), kStart);
  EXPECT_EQ(all[1].stored_size(), damaged_stored);
  v1::BackupFilter by_vm;
  by_vm.set_vm_id("vm-1");
  EXPECT_THAT(Ids(MustList(by_vm)), ElementsAre(good));

  ASSERT_TRUE(store_->Delete(damaged).ok());
  v1::BackupStats stats = MustStats();
  EXPECT_EQ(stats.records(), 1u);
  EXPECT_EQ(stats.stored_bytes(), good_record.stored_size());
  EXPECT_EQ(stats.original_bytes(), good_record.size());
}

TEST_F(LmdbBackupStoreTest, OriginalIsNotPlainInTheDatabaseFile) {
  Open();
  // The EICAR test string, split so that this test binary itself is not flagged.
  const std::string eicar =
      std::string("X5O!P%@AP[4\\PZX54(P^)7CC)7}$") + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
  // zstd keeps both of these verbatim (a raw block; raw literals), so only the mask hides them.
  const std::vector<std::string> originals = {RandomBytes(3000) + eicar + RandomBytes(3000), eicar};
  std::vector<std::string> ids;
  for (const std::string& original : originals) {
    ids.push_back(MustPut(Meta("vm", "Eicar-Test-Signature"), original));
  }
  store_.reset();
  std::ifstream file(dir_ + "/data.mdb", std::ios::binary);
  ASSERT_TRUE(file.good());
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  EXPECT_GT(bytes.size(), 6000u);
  EXPECT_EQ(bytes.find("EICAR-STANDARD"), std::string::npos);
  EXPECT_EQ(bytes.find("X5O!P%@AP"), std::string::npos);
  Open();
  for (size_t i = 0; i < originals.size(); ++i) {
    EXPECT_TRUE(store_->GetOriginal(ids[i]).value_or("") == originals[i]) << i;
  }
}

TEST_F(LmdbBackupStoreTest, ConcurrentPutsFromEightThreadsWhileTheMapGrows) {
  options_.clock = nullptr;
  options_.initial_map_bytes = 1 << 20;
  Open();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  // Each thread fills its own slot; merged after join.
  std::vector<std::vector<std::pair<std::string, std::string>>> written(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string original = absl::StrCat("thread ", t, " message ", i, RandomBytes(20000));
        absl::StatusOr<std::string> id = store_->Put(Meta(absl::StrCat("vm-", t), "T"), original);
        if (!id.ok()) {
          ++failures;
          continue;
        }
        if (!store_->List(v1::BackupFilter()).ok()) ++failures;  // readers interleave
        written[t].emplace_back(*id, std::move(original));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::map<std::string, std::string> originals;  // id -> original
  for (auto& slot : written) originals.insert(slot.begin(), slot.end());
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(originals.size(), size_t{kThreads * kPerThread});  // ids are unique
  v1::BackupStats stats = MustStats();
  EXPECT_EQ(stats.records(), uint64_t{kThreads * kPerThread});
  EXPECT_GT(stats.map_bytes(), uint64_t{4} << 20);
  for (const auto& [id, original] : originals) {
    ASSERT_TRUE(store_->GetOriginal(id).value_or("") == original) << id;
  }
  // Id order is creation order.
  std::vector<v1::BackupRecord> all = MustList(v1::BackupFilter());
  ASSERT_THAT(all, SizeIs(kThreads * kPerThread));
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_GT(all[i - 1].id(), all[i].id());
    EXPECT_GT(all[i - 1].created_unix_micros(), all[i].created_unix_micros());
  }
}

}  // namespace
}  // namespace vmscan
