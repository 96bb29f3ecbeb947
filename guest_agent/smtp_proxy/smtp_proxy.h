// SmtpProxy: the agent's outgoing SMTP proxy (docs/design.md §2, "SMTP proxy, outgoing"). Mail
// clients of the VM submit to `smtp_proxy.listen`; each session is relayed to
// `smtp_proxy.upstream`, and each message is scanned at end of DATA before the upstream sees it.
//
//   auto proxy = SmtpProxy::Start(config, vm, [&](auto& md, auto msg) {
//     return client->Scan(md, msg); });
//   ... (*proxy)->port() ...
//   (*proxy)->Stop(absl::Seconds(30));  // finish transactions in flight, 421 the idle ones
//
// One event-loop thread multiplexes every session (no thread per connection); scan calls run
// on a fixed pool of `scan_workers` threads. Start/Stop/port are thread-safe.
#ifndef VMSCAN_GUEST_AGENT_SMTP_PROXY_SMTP_PROXY_H_
#define VMSCAN_GUEST_AGENT_SMTP_PROXY_SMTP_PROXY_H_

#include <memory>
#include <set>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "guest_agent/net/connection.h"
#include "guest_agent/net/event_loop.h"
#include "guest_agent/net/thread_pool.h"
#include "guest_agent/smtp_proxy/smtp_session.h"
#include "vmscan/v1/config.pb.h"

namespace vmscan {

class SmtpProxy {
 public:
  // Binds `config.smtp_proxy().listen` (port 0: any free port) and starts serving.
  // InvalidArgument for unusable TLS files, Unavailable when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<SmtpProxy>> Start(const v1::AgentConfig& config,
                                                          const v1::VmIdentity& vm,
                                                          ScanFunction scan);
  ~SmtpProxy();

  int port() const { return port_; }

  // Stops accepting; sessions finish the transaction in hand and then get 421; after `grace`
  // every session still open is cut off. Returns when all are gone. Idempotent.
  void Stop(absl::Duration grace);

 private:
  SmtpProxy() = default;
  net::DetachedTask AcceptLoop();
  net::DetachedTask RunSession(std::unique_ptr<SmtpSession> session);
  void Refuse(net::UniqueFd fd);
  void MaybeQuit();

  SmtpProxyContext context_;
  net::UniqueSslCtx server_tls_;
  net::UniqueSslCtx client_tls_;
  std::unique_ptr<net::EventLoop> loop_;
  std::unique_ptr<net::ThreadPool> pool_;
  net::UniqueFd listen_fd_;
  std::unique_ptr<net::FdWatch> listen_watch_;
  int port_ = 0;
  std::thread thread_;
  // Loop thread only.
  std::set<SmtpSession*> sessions_;
  uint64_t next_id_ = 1;
  bool stopping_ = false;
  bool accepting_ = false;
  // Stop() callers.
  absl::Mutex stop_mu_;
  bool stopped_ ABSL_GUARDED_BY(stop_mu_) = false;
};

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_SMTP_PROXY_SMTP_PROXY_H_
