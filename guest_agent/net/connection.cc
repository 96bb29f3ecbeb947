#include "guest_agent/net/connection.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace vmscan::net {
namespace {

constexpr size_t kReadChunk = 16 * 1024;

std::string SslErrors() {
  std::string text;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    absl::StrAppend(&text, text.empty() ? "" : "; ", buf);
  }
  return text.empty() ? "unknown TLS error" : text;
}

}  // namespace

absl::Status WaitError(WaitResult result) {
  switch (result) {
    case WaitResult::kTimeout:
      return absl::DeadlineExceededError("timed out");
    case WaitResult::kCancelled:
      return absl::CancelledError("cancelled");
    case WaitResult::kReady:
      break;
  }
  return absl::OkStatus();
}

Connection::Connection(EventLoop* loop, UniqueFd fd, std::string peer)
    : fd_(std::move(fd)), watch_(loop, fd_.get()), peer_(std::move(peer)) {
  int flags = fcntl(fd_.get(), F_GETFL);
  fcntl(fd_.get(), F_SETFL, flags | O_NONBLOCK);
  int one = 1;
  setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

Connection::~Connection() = default;

namespace {

struct Resolved {
  int rc = EAI_FAIL;
  addrinfo* list = nullptr;
};

Resolved Resolve(const std::string& host, const std::string& port, int flags) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = flags;
  Resolved r;
  r.rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &r.list);
  return r;
}

}  // namespace

Task<absl::StatusOr<std::unique_ptr<Connection>>> Connection::Connect(EventLoop* loop,
                                                                      std::string host_port,
                                                                      absl::Time deadline,
                                                                      ThreadPool* resolver) {
  size_t colon = host_port.rfind(':');
  std::string host = host_port.substr(0, colon);
  std::string port = colon == std::string::npos ? "" : host_port.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  Resolved resolved = Resolve(host, port, AI_NUMERICHOST | AI_NUMERICSERV);
  if (resolved.rc == EAI_NONAME) {
    if (resolver != nullptr) {
      resolved = co_await loop->Offload<Resolved>(
          resolver, [&host, &port] { return Resolve(host, port, 0); });
    } else {
      resolved = Resolve(host, port, 0);
    }
  }
  if (resolved.rc != 0) {
    co_return absl::UnavailableError(
        absl::StrCat("cannot resolve ", host_port, ": ", gai_strerror(resolved.rc)));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> list(resolved.list, &freeaddrinfo);
  absl::Status last = absl::UnavailableError(absl::StrCat(host_port, ": no address"));
  for (addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
    UniqueFd fd(socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid()) {
      last = absl::UnavailableError(absl::StrCat("socket: ", std::strerror(errno)));
      continue;
    }
    int rc = connect(fd.get(), ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno != EINPROGRESS) {
      last =
          absl::UnavailableError(absl::StrCat("connect ", host_port, ": ", std::strerror(errno)));
      continue;
    }
    auto conn = std::make_unique<Connection>(loop, std::move(fd), host_port);
    if (rc != 0) {
      WaitResult w = co_await conn->watch_.Writable(deadline);
      if (w != WaitResult::kReady) co_return WaitError(w);
      int err = 0;
      socklen_t len = sizeof(err);
      getsockopt(conn->fd(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        last =
            absl::UnavailableError(absl::StrCat("connect ", host_port, ": ", std::strerror(err)));
        continue;
      }
    }
    co_return conn;
  }
  co_return last;
}

Task<absl::StatusOr<size_t>> Connection::ReadSome(char* buf, size_t n, absl::Time deadline) {
  for (;;) {
    bool want_write = false;
    if (ssl_) {
      ERR_clear_error();
      int r = SSL_read(ssl_.get(), buf, static_cast<int>(n));
      if (r > 0) co_return static_cast<size_t>(r);
      int e = SSL_get_error(ssl_.get(), r);
      if (e == SSL_ERROR_ZERO_RETURN) co_return size_t{0};
      if (e == SSL_ERROR_WANT_WRITE) {
        want_write = true;
      } else if (e != SSL_ERROR_WANT_READ) {
        co_return absl::UnavailableError(absl::StrCat("TLS read from ", peer_, ": ", SslErrors()));
      }
    } else {
      ssize_t r = ::read(fd_.get(), buf, n);
      if (r >= 0) co_return static_cast<size_t>(r);
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        co_return absl::UnavailableError(
            absl::StrCat("read from ", peer_, ": ", std::strerror(errno)));
      }
    }
    WaitResult w =
        want_write ? co_await watch_.Writable(deadline) : co_await watch_.Readable(deadline);
    if (w != WaitResult::kReady) co_return WaitError(w);
  }
}

Task<absl::Status> Connection::Fill(absl::Time deadline) {
  // Read through a frame-local buffer so an idle connection holds no read buffer at all.
  char chunk[kReadChunk];
  absl::StatusOr<size_t> n = co_await ReadSome(chunk, sizeof(chunk), deadline);
  if (!n.ok()) co_return n.status();
  if (*n == 0) co_return absl::UnavailableError("connection closed");
  if (start_ > 0 && start_ >= buffer_.size() / 2) {
    buffer_.erase(0, start_);
    start_ = 0;
  }
  buffer_.append(chunk, *n);
  co_return absl::OkStatus();
}

void Connection::Consume(size_t n) {
  start_ += n;
  if (start_ >= buffer_.size()) {
    if (buffer_.capacity() > kReadChunk) {
      std::string().swap(buffer_);  // a large message went through: give the memory back
    } else {
      buffer_.clear();
    }
    start_ = 0;
  }
}

size_t Connection::DiscardBuffered() {
  size_t n = buffer_.size() - start_;
  buffer_.clear();
  start_ = 0;
  return n;
}

Task<absl::StatusOr<std::string>> Connection::ReadLine(size_t max, absl::Time deadline) {
  bool too_long = false;
  for (;;) {
    absl::string_view data = buffered();
    size_t lf = data.find('\n');
    if (lf != absl::string_view::npos) {
      if (too_long || lf + 1 > max) {
        Consume(lf + 1);
        co_return absl::ResourceExhaustedError("line too long");
      }
      std::string line(data.substr(0, lf));
      Consume(lf + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      co_return line;
    }
    if (data.size() > max) {  // drop what we have; keep looking for the end of the line
      too_long = true;
      Consume(data.size());
    }
    absl::Status s = co_await Fill(deadline);
    if (!s.ok()) co_return s;
  }
}

Task<absl::Status> Connection::Write(absl::string_view data, absl::Time deadline) {
  while (!data.empty()) {
    bool want_read = false;
    if (ssl_) {
      ERR_clear_error();
      int chunk = static_cast<int>(std::min<size_t>(data.size(), 1 << 20));
      int r = SSL_write(ssl_.get(), data.data(), chunk);
      if (r > 0) {
        data.remove_prefix(r);
        continue;
      }
      int e = SSL_get_error(ssl_.get(), r);
      if (e == SSL_ERROR_WANT_READ) {
        want_read = true;
      } else if (e != SSL_ERROR_WANT_WRITE) {
        co_return absl::UnavailableError(absl::StrCat("TLS write to ", peer_, ": ", SslErrors()));
      }
    } else {
      ssize_t r = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
      if (r >= 0) {
        data.remove_prefix(r);
        continue;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        co_return absl::UnavailableError(
            absl::StrCat("write to ", peer_, ": ", std::strerror(errno)));
      }
    }
    WaitResult w =
        want_read ? co_await watch_.Readable(deadline) : co_await watch_.Writable(deadline);
    if (w != WaitResult::kReady) co_return WaitError(w);
  }
  co_return absl::OkStatus();
}

Task<absl::Status> Connection::StartTls(SSL_CTX* ctx, bool server, std::string server_name,
                                        absl::Time deadline) {
  ssl_.reset(SSL_new(ctx));
  if (!ssl_ || SSL_set_fd(ssl_.get(), fd_.get()) != 1) {
    ssl_.reset();
    co_return absl::InternalError(absl::StrCat("SSL_new: ", SslErrors()));
  }
  SSL_set_mode(ssl_.get(), SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (server) {
    SSL_set_accept_state(ssl_.get());
  } else {
    SSL_set_connect_state(ssl_.get());
    if (!server_name.empty()) {
      SSL_set_tlsext_host_name(ssl_.get(), server_name.c_str());
      SSL_set1_host(ssl_.get(), server_name.c_str());
    }
  }
  for (;;) {
    ERR_clear_error();
    int r = SSL_do_handshake(ssl_.get());
    if (r == 1) co_return absl::OkStatus();
    int e = SSL_get_error(ssl_.get(), r);
    WaitResult w;
    if (e == SSL_ERROR_WANT_READ) {
      w = co_await watch_.Readable(deadline);
    } else if (e == SSL_ERROR_WANT_WRITE) {
      w = co_await watch_.Writable(deadline);
    } else {
      std::string why = SslErrors();
      long verify = SSL_get_verify_result(ssl_.get());
      if (verify != X509_V_OK) {
        absl::StrAppend(&why, " (certificate: ", X509_verify_cert_error_string(verify), ")");
      }
      co_return absl::UnavailableError(absl::StrCat("TLS handshake with ", peer_, ": ", why));
    }
    if (w != WaitResult::kReady) co_return WaitError(w);
  }
}

std::string Connection::TlsDescription() const {
  if (!ssl_) return "plaintext";
  return absl::StrCat(SSL_get_version(ssl_.get()), " ", SSL_get_cipher_name(ssl_.get()));
}

}  // namespace vmscan::net
