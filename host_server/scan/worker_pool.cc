#include "host_server/scan/worker_pool.h"

#include <pthread.h>

#include <string>
#include <utility>

namespace vmscan {

WorkerPool::WorkerPool(int threads, int queue_depth, std::string name)
    : queue_depth_(static_cast<size_t>(queue_depth < 0 ? 0 : queue_depth)) {
  if (threads < 1) threads = 1;
  threads_.reserve(threads);
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this, i, name] {
      pthread_setname_np(pthread_self(), (name + "-" + std::to_string(i)).substr(0, 15).c_str());
      Run();
    });
  }
}

WorkerPool::~WorkerPool() { Shutdown(); }

bool WorkerPool::TrySubmit(absl::AnyInvocable<void() &&> task, absl::Time due) {
  absl::MutexLock lock(&mu_);
  if (stopping_ || queue_.size() >= queue_depth_ + (threads_.size() - busy_)) {
    // A task that finds an idle worker is not "queued": it starts at once. Only waiting tasks
    // count against queue_depth.
    return false;
  }
  queue_.emplace(std::make_pair(due, submitted_++), std::move(task));
  return true;
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
      if (queue_.empty()) return;  // stopping and drained
      auto first = queue_.begin();
      task = std::move(first->second);
      queue_.erase(first);
      ++busy_;
    }
    std::move(task)();
    absl::MutexLock lock(&mu_);
    --busy_;
  }
}

}  // namespace vmscan
