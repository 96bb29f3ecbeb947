#include "host_server/scan/worker_pool.h"

#include <pthread.h>

#include <optional>
#include <string>
#include <utility>

namespace vmscan {

WorkerPool::WorkerPool(int threads, int queue_depth, std::string name, Fairness fairness)
    : queue_depth_(static_cast<size_t>(queue_depth < 0 ? 0 : queue_depth)),
      tenant_queue_depth_(
          static_cast<size_t>(fairness.tenant_queue_depth < 0 ? 0 : fairness.tenant_queue_depth)),
      queue_(fairness.quantum) {
  if (threads < 1) threads = 1;
  threads_.reserve(threads);
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this, i, name] {
      pthread_setname_np(pthread_self(), (name + "-" + std::to_string(i)).substr(0, 15).c_str());
      Run();
    });
  }
}

WorkerPool::WorkerPool(int threads, int queue_depth, std::string name)
    : WorkerPool(threads, queue_depth, std::move(name), Fairness()) {}

WorkerPool::~WorkerPool() { Shutdown(); }

WorkerPool::Admission WorkerPool::Submit(absl::AnyInvocable<void() &&> task, Slot slot) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return Admission::kStopping;
  // A task that finds an idle worker is not "queued": it starts at once. Only waiting tasks
  // count against queue_depth (and tenant_queue_depth).
  const size_t idle = threads_.size() - busy_;
  if (queue_.size() >= queue_depth_ + idle) return Admission::kQueueFull;
  if (tenant_queue_depth_ != 0 && queue_.size(slot.tenant) >= tenant_queue_depth_ + idle) {
    return Admission::kTenantQueueFull;
  }
  queue_.Push(slot.tenant, slot.weight, slot.cost, slot.due, std::move(task));
  return Admission::kAccepted;
}

void WorkerPool::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

size_t WorkerPool::queued() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

size_t WorkerPool::queued(absl::string_view tenant) const {
  absl::MutexLock lock(&mu_);
  return queue_.size(tenant);
}

size_t WorkerPool::busy() const {
  absl::MutexLock lock(&mu_);
  return busy_;
}

void WorkerPool::Run() {
  while (true) {
    absl::AnyInvocable<void() &&> task;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](WorkerPool* pool) ABSL_EXCLUSIVE_LOCKS_REQUIRED(pool->mu_) {
            return pool->stopping_ || !pool->queue_.empty();
          },
          this));
      std::optional<absl::AnyInvocable<void()&&>> next = queue_.Pop();
      if (!next.has_value()) return;  // stopping and drained
      task = *std::move(next);
      ++busy_;
    }
    std::move(task)();
    absl::MutexLock lock(&mu_);
    --busy_;
  }
}

}  // namespace vmscan
