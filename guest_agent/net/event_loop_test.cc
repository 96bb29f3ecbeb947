#include "guest_agent/net/event_loop.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "guest_agent/net/connection.h"
#include "guest_agent/net/thread_pool.h"

namespace vmscan::net {
namespace {

struct Pair {
  UniqueFd a, b;
};

Pair SocketPair() {
  int fds[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

DetachedTask ReadTwoLines(Connection* conn, std::vector<std::string>* out, EventLoop* loop) {
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<std::string> line = co_await conn->ReadLine(100, absl::Now() + absl::Seconds(5));
    out->push_back(line.ok() ? *line : line.status().ToString());
  }
  loop->Quit();
}

TEST(EventLoopTest, ReadsLinesAcrossWakeUps) {
  auto loop = EventLoop::Create().value();
  Pair p = SocketPair();
  Connection conn(loop.get(), std::move(p.a), "test");
  std::vector<std::string> lines;
  loop->Post([&] { ReadTwoLines(&conn, &lines, loop.get()); });
  std::thread writer([fd = p.b.get()] {
    ASSERT_EQ(write(fd, "hel", 3), 3);
    absl::SleepFor(absl::Milliseconds(20));
    ASSERT_EQ(write(fd, "lo\r\nworld\n", 10), 10);
  });
  loop->Run();
  writer.join();
  EXPECT_EQ(lines, (std::vector<std::string>{"hello", "world"}));
}

DetachedTask WaitAndRecord(Connection* conn, absl::Time deadline, absl::Status* out,
                           EventLoop* loop) {
  absl::StatusOr<std::string> line = co_await conn->ReadLine(100, deadline);
  *out = line.status();
  loop->Quit();
}

TEST(EventLoopTest, DeadlinesAndCancellation) {
  auto loop = EventLoop::Create().value();
  Pair p = SocketPair();
  Connection conn(loop.get(), std::move(p.a), "test");
  absl::Status timed_out;
  loop->Post(
      [&] { WaitAndRecord(&conn, absl::Now() + absl::Milliseconds(50), &timed_out, loop.get()); });
  loop->Run();
  EXPECT_TRUE(absl::IsDeadlineExceeded(timed_out)) << timed_out;

  auto loop2 = EventLoop::Create().value();
  Pair q = SocketPair();
  Connection conn2(loop2.get(), std::move(q.a), "test");
  absl::Status cancelled;
  loop2->Post([&] {
    WaitAndRecord(&conn2, absl::InfiniteFuture(), &cancelled, loop2.get());
    loop2->RunAt(absl::Now() + absl::Milliseconds(20), [&] { conn2.Cancel(); });
  });
  loop2->Run();
  EXPECT_TRUE(absl::IsCancelled(cancelled)) << cancelled;
}

TEST(EventLoopTest, EofIsUnavailable) {
  auto loop = EventLoop::Create().value();
  Pair p = SocketPair();
  Connection conn(loop.get(), std::move(p.a), "test");
  p.b.Reset();
  absl::Status status;
  loop->Post([&] { WaitAndRecord(&conn, absl::InfiniteFuture(), &status, loop.get()); });
  loop->Run();
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
}

DetachedTask OffloadOnce(EventLoop* loop, ThreadPool* pool, std::thread::id* ran_on, int* value) {
  *value = co_await loop->Offload<int>(pool, [ran_on] {
    *ran_on = std::this_thread::get_id();
    return 42;
  });
  loop->Quit();
}

TEST(EventLoopTest, OffloadRunsOnThePoolAndResumesOnTheLoop) {
  auto loop = EventLoop::Create().value();
  ThreadPool pool(2);
  std::thread::id ran_on;
  int value = 0;
  loop->Post([&] { OffloadOnce(loop.get(), &pool, &ran_on, &value); });
  loop->Run();
  EXPECT_EQ(value, 42);
  EXPECT_NE(ran_on, std::this_thread::get_id());
}

DetachedTask ConnectAndRecord(EventLoop* loop, std::string host_port, ThreadPool* resolver,
                              absl::Status* out, bool* done) {
  absl::StatusOr<std::unique_ptr<Connection>> conn =
      co_await Connection::Connect(loop, host_port, absl::Now() + absl::Seconds(10), resolver);
  *out = conn.status();
  *done = true;
  loop->Quit();
}

// A listening loopback socket; returns its port.
int Listen(UniqueFd* fd) {
  *fd = UniqueFd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd->get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(listen(fd->get(), 4), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd->get(), reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

// A loopback listener, a loop, and a one-thread resolver pool held busy until release().
struct BusyResolverSetup {
  BusyResolverSetup() : port(Listen(&listener)), loop(EventLoop::Create().value()) {
    pool.Submit([this] { released.WaitForNotification(); });
  }
  ~BusyResolverSetup() { release(); }
  void release() {
    if (!released.HasBeenNotified()) released.Notify();
  }
  // Connects to host:port from the loop, runs the loop until the connect finished.
  void ConnectFromLoop(const std::string& host) {
    loop->Post([this, host] {
      ConnectAndRecord(loop.get(), absl::StrCat(host, ":", port), &pool, &status, &done);
    });
    loop->Run();
  }

  UniqueFd listener;
  const int port;
  std::unique_ptr<EventLoop> loop;
  absl::Notification released;  // before the pool: the pool's thread is joined first
  ThreadPool pool{1};
  absl::Status status = absl::UnknownError("not run");
  bool done = false;
};

// getaddrinfo can block for seconds (an unreachable DNS server); with a resolver pool the loop
// goes on serving while a name is resolved. The pool is held busy here: the connect cannot
// finish until it is released, yet the loop runs a timer meanwhile.
TEST(EventLoopTest, NamesAreResolvedOnThePoolNotOnTheLoop) {
  BusyResolverSetup t;
  bool done_when_timer_ran = true;
  t.loop->RunAt(absl::Now() + absl::Milliseconds(200), [&] {
    done_when_timer_ran = t.done;
    t.release();
  });
  t.ConnectFromLoop("localhost");
  t.release();  // the loop may have quit before the timer
  EXPECT_FALSE(done_when_timer_ran) << "the connect did not wait for the resolver pool";
  EXPECT_TRUE(t.status.ok()) << t.status;
}

TEST(EventLoopTest, NumericAddressesNeedNoResolver) {
  BusyResolverSetup t;  // a busy pool changes nothing
  t.ConnectFromLoop("127.0.0.1");
  EXPECT_TRUE(t.status.ok()) << t.status;
}

}  // namespace
}  // namespace vmscan::net
