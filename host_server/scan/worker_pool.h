// WorkerPool: a fixed number of threads draining a bounded queue. Scans are CPU-bound and may
// take seconds, so gRPC reactions hand them here instead of blocking a gRPC thread.
//
//   WorkerPool pool(/*threads=*/4, /*queue_depth=*/64);
//   if (!pool.TrySubmit([&] { Scan(); })) return ResourceExhausted("busy");
//   pool.TrySubmit([&] { Scan(); }, /*due=*/absl::Now() + expected_scan_time);
//   switch (pool.Submit([&] { Scan(); }, {.tenant = vm_id, .cost = size, .due = due})) { ... }
//
// Order (docs/design.md §6): tasks belong to tenants (the scan pool's are VMs; TrySubmit's
// tasks all belong to the tenant ""). Between tenants, a free worker takes tasks by deficit
// round robin over their costs (FairQueue, fair_queue.h), so a VM that floods the pool gets no
// more of it than any other VM with scans waiting. Within a tenant: the earliest `due` first,
// ties (and tasks without one, which count as due at the infinite past) in submission order.
// Given "arrival + expected run time", that is earliest expected finish first: a short task
// overtakes a long one that arrived less than the long one's run time before it, and no task
// waits behind tasks that arrived after its own due time, so none starves.
//
// Thread-safe. Submitting never blocks and never grows the queue past `queue_depth`, nor one
// tenant's waiting tasks past `tenant_queue_depth`: a full queue is reported to the caller (who
// answers RESOURCE_EXHAUSTED). The destructor runs every task already accepted, then joins the
// threads.
#ifndef VMSCAN_HOST_SERVER_SCAN_WORKER_POOL_H_
#define VMSCAN_HOST_SERVER_SCAN_WORKER_POOL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "host_server/scan/fair_queue.h"

namespace vmscan {

class WorkerPool {
 public:
  struct Fairness {
    // Credit of one round-robin turn at weight 1, in units of cost (FairQueue).
    uint64_t quantum = 1 << 20;
    // Tasks one tenant may have waiting; 0: only queue_depth bounds it.
    int tenant_queue_depth = 0;
  };
  // Where a task goes in the order above.
  struct Slot {
    std::string tenant;
    uint32_t weight = 1;
    uint64_t cost = 1;
    absl::Time due = absl::InfinitePast();
  };
  enum class Admission {
    kAccepted,
    kQueueFull,        // queue_depth tasks wait already
    kTenantQueueFull,  // this tenant has tenant_queue_depth tasks waiting
    kStopping,
  };

  // Threads are named "<name>-<i>" (at most 15 characters), as top -H and perf show them.
  WorkerPool(int threads, int queue_depth, std::string name, Fairness fairness);
  WorkerPool(int threads, int queue_depth, std::string name = "worker");
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`; false when the queue already holds queue_depth tasks or the pool is stopping.
  bool TrySubmit(absl::AnyInvocable<void() &&> task) {
    return TrySubmit(std::move(task), absl::InfinitePast());
  }
  // The same, ordered by `due` among the waiting tasks (see the top of this file).
  bool TrySubmit(absl::AnyInvocable<void() &&> task, absl::Time due) {
    return Submit(std::move(task), Slot{"", 1, 1, due}) == Admission::kAccepted;
  }
  // Queues `task` as `slot` says, or tells why not.
  Admission Submit(absl::AnyInvocable<void() &&> task, Slot slot);

  // Stops accepting tasks, runs those already queued, joins the threads. Idempotent.
  void Shutdown();

  size_t queued() const;
  // Tasks `tenant` has waiting.
  size_t queued(absl::string_view tenant) const;
  size_t busy() const;
  int threads() const { return static_cast<int>(threads_.size()); }

 private:
  void Run();

  const size_t queue_depth_;
  const size_t tenant_queue_depth_;  // 0: no per-tenant bound
  mutable absl::Mutex mu_;
  FairQueue<absl::AnyInvocable<void() &&>> queue_ ABSL_GUARDED_BY(mu_);
  size_t busy_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_SCAN_WORKER_POOL_H_
