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

TEST(WorkerPoolTest, RefusesAfterShutdown) {
  WorkerPool pool(1, 4);
  pool.Shutdown();
  EXPECT_FALSE(pool.TrySubmit([] {}));
  pool.Shutdown();  // idempotent
}

}  // namespace
}  // namespace vmscan
