// Interceptor: one way the agent takes its VM's mail in hand and has the SVM scan every message
// before it goes on (docs/design.md §2): the SMTP proxy for outgoing mail (smtp_proxy/), the
// milter of the VM's own MTA (milter/), and next the POP3 and IMAP proxies. Each kind lives in
// its own folder with its own library; `vmscan-agent run` starts the kinds the config enables
// (guest_agent/commands/interceptor_registry.h) and stops them on SIGTERM.
//
//   InterceptorContext context{config, vm, scan};
//   absl::StatusOr<std::unique_ptr<SmtpProxy>> proxy = SmtpProxy::Start(context);
//   VMSCAN_LOG(INFO) << (*proxy)->name() << " listening on " << (*proxy)->listen_address();
//   ...
//   (*proxy)->Stop(absl::Seconds(30));  // messages in flight get up to 30 s to finish
//
// An interceptor is started by its kind's own Start(const InterceptorContext&), which binds its
// listen address before it returns (port 0: any free port) or fails with a Status:
// InvalidArgument for an unusable setting (TLS files, a socket spec), Unavailable when the
// address cannot be bound, FailedPrecondition when the kind cannot run twice in a process.
//
// Ownership: whoever started an interceptor owns it; Start copies what it needs from the context,
// which need not outlive the call. Destroying a running interceptor stops it with no grace.
// Thread-safety: every method may be called from any thread; Stop is idempotent.
#ifndef VMSCAN_GUEST_AGENT_INTERCEPTOR_INTERCEPTOR_H_
#define VMSCAN_GUEST_AGENT_INTERCEPTOR_INTERCEPTOR_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "guest_agent/client/scan_client.h"
#include "vmscan/v1/config.pb.h"
#include "vmscan/v1/scan.pb.h"

namespace vmscan {

// What every interceptor is started with.
struct InterceptorContext {
  v1::AgentConfig config;  // validated (ValidateAgentConfig); each kind reads its own section
  v1::VmIdentity vm;       // sent with every scan, so the SVM applies this VM's settings
  ScanFunction scan;       // how messages reach the SVM; thread-safe
};

class Interceptor {
 public:
  virtual ~Interceptor() = default;

  // The kind, as logs and --port-file name it: "smtp-proxy", "milter".
  virtual absl::string_view name() const = 0;

  // Where it listens, as bound: the configured address with port 0 replaced by the real port
  // ("127.0.0.1:10025", "inet:127.0.0.1:8894", "unix:/run/vmscan/milter.sock").
  virtual std::string listen_address() const = 0;

  // True once it no longer serves: after Stop(), or when it ended on its own (e.g. libmilter
  // took a stop signal itself). `run` then stops the agent.
  virtual bool stopped() const = 0;

  // Stops accepting at once; messages in flight get up to `grace` to finish, then connections
  // still open are cut. Returns when it has stopped.
  virtual void Stop(absl::Duration grace) = 0;
};

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_INTERCEPTOR_INTERCEPTOR_H_
