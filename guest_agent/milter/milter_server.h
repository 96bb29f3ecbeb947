// MilterServer: the agent's milter for Postfix or Sendmail (libmilter). Each message is put back
// together at end of message, scanned with its direction (outgoing for authenticated senders and
// `milter.local_networks`, incoming otherwise), and handled per docs/design.md §2: accept with an
// X-Vmscan-Status header, replace the body with the disinfected copy, discard, reject 550 5.7.1,
// or tempfail when no SVM answers.
//
//   auto milter = MilterServer::Start(config, vm, scan);   // binds milter.listen
//   ... milter->stopped() ...                              // libmilter quit on its own
//   milter->Stop(absl::Seconds(30));
//
// libmilter keeps process-wide state: one MilterServer per process, ever (a second Start is
// FailedPrecondition). libmilter runs one thread per MTA connection; scans block that thread.
#ifndef VMSCAN_GUEST_AGENT_MILTER_MILTER_SERVER_H_
#define VMSCAN_GUEST_AGENT_MILTER_MILTER_SERVER_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "guest_agent/client/scan_client.h"
#include "vmscan/v1/config.pb.h"

namespace vmscan {

class MilterServer {
 public:
  static absl::StatusOr<std::unique_ptr<MilterServer>> Start(const v1::AgentConfig& config,
                                                             const v1::VmIdentity& vm,
                                                             ScanFunction scan);
  ~MilterServer();

  // True once smfi_main returned (Stop(), or libmilter took SIGTERM itself, or failed).
  bool stopped() const { return stopped_.load(); }

  // Stops accepting MTA connections and waits up to `grace` for scans in flight. Idempotent.
  void Stop(absl::Duration grace);

 private:
  MilterServer() = default;
  std::string spec_;  // libmilter's socket spec, "inet:PORT@HOST" or "unix:PATH"
  std::thread thread_;
  std::atomic<bool> stopped_{false};
  bool stop_called_ = false;
};

// libmilter's socket spec for `listen`: "inet:HOST:PORT" becomes "inet:PORT@HOST".
std::string MilterSocketSpec(const std::string& listen);

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_MILTER_MILTER_SERVER_H_
