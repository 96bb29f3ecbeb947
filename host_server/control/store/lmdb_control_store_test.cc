#include "host_server/control/store/lmdb_control_store.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmscan {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<std::string> Keys(const std::vector<KeyValue>& kvs) {
  std::vector<std::string> keys;
  for (const KeyValue& kv : kvs) keys.push_back(kv.key);
  return keys;
}

// "put:key=value@rev" / "del:key@rev", to compare event lists in one assertion.
std::string Describe(const WatchEvent& e) {
  return e.kind == WatchEvent::Kind::kPut
             ? absl::StrCat("put:", e.key, "=", e.value, "@", e.revision)
             : absl::StrCat("del:", e.key, "@", e.revision);
}

// Collects what a watch delivers, one string list per callback.
class Recorder {
 public:
  ControlStore::WatchCallback Callback() {
    return [this](const std::vector<WatchEvent>& events) {
      std::vector<std::string> call;
      for (const WatchEvent& e : events) call.push_back(Describe(e));
      absl::MutexLock lock(&mu_);
      calls_.push_back(std::move(call));
    };
  }
  std::vector<std::vector<std::string>> calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::vector<std::string>> calls_ ABSL_GUARDED_BY(mu_);
};

class LmdbControlStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = ::testing::TempDir() + "/control_store_test.XXXXXX";
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ + "/store";  // Open must create it.
    options_.dir = dir_;
    Reopen();
  }

  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(std::filesystem::path(dir_).parent_path(), ec);
  }

  void Reopen() {
    store_.reset();
    absl::StatusOr<std::unique_ptr<LmdbControlStore>> store = LmdbControlStore::Open(options_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  // Commits without compares; the transaction must succeed.
  int64_t MustPut(std::vector<Op> ops) {
    absl::StatusOr<TxnResult> r = store_->Commit({}, ops);
    EXPECT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r.ok() && r->ok);
    return r.ok() ? r->revision : -1;
  }

  std::optional<KeyValue> MustGet(absl::string_view key) {
    absl::StatusOr<std::optional<KeyValue>> kv = store_->Get(key);
    EXPECT_TRUE(kv.ok()) << kv.status();
    return kv.ok() ? *kv : std::nullopt;
  }

  std::vector<KeyValue> MustList(absl::string_view prefix) {
    absl::StatusOr<std::vector<KeyValue>> kvs = store_->List(prefix);
    EXPECT_TRUE(kvs.ok()) << kvs.status();
    return kvs.ok() ? *kvs : std::vector<KeyValue>();
  }

  int64_t MustRevision() {
    absl::StatusOr<int64_t> r = store_->Revision();
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : -1;
  }

  std::string dir_;
  LmdbControlStoreOptions options_;
  std::unique_ptr<LmdbControlStore> store_;
};

TEST_F(LmdbControlStoreTest, NewStoreIsEmptyAndPrivate) {
  EXPECT_EQ(MustRevision(), 0);
  EXPECT_THAT(MustList(""), IsEmpty());
  EXPECT_EQ(MustGet("groups/a"), std::nullopt);
  struct stat st;
  ASSERT_EQ(stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700);
}

TEST_F(LmdbControlStoreTest, PutGetAndListByPrefixInKeyOrder) {
  MustPut({Op::Put("groups/b", "B"), Op::Put("groups/a", "A"), Op::Put("policies/a", "P"),
           Op::Put("groups", "bare"), Op::Put("groupsx/c", "C")});
  std::optional<KeyValue> a = MustGet("groups/a");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->key, "groups/a");
  EXPECT_EQ(a->value, "A");
  EXPECT_EQ(a->mod_revision, 1);
  EXPECT_THAT(Keys(MustList("groups/")), ElementsAre("groups/a", "groups/b"));
  EXPECT_THAT(Keys(MustList("groups")), ElementsAre("groups", "groups/a", "groups/b", "groupsx/c"));
  // The revision kept by the store itself is not a key.
  EXPECT_THAT(Keys(MustList("")),
              ElementsAre("groups", "groups/a", "groups/b", "groupsx/c", "policies/a"));
  EXPECT_THAT(MustList("zzz"), IsEmpty());
  EXPECT_THAT(MustList(std::string(600, 'g')), IsEmpty());
  // Binary values (and an empty one) come back unchanged.
  const std::string binary("\0\xff\x01z", 4);
  MustPut({Op::Put("bin", binary), Op::Put("empty", "")});
  EXPECT_EQ(MustGet("bin")->value, binary);
  EXPECT_EQ(MustGet("empty")->value, "");
}

TEST_F(LmdbControlStoreTest, RevisionsIncreaseOnlyWithWrites) {
  EXPECT_EQ(MustPut({Op::Put("k1", "a")}), 1);
  EXPECT_EQ(MustPut({Op::Put("k2", "b"), Op::Put("k3", "c")}), 2);
  EXPECT_EQ(MustPut({Op::Put("k1", "a2")}), 3);
  EXPECT_EQ(MustGet("k1")->mod_revision, 3);
  EXPECT_EQ(MustGet("k2")->mod_revision, 2);
  EXPECT_EQ(MustGet("k3")->mod_revision, 2);
  EXPECT_EQ(MustRevision(), 3);
  // No operations, or only deletes of absent keys: ok, nothing written, revision unchanged.
  EXPECT_EQ(MustPut({}), 3);
  EXPECT_EQ(MustPut({Op::Delete("absent"), Op::DeletePrefix("nothing/")}), 3);
  EXPECT_EQ(MustRevision(), 3);
  EXPECT_EQ(MustPut({Op::Delete("k2")}), 4);
}

TEST_F(LmdbControlStoreTest, ComparisonsGuardTheWholeTransaction) {
  MustPut({Op::Put("policies/g1", "v1"), Op::Put("other", "o1")});  // revision 1
  const KeyValue seen = *MustGet("policies/g1");

  absl::StatusOr<TxnResult> r =
      store_->Commit({Compare::ModRevision("policies/g1", seen.mod_revision)},
                     {Op::Put("policies/g1", "v2"), Op::Put("history/g1/2", "v2")});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->ok);
  EXPECT_EQ(r->revision, 2);

  // The same stale comparison now fails: none of the operations is applied.
  r = store_->Commit({Compare::ModRevision("policies/g1", seen.mod_revision)},
                     {Op::Put("policies/g1", "v3"), Op::Put("history/g1/3", "v3"),
                      Op::Delete("other"), Op::DeletePrefix("history/")});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->revision, 2);
  EXPECT_EQ(MustRevision(), 2);
  EXPECT_EQ(MustGet("policies/g1")->value, "v2");
  EXPECT_EQ(MustGet("other")->value, "o1");
  EXPECT_THAT(Keys(MustList("history/")), ElementsAre("history/g1/2"));

  // One failing comparison among passing ones is enough to refuse.
  r = store_->Commit({Compare::ModRevision("policies/g1", 2), Compare::ModRevision("other", 2)},
                     {Op::Put("x", "x")});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(MustGet("x"), std::nullopt);
  r = store_->Commit({Compare::ModRevision("policies/g1", 2), Compare::ModRevision("other", 1)},
                     {Op::Put("x", "x")});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->ok);
  EXPECT_EQ(MustGet("x")->mod_revision, 3);
}

TEST_F(LmdbControlStoreTest, CompareZeroMeansAbsent) {
  absl::StatusOr<TxnResult> r =
      store_->Commit({Compare::ModRevision("groups/new", 0)}, {Op::Put("groups/new", "1")});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->ok);
  // Create-if-absent fails once it exists...
  r = store_->Commit({Compare::ModRevision("groups/new", 0)}, {Op::Put("groups/new", "2")});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(MustGet("groups/new")->value, "1");
  // ...and an absent key does not match any real revision.
  r = store_->Commit({Compare::ModRevision("groups/none", 1)}, {Op::Put("groups/none", "x")});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->ok);
  // A failed comparison with no operations is still a failure.
  r = store_->Commit({Compare::ModRevision("groups/new", 7)}, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->ok);
  // After a delete, the key is absent again.
  MustPut({Op::Delete("groups/new")});
  r = store_->Commit({Compare::ModRevision("groups/new", 0)}, {Op::Put("groups/new", "3")});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->ok);
}

TEST_F(LmdbControlStoreTest, DeleteAndDeletePrefix) {
  MustPut({Op::Put("vms/a/1", "x"), Op::Put("vms/a/2", "x"), Op::Put("vms/ab", "x"),
           Op::Put("vms/b/1", "x"), Op::Put("vms/a", "x")});
  EXPECT_EQ(MustPut({Op::Delete("vms/a")}), 2);
  EXPECT_EQ(MustGet("vms/a"), std::nullopt);
  EXPECT_THAT(Keys(MustList("vms/")), ElementsAre("vms/a/1", "vms/a/2", "vms/ab", "vms/b/1"));
  EXPECT_EQ(MustPut({Op::DeletePrefix("vms/a/")}), 3);
  EXPECT_THAT(Keys(MustList("")), ElementsAre("vms/ab", "vms/b/1"));
  // Put after delete in one transaction, and the other way round.
  EXPECT_EQ(MustPut({Op::DeletePrefix("vms/"), Op::Put("vms/c", "new")}), 4);
  EXPECT_THAT(Keys(MustList("")), ElementsAre("vms/c"));
  EXPECT_EQ(MustPut({Op::Put("vms/d", "x"), Op::Delete("vms/d")}), 5);
  EXPECT_EQ(MustGet("vms/d"), std::nullopt);
}

TEST_F(LmdbControlStoreTest, InvalidKeysAreRejected) {
  const std::string longest(LmdbControlStore::kMaxKeyBytes, 'k');
  const std::string too_long(LmdbControlStore::kMaxKeyBytes + 1, 'k');
  EXPECT_EQ(MustPut({Op::Put(longest, "ok")}), 1);
  EXPECT_EQ(MustGet(longest)->value, "ok");

  const std::vector<std::pair<std::vector<Compare>, std::vector<Op>>> bad = {
      {{}, {Op::Put("", "x")}},
      {{}, {Op::Put("fine", "x"), Op::Put(too_long, "x")}},
      {{}, {Op::Delete("")}},
      {{}, {Op::DeletePrefix("")}},  // would silently wipe the store.
      {{Compare::ModRevision("", 0)}, {Op::Put("fine", "x")}},
      {{Compare::ModRevision(too_long, 0)}, {Op::Put("fine", "x")}},
  };
  for (const auto& [compares, ops] : bad) {
    absl::StatusOr<TxnResult> r = store_->Commit(compares, ops);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  }
  EXPECT_EQ(MustGet("fine"), std::nullopt);  // nothing of a refused transaction is written.
  EXPECT_EQ(MustRevision(), 1);
  EXPECT_EQ(store_->Get("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Get(too_long).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(LmdbControlStoreTest, PersistsAcrossReopen) {
  MustPut({Op::Put("a", "1"), Op::Put("b", "2")});
  MustPut({Op::Put("b", "3"), Op::Put("c", "4")});
  MustPut({Op::Delete("c")});
  Reopen();
  EXPECT_EQ(MustRevision(), 3);
  std::vector<KeyValue> all = MustList("");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].key, "a");
  EXPECT_EQ(all[0].value, "1");
  EXPECT_EQ(all[0].mod_revision, 1);
  EXPECT_EQ(all[1].key, "b");
  EXPECT_EQ(all[1].value, "3");
  EXPECT_EQ(all[1].mod_revision, 2);
  // Revisions continue from where they were, and comparisons use the stored ones.
  absl::StatusOr<TxnResult> r = store_->Commit({Compare::ModRevision("b", 2)}, {Op::Put("b", "5")});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->ok);
  EXPECT_EQ(r->revision, 4);
}

TEST_F(LmdbControlStoreTest, SecondOpenOfTheSameDirectoryFails) {
  absl::StatusOr<std::unique_ptr<LmdbControlStore>> second = LmdbControlStore::Open(options_);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition) << second.status();
  EXPECT_THAT(second.status().message(), HasSubstr("already open"));
  LmdbControlStoreOptions other_path = options_;
  other_path.dir = dir_ + "/../store/.";
  second = LmdbControlStore::Open(other_path);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition) << second.status();
  // The first instance is unharmed, and the directory can be opened again once it is closed.
  EXPECT_EQ(MustPut({Op::Put("k", "v")}), 1);
  Reopen();
  EXPECT_EQ(MustGet("k")->value, "v");
}

TEST_F(LmdbControlStoreTest, InvalidOptionsAreRejected) {
  LmdbControlStoreOptions options;
  EXPECT_EQ(LmdbControlStore::Open(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.dir = dir_ + "-other";
  options.map_size = 0;
  EXPECT_EQ(LmdbControlStore::Open(options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(LmdbControlStoreTest, MapGrowsWhenFull) {
  store_.reset();
  options_.map_size = 64 << 10;  // a few pages: fills up after a few dozen KB.
  options_.max_map_size = 64 << 20;
  Reopen();
  const std::string value(4000, 'v');
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(MustPut({Op::Put(absl::StrCat("k/", i), value)}), i + 1);
  }
  EXPECT_EQ(MustList("k/").size(), 200u);
}

TEST_F(LmdbControlStoreTest, FullStoreFailsWithResourceExhaustedAndWritesNothing) {
  store_.reset();
  options_.map_size = 64 << 10;
  options_.max_map_size = 128 << 10;
  Reopen();
  const std::string value(4000, 'v');
  absl::Status status;
  int written = 0;
  for (; written < 100; ++written) {
    absl::StatusOr<TxnResult> r = store_->Commit({}, {Op::Put(absl::StrCat("k/", written), value)});
    if (!r.ok()) {
      status = r.status();
      break;
    }
  }
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  EXPECT_EQ(MustRevision(), written);
  EXPECT_EQ(MustGet(absl::StrCat("k/", written)), std::nullopt);
  // The store stays readable and consistent. (Whether a delete makes room at once depends on
  // when LMDB may reuse the freed pages, so that is not asserted.)
  EXPECT_EQ(MustList("k/").size(), static_cast<size_t>(written));
}

TEST_F(LmdbControlStoreTest, WatchSeesExactlyItsPrefixOneCallPerTransaction) {
  MustPut({Op::Put("groups/old", "x")});  // before the watch: not delivered.
  Recorder groups;
  Recorder all;
  std::unique_ptr<ControlStore::WatchHandle> w1 = store_->Watch("groups/", groups.Callback());
  std::unique_ptr<ControlStore::WatchHandle> w2 = store_->Watch("", all.Callback());

  MustPut({Op::Put("groups/a", "1"), Op::Put("policies/a", "p"), Op::Put("groups/b", "2")});
  MustPut({Op::Put("policies/b", "q")});  // nothing for `groups`.
  MustPut({Op::DeletePrefix("groups/"), Op::Delete("policies/a")});
  MustPut({Op::Delete("groups/none")});  // writes nothing: no call at all.
  store_->Commit({Compare::ModRevision("groups/a", 0)}, {Op::Put("groups/c", "x")})
      .IgnoreError();  // succeeds: revision 5.
  store_->Commit({Compare::ModRevision("groups/c", 1)}, {Op::Put("groups/d", "x")})
      .IgnoreError();  // fails: no event.

  // Delivered before Commit returned: no waiting needed.
  EXPECT_THAT(groups.calls(),
              ElementsAre(ElementsAre("put:groups/a=1@2", "put:groups/b=2@2"),
                          ElementsAre("del:groups/a@4", "del:groups/b@4", "del:groups/old@4"),
                          ElementsAre("put:groups/c=x@5")));
  EXPECT_THAT(all.calls(),
              ElementsAre(ElementsAre("put:groups/a=1@2", "put:policies/a=p@2", "put:groups/b=2@2"),
                          ElementsAre("put:policies/b=q@3"),
                          ElementsAre("del:groups/a@4", "del:groups/b@4", "del:groups/old@4",
                                      "del:policies/a@4"),
                          ElementsAre("put:groups/c=x@5")));
}

TEST_F(LmdbControlStoreTest, DestroyedHandleHearsNothingMore) {
  Recorder kept;
  Recorder dropped;
  std::unique_ptr<ControlStore::WatchHandle> w1 = store_->Watch("k", kept.Callback());
  std::unique_ptr<ControlStore::WatchHandle> w2 = store_->Watch("k", dropped.Callback());
  MustPut({Op::Put("k1", "a")});
  w2.reset();
  MustPut({Op::Put("k2", "b")});
  EXPECT_THAT(kept.calls(), ElementsAre(ElementsAre("put:k1=a@1"), ElementsAre("put:k2=b@2")));
  EXPECT_THAT(dropped.calls(), ElementsAre(ElementsAre("put:k1=a@1")));
}

TEST_F(LmdbControlStoreTest, DestroyingAHandleWaitsForItsRunningCallback) {
  absl::Notification in_callback;
  absl::Notification release;
  std::atomic<bool> callback_done{false};
  std::unique_ptr<ControlStore::WatchHandle> watch =
      store_->Watch("", [&](const std::vector<WatchEvent>&) {
        in_callback.Notify();
        release.WaitForNotification();
        callback_done = true;
      });
  std::thread committer([&] { MustPut({Op::Put("k", "v")}); });
  in_callback.WaitForNotification();
  std::atomic<bool> destroyed{false};
  std::thread destroyer([&] {
    watch.reset();
    destroyed = true;
  });
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_FALSE(destroyed);  // still blocked by the callback in progress.
  release.Notify();
  destroyer.join();
  EXPECT_TRUE(destroyed);
  EXPECT_TRUE(callback_done);
  committer.join();
}

TEST_F(LmdbControlStoreTest, CallbackMayReadCommitAndWatch) {
  Recorder follow_up;
  std::unique_ptr<ControlStore::WatchHandle> late;
  std::vector<std::string> seen_values;
  std::unique_ptr<ControlStore::WatchHandle> watch =
      store_->Watch("in/", [&](const std::vector<WatchEvent>& events) {
        for (const WatchEvent& e : events) {
          absl::StatusOr<std::optional<KeyValue>> kv = store_->Get(e.key);
          seen_values.push_back(kv.ok() && kv->has_value() ? (*kv)->value : "?");
          // A reaction committed from the callback: queued, delivered after this call.
          absl::StatusOr<TxnResult> r = store_->Commit({}, {Op::Put("out/" + e.key, e.value)});
          EXPECT_TRUE(r.ok() && r->ok);
        }
        if (late == nullptr) late = store_->Watch("out/", follow_up.Callback());
      });
  MustPut({Op::Put("in/a", "1")});
  EXPECT_THAT(seen_values, ElementsAre("1"));
  EXPECT_EQ(MustGet("out/in/a")->value, "1");
  // The nested commit (revision 2) was delivered before the outer Commit returned; the watch
  // created in the callback started after it and so saw nothing yet.
  EXPECT_THAT(follow_up.calls(), IsEmpty());
  MustPut({Op::Put("in/b", "2")});
  EXPECT_THAT(follow_up.calls(), ElementsAre(ElementsAre("put:out/in/b=2@4")));
}

TEST_F(LmdbControlStoreTest, ConcurrentCompareAndSwapLosesNoUpdate) {
  constexpr int kThreads = 8;
  constexpr int kIncrementsPerThread = 25;
  MustPut({Op::Put("counter", "0")});
  // A watch sees every increment exactly once, in order, never two callbacks at once.
  std::atomic<int> in_callback{0};
  std::atomic<bool> overlapped{false};
  std::vector<int64_t> watched;  // touched only by callbacks, which never overlap.
  std::unique_ptr<ControlStore::WatchHandle> watch =
      store_->Watch("counter", [&](const std::vector<WatchEvent>& events) {
        if (in_callback.fetch_add(1) != 0) overlapped = true;
        for (const WatchEvent& e : events) {
          int64_t v = 0;
          EXPECT_TRUE(absl::SimpleAtoi(e.value, &v));
          watched.push_back(v);
        }
        in_callback.fetch_sub(1);
      });
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int done = 0; done < kIncrementsPerThread;) {
        absl::StatusOr<std::optional<KeyValue>> kv = store_->Get("counter");
        ASSERT_TRUE(kv.ok() && kv->has_value());
        int64_t value = 0;
        ASSERT_TRUE(absl::SimpleAtoi((*kv)->value, &value));
        absl::StatusOr<TxnResult> r =
            store_->Commit({Compare::ModRevision("counter", (*kv)->mod_revision)},
                           {Op::Put("counter", absl::StrCat(value + 1))});
        ASSERT_TRUE(r.ok()) << r.status();
        if (r->ok) {
          ++done;
        } else {
          ++conflicts;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  constexpr int kTotal = kThreads * kIncrementsPerThread;
  EXPECT_EQ(MustGet("counter")->value, absl::StrCat(kTotal));
  EXPECT_EQ(MustRevision(), 1 + kTotal);  // failed comparisons did not bump it.
  EXPECT_FALSE(overlapped);
  ASSERT_EQ(watched.size(), static_cast<size_t>(kTotal));
  for (int i = 0; i < kTotal; ++i) EXPECT_EQ(watched[i], i + 1);
  RecordProperty("conflicts", conflicts.load());
}

}  // namespace
}  // namespace vmscan
