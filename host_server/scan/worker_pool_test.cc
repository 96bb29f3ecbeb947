#include "host_server/scan/worker_pool.h"

#include <atomic>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace vmscan {
namespace {

TEST(WorkerPoolTest, RunsEveryAcceptedTask) {
  std::atomic<int> done{0};
  {
    WorkerPool pool(2, 1000);
    for (int i = 0; i < 500; ++i) ASSERT_TRUE(pool.TrySubmit([&] { done++; }));
  }  // destructor drains
  EXPECT_EQ(done.load(), 500);
}

TEST(WorkerPoolTest, FullQueueIsRefusedNotGrown) {
  WorkerPool pool(1, 2);
  absl::Notification release;
  absl::Notification started;
  ASSERT_TRUE(pool.TrySubmit([&] {
    started.Notify();
    release.WaitForNotification();
  }));
  started.WaitForNotification();
  EXPECT_TRUE(pool.TrySubmit([] {}));
  EXPECT_TRUE(pool.TrySubmit([] {}));
  EXPECT_FALSE(pool.TrySubmit([] {}));  // one busy, two waiting: full
  EXPECT_EQ(pool.queued(), 2u);
  EXPECT_EQ(pool.busy(), 1u);
  release.Notify();
  pool.Shutdown();
  EXPECT_EQ(pool.queued(), 0u);
}

TEST(WorkerPoolTest, IdleWorkersAcceptWithZeroQueueDepth) {
  WorkerPool pool(2, 0);
  absl::Notification release;
  std::atomic<int> started{0};
  auto blocker = [&] {
    started++;
    release.WaitForNotification();
  };
  EXPECT_TRUE(pool.TrySubmit(blocker));
  EXPECT_TRUE(pool.TrySubmit(blocker));
  EXPECT_FALSE(pool.TrySubmit(blocker));
  release.Notify();
  pool.Shutdown();  // before `started` and `release` go: a worker may not have begun yet
}

// Holds the pool's only worker until released, so that what is submitted meanwhile waits.
class OneBusyWorker {
 public:
  explicit OneBusyWorker(WorkerPool& pool) {
    EXPECT_TRUE(pool.TrySubmit([this] {
      started_.Notify();
      release_.WaitForNotification();
    }));
    started_.WaitForNotification();
  }
  void Release() { release_.Notify(); }

 private:
  absl::Notification started_;
  absl::Notification release_;
};

TEST(WorkerPoolTest, WaitingTasksRunEarliestDueFirstTiesInSubmissionOrder) {
  WorkerPool pool(1, 16);
  OneBusyWorker busy(pool);
  absl::Mutex mu;
  std::vector<std::string> order;
  auto record = [&](std::string name) {
    return [&, name] {
      absl::MutexLock lock(&mu);
      order.push_back(name);
    };
  };
  const absl::Time t0 = absl::FromUnixSeconds(1000000);
  ASSERT_TRUE(pool.TrySubmit(record("big, due t0+5s"), t0 + absl::Seconds(5)));
  ASSERT_TRUE(pool.TrySubmit(record("small, due t0+10ms"), t0 + absl::Milliseconds(10)));
  ASSERT_TRUE(pool.TrySubmit(record("late small, due t0+6s"), t0 + absl::Seconds(6)));
  ASSERT_TRUE(pool.TrySubmit(record("tie 1, due t0+1s"), t0 + absl::Seconds(1)));
  ASSERT_TRUE(pool.TrySubmit(record("tie 2, due t0+1s"), t0 + absl::Seconds(1)));
  ASSERT_TRUE(pool.TrySubmit(record("no due")));  // counts as due at the infinite past
  busy.Release();
  pool.Shutdown();
  EXPECT_EQ(order, (std::vector<std::string>{"no due", "small, due t0+10ms", "tie 1, due t0+1s",
                                             "tie 2, due t0+1s", "big, due t0+5s",
                                             "late small, due t0+6s"}));
}

TEST(WorkerPoolTest, TasksWithoutDueStayFirstInFirstOut) {
  WorkerPool pool(1, 64);
  OneBusyWorker busy(pool);
  std::vector<int> order;  // only the single worker writes it
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(pool.TrySubmit([&order, i] { order.push_back(i); }));
  busy.Release();
  pool.Shutdown();
  ASSERT_EQ(order.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(order[i], i);
}

// A VM that floods the pool does not delay another VM's scan behind its own: the other VM's
// task runs next after the one already running, and the flooder's share of the waiting queue is
// bounded while the other VM still gets in.
TEST(WorkerPoolTest, AFloodingTenantNeitherDelaysNorLocksOutAnother) {
  WorkerPool pool(1, 16, "fair", WorkerPool::Fairness{.quantum = 1 << 20, .tenant_queue_depth = 8});
  OneBusyWorker busy(pool);
  std::vector<std::string> order;  // only the single worker writes it
  int flooder_accepted = 0;
  int flooder_refused = 0;
  for (int i = 0; i < 64; ++i) {
    WorkerPool::Admission a = pool.Submit([&order] { order.push_back("flood"); },
                                          {.tenant = "flooder", .cost = 10 << 20});
    if (a == WorkerPool::Admission::kAccepted) ++flooder_accepted;
    if (a == WorkerPool::Admission::kTenantQueueFull) ++flooder_refused;
  }
  EXPECT_EQ(flooder_accepted, 8);
  EXPECT_EQ(flooder_refused, 56);
  EXPECT_EQ(pool.queued("flooder"), 8u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(pool.Submit([&order] { order.push_back("victim"); },
                          {.tenant = "victim", .cost = 10 << 10}),
              WorkerPool::Admission::kAccepted);
  }
  busy.Release();
  pool.Shutdown();
  ASSERT_EQ(order.size(), 11u);
  // The victim's three small scans cost less than one turn: they run before the flooder's
  // first 10 MB scan (which needs ten turns of credit).
  EXPECT_EQ(order[0], "victim");
  EXPECT_EQ(order[1], "victim");
  EXPECT_EQ(order[2], "victim");
}

TEST(WorkerPoolTest, TheWholeQueueBoundStillHolds) {
  WorkerPool pool(1, 4, "fair", WorkerPool::Fairness{.quantum = 1, .tenant_queue_depth = 3});
  OneBusyWorker busy(pool);
  for (const char* vm : {"a", "b"}) {
    for (int i = 0; i < 2; ++i) {
      EXPECT_EQ(pool.Submit([] {}, {.tenant = vm}), WorkerPool::Admission::kAccepted);
    }
  }
  EXPECT_EQ(pool.Submit([] {}, {.tenant = "c"}), WorkerPool::Admission::kQueueFull);
  busy.Release();
  pool.Shutdown();
  EXPECT_EQ(pool.Submit([] {}, {.tenant = "c"}), WorkerPool::Admission::kStopping);
}

TEST(WorkerPoolTest, RefusesAfterShutdown) {
  WorkerPool pool(1, 4);
  pool.Shutdown();
  EXPECT_FALSE(pool.TrySubmit([] {}));
  pool.Shutdown();  // idempotent
}

}  // namespace
}  // namespace vmscan
