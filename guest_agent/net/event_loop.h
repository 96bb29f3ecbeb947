// EventLoop: one thread multiplexing many sockets with epoll, resuming coroutines (task.h) when
// their socket is ready, their deadline passes, or they are cancelled. Sessions wait for I/O
// without holding a thread; blocking work (a gRPC scan call) goes to a ThreadPool and comes back
// through Post().
//
//   auto loop = EventLoop::Create().value();
//   std::thread t([&] { loop->Run(); });
//   loop->Post([&] { StartSessions(); });   // any thread
//   ...
//   loop->Quit(); t.join();                 // Run() returns after the current iteration
//
// Thread-safety: Post() and Quit() may be called from any thread; everything else only from
// the loop's own thread (inside coroutines or posted functions). Coroutines are always resumed
// from the top of the loop, never from inside another coroutine's call, so a session may end and
// free itself while others are being woken.
#ifndef VMSCAN_GUEST_AGENT_NET_EVENT_LOOP_H_
#define VMSCAN_GUEST_AGENT_NET_EVENT_LOOP_H_

#include <coroutine>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "guest_agent/net/unique_fd.h"

namespace vmscan::net {

enum class WaitResult { kReady, kTimeout, kCancelled };

class EventLoop;

// One suspended coroutine waiting for an fd event, a deadline or a cancellation.
struct Waiter {
  std::coroutine_handle<> handle;
  WaitResult result = WaitResult::kReady;
  std::multimap<absl::Time, Waiter*>::iterator timer;
  bool has_timer = false;
  Waiter** slot = nullptr;  // the FdWatch field pointing here, cleared when woken
};

// The epoll registration of one fd (edge-triggered, read and write). Owned by whoever owns the
// fd (a Connection, a listener); unregisters in its destructor, before the fd is closed.
class FdWatch {
 public:
  FdWatch(EventLoop* loop, int fd);
  ~FdWatch();
  FdWatch(const FdWatch&) = delete;
  FdWatch& operator=(const FdWatch&) = delete;

  // Awaitable: suspends until the fd is readable (or writable), `deadline` passes, or Cancel().
  // Callers first try the operation and wait only after EAGAIN (edge-triggered).
  struct Awaiter {
    FdWatch* watch;
    bool write;
    absl::Time deadline;
    Waiter waiter;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h);
    WaitResult await_resume() const noexcept { return waiter.result; }
  };
  Awaiter Readable(absl::Time deadline) { return Awaiter{this, false, deadline, {}}; }
  Awaiter Writable(absl::Time deadline) { return Awaiter{this, true, deadline, {}}; }

  // Wakes whoever waits on this fd with kCancelled. A no-op when nobody waits.
  void Cancel();
  bool waiting() const { return reader_ != nullptr || writer_ != nullptr; }
  EventLoop* loop() const { return loop_; }

 private:
  friend class EventLoop;
  EventLoop* loop_;
  int fd_;
  Waiter* reader_ = nullptr;
  Waiter* writer_ = nullptr;
};

class EventLoop {
 public:
  static absl::StatusOr<std::unique_ptr<EventLoop>> Create();
  ~EventLoop();

  // Runs until Quit(). Call from one thread only.
  void Run();
  // Thread-safe.
  void Quit();
  // Runs `fn` on the loop thread, soon. Thread-safe.
  void Post(std::function<void()> fn);
  // Runs `fn` on the loop thread at `when` (or soon after). Loop thread only.
  void RunAt(absl::Time when, std::function<void()> fn);

  // Resumes the waiter's coroutine from the top of the loop with `result`. Loop thread only;
  // a waiter is woken at most once per wait.
  void Wake(Waiter* waiter, WaitResult result);
  void Arm(Waiter* waiter, absl::Time deadline);

  // Awaitable that runs `fn` on `pool` (any callable returning T) and resumes on the loop.
  template <typename T, typename Pool, typename Fn>
  struct OffloadAwaiter {
    EventLoop* loop;
    Pool* pool;
    Fn fn;
    std::optional<T> result;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
      pool->Submit([this, h] {
        result.emplace(fn());
        loop->Post([h] { h.resume(); });
      });
    }
    T await_resume() { return std::move(*result); }
  };
  template <typename T, typename Pool, typename Fn>
  OffloadAwaiter<T, Pool, Fn> Offload(Pool* pool, Fn fn) {
    return OffloadAwaiter<T, Pool, Fn>{this, pool, std::move(fn), std::nullopt};
  }

 private:
  friend class FdWatch;
  EventLoop() = default;
  void Drain();  // eventfd and posted functions
  void FireTimers(absl::Time now);
  int TimeoutMs() const;

  UniqueFd epoll_;
  UniqueFd wake_fd_;
  bool quit_local_ = false;
  std::deque<std::coroutine_handle<>> ready_;
  std::multimap<absl::Time, Waiter*> timers_;
  std::multimap<absl::Time, std::function<void()>> callbacks_;
  absl::Mutex mu_;
  std::deque<std::function<void()>> posted_ ABSL_GUARDED_BY(mu_);
  bool quit_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace vmscan::net

#endif  // VMSCAN_GUEST_AGENT_NET_EVENT_LOOP_H_
