#include "guest_agent/smtp_proxy/smtp_proxy.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "guest_agent/net/tls_context.h"
#include "guest_agent/smtp_proxy/smtp_reply.h"

namespace vmscan {
namespace {

// "127.0.0.1:34567" or "[::1]:34567"; *port (if not null) is the port.
std::string SocketName(const sockaddr_storage& addr, int* port = nullptr) {
  char host[INET6_ADDRSTRLEN] = "?";
  int number = 0;
  if (addr.ss_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    number = ntohs(in->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    number = ntohs(in6->sin6_port);
  }
  if (port != nullptr) *port = number;
  return addr.ss_family == AF_INET6 ? absl::StrCat("[", host, "]:", number)
                                    : absl::StrCat(host, ":", number);
}

// Binds and listens on `host_port`; *bound is the address as bound ("127.0.0.1:34567",
// "[::1]:34567") and *port its port.
absl::StatusOr<net::UniqueFd> Listen(const std::string& host_port, std::string* bound, int* port) {
  size_t colon = host_port.rfind(':');
  std::string host = host_port.substr(0, colon);
  std::string service = host_port.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
      rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("smtp_proxy.listen ", host_port, ": ", gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> list(found, &freeaddrinfo);
  net::UniqueFd fd(socket(found->ai_family, found->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (!fd.valid() || bind(fd.get(), found->ai_addr, found->ai_addrlen) != 0 ||
      listen(fd.get(), 128) != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", host_port, ": ", std::strerror(errno)));
  }
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  *bound = SocketName(addr, port);
  return fd;
}
std::string LocalHostname() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SmtpProxy>> SmtpProxy::Start(const InterceptorContext& context) {
  const v1::AgentConfig& config = context.config;
  std::unique_ptr<SmtpProxy> proxy(new SmtpProxy());
  const v1::SmtpProxyConfig& pc = config.smtp_proxy();
  if (!pc.tls_cert_file().empty()) {
    absl::StatusOr<net::UniqueSslCtx> ctx =
        net::MakeServerTlsContext(pc.tls_cert_file(), pc.tls_key_file());
    if (!ctx.ok()) return ctx.status();
    proxy->server_tls_ = std::move(*ctx);
  }
  absl::StatusOr<net::UniqueSslCtx> client_ctx = net::MakeClientTlsContext(pc.upstream_ca_file());
  if (!client_ctx.ok()) return client_ctx.status();
  proxy->client_tls_ = std::move(*client_ctx);

  absl::StatusOr<std::unique_ptr<net::EventLoop>> loop = net::EventLoop::Create();
  if (!loop.ok()) return loop.status();
  proxy->loop_ = std::move(*loop);
  absl::StatusOr<net::UniqueFd> fd = Listen(pc.listen(), &proxy->listen_address_, &proxy->port_);
  if (!fd.ok()) return fd.status();
  proxy->listen_fd_ = std::move(*fd);
  proxy->pool_ = std::make_unique<net::ThreadPool>(static_cast<int>(pc.scan_workers()));

  SmtpProxyContext& ctx = proxy->context_;
  ctx.config = pc;
  ctx.on_no_scanner = config.on_no_scanner() == v1::OnNoScanner::DELIVER_UNSCANNED
                          ? v1::OnNoScanner::DELIVER_UNSCANNED
                          : v1::OnNoScanner::TEMPFAIL;
  ctx.vm = context.vm;
  ctx.hostname = pc.hostname().empty() ? LocalHostname() : pc.hostname();
  ctx.server_tls = proxy->server_tls_.get();
  ctx.client_tls = proxy->client_tls_.get();
  ctx.scan = context.scan;
  ctx.loop = proxy->loop_.get();
  ctx.pool = proxy->pool_.get();

  SmtpProxy* p = proxy.get();
  p->loop_->Post([p] {
    p->listen_watch_ = std::make_unique<net::FdWatch>(p->loop_.get(), p->listen_fd_.get());
    p->AcceptLoop();
  });
  p->thread_ = std::thread([p] { p->loop_->Run(); });
  VMSCAN_LOG(INFO) << "smtp-proxy: relaying to " << pc.upstream() << ", STARTTLS to clients "
                   << (p->server_tls_ ? "offered" : "not offered") << ", max message "
                   << pc.max_message_bytes() << " bytes";
  return proxy;
}

SmtpProxy::~SmtpProxy() { Stop(absl::ZeroDuration()); }

bool SmtpProxy::stopped() const { return stop_requested_.load(); }

void SmtpProxy::Refuse(net::UniqueFd fd) {
  // Best effort, non-blocking: a fresh socket's buffer always takes one line.
  std::string line = Reply(421, "4.3.2 Too many connections; try again later");
  ssize_t ignored = ::send(fd.get(), line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  (void)ignored;
}

net::DetachedTask SmtpProxy::AcceptLoop() {
  accepting_ = true;
  while (!stopping_) {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    int fd = accept4(listen_fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          net::WaitResult w = co_await listen_watch_->Readable(absl::InfiniteFuture());
          if (w == net::WaitResult::kCancelled) break;
        }
        continue;
      }
      // EMFILE and friends: back off instead of spinning.
      VMSCAN_LOG(WARNING) << "smtp-proxy: accept: " << std::strerror(errno);
      co_await listen_watch_->Readable(absl::Now() + absl::Milliseconds(200));
      continue;
    }
    net::UniqueFd client(fd);
    if (sessions_.size() >= context_.config.max_sessions()) {
      VMSCAN_LOG(WARNING) << "smtp-proxy: " << sessions_.size() << " sessions open, refusing "
                          << SocketName(addr);
      Refuse(std::move(client));
      continue;
    }
    auto conn = std::make_unique<net::Connection>(loop_.get(), std::move(client), SocketName(addr));
    RunSession(std::make_unique<SmtpSession>(context_, std::move(conn), next_id_++));
  }
  accepting_ = false;
  listen_watch_.reset();
  listen_fd_.Reset();
  MaybeQuit();
}

net::DetachedTask SmtpProxy::RunSession(std::unique_ptr<SmtpSession> session) {
  SmtpSession* s = session.get();
  sessions_.insert(s);
  if (stopping_) s->RequestStop();
  co_await s->Run();
  sessions_.erase(s);
  MaybeQuit();
}

void SmtpProxy::MaybeQuit() {
  if (stopping_ && sessions_.empty() && !accepting_) loop_->Quit();
}

void SmtpProxy::Stop(absl::Duration grace) {
  absl::MutexLock lock(&stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  stop_requested_.store(true);
  if (!thread_.joinable()) return;  // Start() failed before serving
  loop_->Post([this, grace] {
    stopping_ = true;
    VMSCAN_LOG(INFO) << "smtp-proxy: stopping, " << sessions_.size() << " session(s) open";
    if (listen_watch_) listen_watch_->Cancel();
    for (SmtpSession* s : sessions_) s->RequestStop();
    loop_->RunAt(absl::Now() + grace, [this] {
      for (SmtpSession* s : sessions_) s->Abort();
    });
    MaybeQuit();
  });
  thread_.join();
  pool_.reset();  // scans in flight finished: their sessions could not end before
  VMSCAN_LOG(INFO) << "smtp-proxy: stopped";
}

}  // namespace vmscan
