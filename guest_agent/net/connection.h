// Connection: a non-blocking TCP socket driven by the EventLoop, optionally upgraded to TLS
// (OpenSSL) in place for STARTTLS, with a read buffer for line-oriented protocols.
//
//   auto conn = co_await Connection::Connect(loop, "127.0.0.1:587", deadline);
//   absl::StatusOr<std::string> line = co_await (*conn)->ReadLine(4096, deadline);
//   co_await (*conn)->Write("QUIT\r\n", deadline);
//
// Errors: DEADLINE_EXCEEDED (deadline passed), CANCELLED (Cancel()), UNAVAILABLE (peer closed
// or reset: "connection closed"), RESOURCE_EXHAUSTED (line too long). Loop thread only; one
// reader and one writer at a time. The data a Write() is given must stay alive until it returns.
#ifndef VMSCAN_GUEST_AGENT_NET_CONNECTION_H_
#define VMSCAN_GUEST_AGENT_NET_CONNECTION_H_

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "guest_agent/net/event_loop.h"
#include "guest_agent/net/task.h"
#include "guest_agent/net/thread_pool.h"
#include "guest_agent/net/unique_fd.h"

namespace vmscan::net {

struct SslDeleter {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using UniqueSsl = std::unique_ptr<SSL, SslDeleter>;
using UniqueSslCtx = std::unique_ptr<SSL_CTX, SslDeleter>;

class Connection {
 public:
  // Takes a connected socket and makes it non-blocking. `peer` names it in logs.
  Connection(EventLoop* loop, UniqueFd fd, std::string peer);
  ~Connection();

  // Connects to "host:port". A numeric address is used at once; a name is resolved with
  // getaddrinfo on `resolver` when given (it can block for the resolver's timeouts, which must
  // not stall every other session of the loop), else in place.
  static Task<absl::StatusOr<std::unique_ptr<Connection>>> Connect(EventLoop* loop,
                                                                   std::string host_port,
                                                                   absl::Time deadline,
                                                                   ThreadPool* resolver = nullptr);

  // Reads whatever is available into the buffer (at least one byte). UNAVAILABLE at EOF.
  Task<absl::Status> Fill(absl::Time deadline);
  // The next line without its LF (and CR before it, if any). A line longer than `max` bytes is
  // RESOURCE_EXHAUSTED, and the bytes up to its end are dropped so the dialogue can go on.
  Task<absl::StatusOr<std::string>> ReadLine(size_t max, absl::Time deadline);
  absl::string_view buffered() const { return absl::string_view(buffer_).substr(start_); }
  void Consume(size_t n);
  // Drops everything read but not consumed; returns how much (STARTTLS: no plaintext carries
  // over into the TLS session).
  size_t DiscardBuffered();

  Task<absl::Status> Write(absl::string_view data, absl::Time deadline);

  // TLS handshake over the existing socket, as server or client. `server_name` is sent as SNI
  // and, when the context verifies peers, checked against the certificate.
  Task<absl::Status> StartTls(SSL_CTX* ctx, bool server, std::string server_name,
                              absl::Time deadline);
  bool tls() const { return ssl_ != nullptr; }
  std::string TlsDescription() const;  // "TLSv1.3 TLS_AES_256_GCM_SHA384"

  // Wakes a pending read or write with CANCELLED.
  void Cancel() { watch_.Cancel(); }
  bool waiting() const { return watch_.waiting(); }
  const std::string& peer() const { return peer_; }
  int fd() const { return fd_.get(); }

 private:
  // One read into `buf`: >0 bytes, 0 at EOF; waits as needed.
  Task<absl::StatusOr<size_t>> ReadSome(char* buf, size_t n, absl::Time deadline);

  UniqueFd fd_;
  FdWatch watch_;
  std::string peer_;
  UniqueSsl ssl_;
  std::string buffer_;
  size_t start_ = 0;
};

// Status for a wait that did not end with the fd ready.
absl::Status WaitError(WaitResult result);

}  // namespace vmscan::net

#endif  // VMSCAN_GUEST_AGENT_NET_CONNECTION_H_
