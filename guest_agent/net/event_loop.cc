#include "guest_agent/net/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/logging.h"

namespace vmscan::net {

FdWatch::FdWatch(EventLoop* loop, int fd) : loop_(loop), fd_(fd) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = this;
  if (epoll_ctl(loop_->epoll_.get(), EPOLL_CTL_ADD, fd_, &ev) != 0) {
    // Only a bad fd or exhausted kernel memory gets here: our own bug or a dying system.
    VMSCAN_LOG(ERROR) << "epoll_ctl ADD fd " << fd_ << ": " << std::strerror(errno);
    std::abort();
  }
}

FdWatch::~FdWatch() {
  Cancel();
  epoll_ctl(loop_->epoll_.get(), EPOLL_CTL_DEL, fd_, nullptr);
}

void FdWatch::Awaiter::await_suspend(std::coroutine_handle<> h) {
  waiter.handle = h;
  waiter.slot = write ? &watch->writer_ : &watch->reader_;
  *waiter.slot = &waiter;
  watch->loop_->Arm(&waiter, deadline);
}

void FdWatch::Cancel() {
  if (Waiter* w = std::exchange(reader_, nullptr)) loop_->Wake(w, WaitResult::kCancelled);
  if (Waiter* w = std::exchange(writer_, nullptr)) loop_->Wake(w, WaitResult::kCancelled);
}

absl::StatusOr<std::unique_ptr<EventLoop>> EventLoop::Create() {
  std::unique_ptr<EventLoop> loop(new EventLoop());
  loop->epoll_.Reset(epoll_create1(EPOLL_CLOEXEC));
  if (!loop->epoll_.valid()) {
    return absl::InternalError(absl::StrCat("epoll_create1: ", std::strerror(errno)));
  }
  loop->wake_fd_.Reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!loop->wake_fd_.valid()) {
    return absl::InternalError(absl::StrCat("eventfd: ", std::strerror(errno)));
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // the wake-up fd
  if (epoll_ctl(loop->epoll_.get(), EPOLL_CTL_ADD, loop->wake_fd_.get(), &ev) != 0) {
    return absl::InternalError(absl::StrCat("epoll_ctl: ", std::strerror(errno)));
  }
  return loop;
}

EventLoop::~EventLoop() = default;

void EventLoop::Post(std::function<void()> fn) {
  {
    absl::MutexLock lock(&mu_);
    posted_.push_back(std::move(fn));
  }
  uint64_t one = 1;
  ssize_t ignored = ::write(wake_fd_.get(), &one, sizeof(one));
  (void)ignored;
}

void EventLoop::Quit() {
  {
    absl::MutexLock lock(&mu_);
    quit_ = true;
  }
  Post([] {});
}

void EventLoop::RunAt(absl::Time when, std::function<void()> fn) {
  callbacks_.emplace(when, std::move(fn));
}

void EventLoop::Arm(Waiter* waiter, absl::Time deadline) {
  if (deadline != absl::InfiniteFuture()) {
    waiter->timer = timers_.emplace(deadline, waiter);
    waiter->has_timer = true;
  }
}

void EventLoop::Wake(Waiter* waiter, WaitResult result) {
  if (!waiter->handle) return;
  if (waiter->slot != nullptr && *waiter->slot == waiter) *waiter->slot = nullptr;
  waiter->slot = nullptr;
  if (waiter->has_timer) {
    timers_.erase(waiter->timer);
    waiter->has_timer = false;
  }
  waiter->result = result;
  ready_.push_back(std::exchange(waiter->handle, {}));
}

int EventLoop::TimeoutMs() const {
  if (!ready_.empty()) return 0;
  absl::Time next = absl::InfiniteFuture();
  if (!timers_.empty()) next = timers_.begin()->first;
  if (!callbacks_.empty()) next = std::min(next, callbacks_.begin()->first);
  if (next == absl::InfiniteFuture()) return -1;
  absl::Duration left = next - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 60000));
}

void EventLoop::FireTimers(absl::Time now) {
  while (!timers_.empty() && timers_.begin()->first <= now) {
    Waiter* w = timers_.begin()->second;
    timers_.erase(timers_.begin());
    w->has_timer = false;
    Wake(w, WaitResult::kTimeout);
  }
  while (!callbacks_.empty() && callbacks_.begin()->first <= now) {
    std::function<void()> fn = std::move(callbacks_.begin()->second);
    callbacks_.erase(callbacks_.begin());
    fn();
  }
}

void EventLoop::Drain() {
  uint64_t count;
  while (::read(wake_fd_.get(), &count, sizeof(count)) > 0) {
  }
  std::deque<std::function<void()>> posted;
  {
    absl::MutexLock lock(&mu_);
    posted.swap(posted_);
    if (quit_) quit_local_ = true;
  }
  for (std::function<void()>& fn : posted) fn();
}

void EventLoop::Run() {
  constexpr int kMaxEvents = 64;
  epoll_event events[kMaxEvents];
  while (!quit_local_) {
    int n = epoll_wait(epoll_.get(), events, kMaxEvents, TimeoutMs());
    if (n < 0 && errno != EINTR) {
      VMSCAN_LOG(ERROR) << "epoll_wait: " << std::strerror(errno);
      std::abort();
    }
    for (int i = 0; i < n; ++i) {
      auto* watch = static_cast<FdWatch*>(events[i].data.ptr);
      if (watch == nullptr) continue;  // wake-up: drained below
      const uint32_t e = events[i].events;
      if ((e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) && watch->reader_ != nullptr) {
        Wake(std::exchange(watch->reader_, nullptr), WaitResult::kReady);
      }
      if ((e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) && watch->writer_ != nullptr) {
        Wake(std::exchange(watch->writer_, nullptr), WaitResult::kReady);
      }
    }
    Drain();
    FireTimers(absl::Now());
    // Resume only what was ready before this pass; what they make ready runs next pass.
    size_t count = ready_.size();
    for (size_t i = 0; i < count && !ready_.empty(); ++i) {
      std::coroutine_handle<> h = ready_.front();
      ready_.pop_front();
      h.resume();
    }
  }
}

}  // namespace vmscan::net
