// SmtpSession: one client of the SMTP proxy, relayed command by command to its own upstream
// connection. Messages are read whole at DATA, scanned, and only then sent upstream (DATA is
// opened upstream after the scan), so an infected message is refused with the upstream left at
// RSET. Runs as a coroutine on the proxy's EventLoop; the scan call goes to the ThreadPool.
#ifndef VMSCAN_GUEST_AGENT_SMTP_PROXY_SMTP_SESSION_H_
#define VMSCAN_GUEST_AGENT_SMTP_PROXY_SMTP_SESSION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "guest_agent/client/scan_client.h"
#include "guest_agent/net/connection.h"
#include "guest_agent/net/event_loop.h"
#include "guest_agent/net/task.h"
#include "guest_agent/net/thread_pool.h"
#include "guest_agent/smtp_proxy/smtp_reply.h"
#include "vmscan/v1/config.pb.h"

namespace vmscan {

// Everything sessions share; immutable while sessions run.
struct SmtpProxyContext {
  v1::SmtpProxyConfig config;
  v1::OnNoScanner::Value on_no_scanner = v1::OnNoScanner::TEMPFAIL;
  v1::VmIdentity vm;
  std::string hostname;
  SSL_CTX* server_tls = nullptr;  // null: no STARTTLS offered to clients
  SSL_CTX* client_tls = nullptr;  // for STARTTLS to the upstream
  ScanFunction scan;
  net::EventLoop* loop = nullptr;
  net::ThreadPool* pool = nullptr;
};

class SmtpSession {
 public:
  SmtpSession(const SmtpProxyContext& context, std::unique_ptr<net::Connection> client,
              uint64_t id);

  net::Task<void> Run();

  // Ends the session at the next command boundary with 421 (now, if it is waiting for one).
  void RequestStop();
  // Ends it now: every wait fails, the client gets 421 if it can still be written to.
  void Abort();

 private:
  enum class Next { kContinue, kClose };

  net::Task<Next> Dispatch(std::string line);
  net::Task<Next> OnHelo(bool ehlo, const std::string& line, const std::string& arg);
  net::Task<Next> OnStartTls(const std::string& arg);
  net::Task<Next> OnMail(const std::string& line, const std::string& arg);
  net::Task<Next> OnRcpt(const std::string& line, const std::string& arg);
  net::Task<Next> OnData(const std::string& arg);
  net::Task<Next> OnAuth(const std::string& line);
  net::Task<Next> Forward(std::string line);  // relay one command and its reply
  // DATA to the upstream: `header` (a whole header line, or empty) then `message`.
  net::Task<Next> Relay(const std::string& header, const std::string& message);
  net::Task<absl::Status> NegotiateUpstreamTls(const std::string& helo_name);

  net::Task<bool> Send(std::string text);
  // Sends `command` + CRLF upstream, reads the reply.
  net::Task<absl::StatusOr<SmtpReply>> Upstream(std::string command);
  net::Task<Next> UpstreamLost(const absl::Status& status);
  net::Task<void> ResetUpstream();
  void EndTransaction();

  absl::Time Deadline() const;
  std::string Tag() const;

  const SmtpProxyContext& ctx_;
  std::unique_ptr<net::Connection> client_;
  std::unique_ptr<net::Connection> upstream_;
  const uint64_t id_;
  const absl::Time session_deadline_;
  bool stopping_ = false;
  bool aborted_ = false;  // every later wait ends at once
  bool idle_ = false;     // waiting for the client's next command
  bool helo_seen_ = false;
  bool upstream_tls_tried_ = false;
  bool authenticated_ = false;
  bool in_transaction_ = false;
  int errors_ = 0;
  std::string helo_name_;
  std::string sender_;
  uint64_t declared_size_ = 0;  // MAIL FROM's SIZE=, 0 when absent
  std::vector<std::string> recipients_;
};

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_SMTP_PROXY_SMTP_SESSION_H_
