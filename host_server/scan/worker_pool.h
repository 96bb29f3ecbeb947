// WorkerPool: a fixed number of threads draining a bounded queue. Scans are CPU-bound and may
// take seconds, so gRPC reactions hand them here instead of blocking a gRPC thread.
//
//   WorkerPool pool(/*threads=*/4, /*queue_depth=*/64);
//   if (!pool.TrySubmit([&] { Scan(); })) return ResourceExhausted("busy");
//   pool.TrySubmit([&] { Scan(); }, /*due=*/absl::Now() + expected_scan_time);
//
// Order: a free worker takes the waiting task with the earliest `due`, ties (and tasks without
// one, which count as due at the infinite past) in submission order. Given "arrival + expected
// run time", that is earliest expected finish first: a short task overtakes a long one that
// arrived less than the long one's run time before it, and no task waits behind tasks that
// arrived after its own due time, so none starves.
//
// Thread-safe. TrySubmit never blocks and never grows the queue past `queue_depth`: a full queue
// is reported to the caller (who answers RESOURCE_EXHAUSTED). The destructor runs every task
// already accepted, then joins the threads.
#ifndef VMSCAN_HOST_SERVER_SCAN_WORKER_POOL_H_
#define VMSCAN_HOST_SERVER_SCAN_WORKER_POOL_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace vmscan {

class WorkerPool {
 public:
  // Threads are named "<name>-<i>" (at most 15 characters), as top -H and perf show them.
  WorkerPool(int threads, int queue_depth, std::string name = "worker");
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`; false when the queue already holds queue_depth tasks or the pool is stopping.
  bool TrySubmit(absl::AnyInvocable<void() &&> task) {
    return TrySubmit(std::move(task), absl::InfinitePast());
  }
  // The same, ordered by `due` among the waiting tasks (see the top of this file).
  bool TrySubmit(absl::AnyInvocable<void() &&> task, absl::Time due);

  // Stops accepting tasks, runs those already queued, joins the threads. Idempotent.
  void Shutdown();

  size_t queued() const;
  size_t busy() const;
  int threads() const { return static_cast<int>(threads_.size()); }

 private:
  void Run();

  const size_t queue_depth_;
  mutable absl::Mutex mu_;
  // Waiting tasks by (due, submission number).
  std::map<std::pair<absl::Time, uint64_t>, absl::AnyInvocable<void() &&>> queue_
      ABSL_GUARDED_BY(mu_);
  uint64_t submitted_ ABSL_GUARDED_BY(mu_) = 0;
  size_t busy_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_SCAN_WORKER_POOL_H_
