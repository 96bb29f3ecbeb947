// MilterServer: the agent's milter for Postfix or Sendmail (libmilter). Each message is put back
// together at end of message, scanned with its direction (outgoing for authenticated senders and
// `milter.local_networks`, incoming otherwise), and handled per docs/design.md §2: accept with an
// X-Vmscan-Status header, replace the body with the disinfected copy, discard, reject 550 5.7.1,
// or tempfail when no SVM answers.
//
//   auto milter = MilterServer::Start({config, vm, scan});   // binds milter.listen
//   ... (*milter)->stopped() ...                             // libmilter quit on its own
//   (*milter)->Stop(absl::Seconds(30));
//
// An Interceptor (guest_agent/interceptor/interceptor.h). libmilter keeps process-wide state:
// one MilterServer per process, ever (a second Start is FailedPrecondition). libmilter runs one
// thread per MTA connection; scans block that thread. Every method is thread-safe except that
// Stop must not run on two threads at once.
#ifndef VMSCAN_GUEST_AGENT_MILTER_MILTER_SERVER_H_
#define VMSCAN_GUEST_AGENT_MILTER_MILTER_SERVER_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "guest_agent/interceptor/interceptor.h"
#include "vmscan/v1/config.pb.h"

namespace vmscan {

class MilterServer : public Interceptor {
 public:
  // Binds `context.config.milter().listen` (an inet port 0: any free port) and starts serving.
  // InvalidArgument for a bad local network or socket spec, Unavailable when the socket cannot be
  // opened, FailedPrecondition for a second milter in the process.
  static absl::StatusOr<std::unique_ptr<MilterServer>> Start(const InterceptorContext& context);
  ~MilterServer() override;

  absl::string_view name() const override { return "milter"; }
  // milter.listen with the port as bound: "inet:127.0.0.1:8894", "unix:/run/milter.sock".
  std::string listen_address() const override { return listen_address_; }
  // True once smfi_main returned (Stop(), or libmilter took SIGTERM itself, or failed).
  bool stopped() const override { return stopped_.load(); }
  // Stops accepting MTA connections and waits up to `grace` for scans in flight.
  void Stop(absl::Duration grace) override;

 private:
  MilterServer() = default;
  std::string listen_address_;
  std::string spec_;  // libmilter's socket spec, "inet:PORT@HOST" or "unix:PATH"
  std::thread thread_;
  std::atomic<bool> stopped_{false};
  bool stop_called_ = false;
};

// libmilter's socket spec for `listen`: "inet:HOST:PORT" becomes "inet:PORT@HOST".
std::string MilterSocketSpec(const std::string& listen);

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_MILTER_MILTER_SERVER_H_
