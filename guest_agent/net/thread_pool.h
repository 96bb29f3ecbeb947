// ThreadPool: a fixed set of threads running submitted functions in order. The agent's sessions
// put their blocking scan calls here, so the event loop never blocks; the queue is bounded by
// the callers (one scan in flight per session, sessions capped by config).
//
//   ThreadPool pool(4);
//   pool.Submit([] { ... });   // any thread
//   // ~ThreadPool runs what is queued, then joins.
#ifndef VMSCAN_GUEST_AGENT_NET_THREAD_POOL_H_
#define VMSCAN_GUEST_AGENT_NET_THREAD_POOL_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace vmscan::net {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void Submit(std::function<void()> fn);

 private:
  void Work();

  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace vmscan::net

#endif  // VMSCAN_GUEST_AGENT_NET_THREAD_POOL_H_
