// AgentControlClient: the agent's side of vmscan.v1.AgentControl — registration, heartbeats, the
// settings stream and the VM's local settings.
//
//   std::unique_ptr<AgentControlClient> client = AgentControlClient::Create(agent_config);
//   CallCanceller cancel;  // another thread may cancel.Cancel() to end the calls at once
//   absl::StatusOr<v1::VmSettings> s = client->Register(request, &cancel);
//   if (absl::IsUnavailable(s.status())) ...  // no SVM reachable: retry later
//
// Like ScanClient, SVMs are tried in the configured order: one not reachable within
// connect_timeout_ms, or answering UNAVAILABLE, is skipped for the next; UNAVAILABLE ("no SVM
// reachable ...") when none answered. Any other error is the SVM's answer (NOT_FOUND: the SVM does
// not know this VM; FAILED_PRECONDITION: a policy locks a key, the message names the group).
// Every unary call has a deadline. Thread-safe.
#ifndef VMSCAN_GUEST_AGENT_CONTROL_AGENT_CONTROL_CLIENT_H_
#define VMSCAN_GUEST_AGENT_CONTROL_AGENT_CONTROL_CLIENT_H_

#include <grpcpp/client_context.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "vmscan/v1/config.pb.h"
#include "vmscan/v1/control.grpc.pb.h"

namespace vmscan {

// Ends the calls of a AgentControlClient that were given it, from any thread: calls in flight (a
// blocked stream read, a connection attempt) return CANCELLED at once, later ones immediately.
class CallCanceller {
 public:
  void Cancel();
  bool cancelled() const;

  // While alive, Cancel() cancels `context`. False (nothing registered) when already cancelled.
  bool Add(grpc::ClientContext* context);
  void Remove(grpc::ClientContext* context);

 private:
  mutable absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<grpc::ClientContext*> contexts_ ABSL_GUARDED_BY(mu_);
};

class AgentControlClient {
 public:
  static std::unique_ptr<AgentControlClient> Create(const v1::AgentConfig& config);

  // `cancel` may be null. `timeout` (0: the default of 10 s) bounds each SVM's call.
  absl::StatusOr<v1::VmSettings> Register(const v1::RegisterRequest& request,
                                          CallCanceller* cancel = nullptr) const;
  absl::StatusOr<v1::HeartbeatResponse> Heartbeat(const std::string& vm_id,
                                                  CallCanceller* cancel = nullptr) const;
  // A goodbye must not hold up a stopping agent: `timeout` bounds the connection wait too.
  absl::Status Unregister(const std::string& vm_id, absl::Duration timeout) const;
  absl::StatusOr<v1::VmSettings> GetSettings(const std::string& vm_id,
                                             CallCanceller* cancel = nullptr) const;
  absl::StatusOr<v1::VmSettings> UpdateLocalSettings(const std::string& vm_id,
                                                     const std::vector<v1::SettingChange>& changes,
                                                     CallCanceller* cancel = nullptr) const;

  // Opens WatchSettings on the first reachable SVM and calls `on_settings` with every VmSettings
  // it sends, on this thread, until the stream ends; answers how it ended (CANCELLED after
  // cancel->Cancel(), UNAVAILABLE when no SVM was reachable or the SVM went away).
  absl::Status WatchSettings(const std::string& vm_id, CallCanceller* cancel,
                             const std::function<void(const v1::VmSettings&)>& on_settings) const;

 private:
  struct Server {
    std::string address;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<v1::AgentControl::Stub> stub;
  };
  // One attempt of a call on one SVM: fills `context` options, returns the SVM's answer.
  using Attempt = std::function<grpc::Status(const Server&, grpc::ClientContext*)>;

  AgentControlClient() = default;
  // Waits for `server` to be connected, at most `limit`, in slices so that `cancel` is heard.
  bool WaitConnected(const Server& server, absl::Duration limit, CallCanceller* cancel) const;
  // The call on each SVM in turn until one answers something but UNAVAILABLE.
  absl::Status CallFirstReachable(const Attempt& attempt, absl::Duration timeout,
                                  absl::Duration connect_limit, CallCanceller* cancel) const;

  absl::Status setup_error_;  // credentials could not be made: every call fails with it
  std::vector<Server> servers_;
  absl::Duration timeout_ = absl::Seconds(10);
  absl::Duration connect_timeout_ = absl::Seconds(3);
};

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_CONTROL_AGENT_CONTROL_CLIENT_H_
