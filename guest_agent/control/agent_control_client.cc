#include "guest_agent/control/agent_control_client.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/grpc_status.h"
#include "guest_agent/client/svm_channel.h"

namespace vmscan {
namespace {

// A VmSettings is a few KiB; the bound only stops a broken SVM.
constexpr int kMaxReplyBytes = 4 << 20;

// How often a connection wait looks at its canceller.
constexpr absl::Duration kConnectSlice = absl::Milliseconds(100);

absl::Status Cancelled() { return absl::CancelledError("cancelled: the agent is stopping"); }

// Registers `context` with `cancel` for the lifetime of this object.
class CancelScope {
 public:
  CancelScope(CallCanceller* cancel, grpc::ClientContext* context)
      : cancel_(cancel), context_(context) {
    registered_ = cancel_ == nullptr || cancel_->Add(context_);
  }
  ~CancelScope() {
    if (cancel_ != nullptr && registered_) cancel_->Remove(context_);
  }
  CancelScope(const CancelScope&) = delete;
  CancelScope& operator=(const CancelScope&) = delete;
  // False when the canceller had already fired: do not start the call.
  bool ok() const { return registered_; }

 private:
  CallCanceller* cancel_;
  grpc::ClientContext* context_;
  bool registered_ = false;
};

}  // namespace

void CallCanceller::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  for (grpc::ClientContext* context : contexts_) context->TryCancel();
}

bool CallCanceller::cancelled() const {
  absl::MutexLock lock(&mu_);
  return cancelled_;
}

bool CallCanceller::Add(grpc::ClientContext* context) {
  absl::MutexLock lock(&mu_);
  if (cancelled_) return false;
  contexts_.insert(context);
  return true;
}

void CallCanceller::Remove(grpc::ClientContext* context) {
  absl::MutexLock lock(&mu_);
  contexts_.erase(context);
}

std::unique_ptr<AgentControlClient> AgentControlClient::Create(const v1::AgentConfig& config) {
  std::unique_ptr<AgentControlClient> client(new AgentControlClient());
  absl::StatusOr<SvmCredentials> credentials = MakeSvmCredentials(config);
  if (!credentials.ok()) {
    client->setup_error_ = absl::FailedPreconditionError(
        absl::StrCat("cannot set up the connection to the SVMs: ", credentials.status().message()));
    return client;
  }
  for (const std::string& address : config.servers()) {
    Server server;
    server.address = address;
    server.channel = MakeSvmChannel(config, *credentials, address, kMaxReplyBytes);
    server.stub = v1::AgentControl::NewStub(server.channel);
    client->servers_.push_back(std::move(server));
  }
  if (config.timeout_ms() > 0) {
    client->timeout_ = std::min(client->timeout_, absl::Milliseconds(config.timeout_ms()));
  }
  if (config.connect_timeout_ms() > 0) {
    client->connect_timeout_ = absl::Milliseconds(config.connect_timeout_ms());
  }
  return client;
}

bool AgentControlClient::WaitConnected(const Server& server, absl::Duration limit,
                                       CallCanceller* cancel) const {
  const absl::Time deadline = absl::Now() + limit;
  for (;;) {
    if (cancel != nullptr && cancel->cancelled()) return false;
    const absl::Time slice_end = std::min(deadline, absl::Now() + kConnectSlice);
    if (server.channel->WaitForConnected(absl::ToChronoTime(slice_end))) return true;
    if (absl::Now() >= deadline) return false;
  }
}

absl::Status AgentControlClient::CallFirstReachable(const Attempt& attempt, absl::Duration timeout,
                                                    absl::Duration connect_limit,
                                                    CallCanceller* cancel) const {
  if (!setup_error_.ok()) return setup_error_;
  std::vector<std::string> failures;
  for (const Server& server : servers_) {
    if (!WaitConnected(server, connect_limit, cancel)) {
      if (cancel != nullptr && cancel->cancelled()) return Cancelled();
      failures.push_back(absl::StrCat(server.address, ": not reachable"));
      continue;
    }
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    CancelScope scope(cancel, &context);
    if (!scope.ok()) return Cancelled();
    absl::Status status = FromGrpcStatus(attempt(server, &context));
    if (!absl::IsUnavailable(status)) return status;
    failures.push_back(absl::StrCat(server.address, ": ", status.message()));
  }
  return absl::UnavailableError(absl::StrCat("no SVM reachable (",
                                             failures.empty() ? "no servers configured" : "",
                                             absl::StrJoin(failures, "; "), ")"));
}

absl::StatusOr<v1::VmSettings> AgentControlClient::Register(const v1::RegisterRequest& request,
                                                            CallCanceller* cancel) const {
  v1::VmSettings reply;
  absl::Status status = CallFirstReachable(
      [&](const Server& server, grpc::ClientContext* context) {
        return server.stub->Register(context, request, &reply);
      },
      timeout_, connect_timeout_, cancel);
  if (!status.ok()) return status;
  return reply;
}

absl::StatusOr<v1::HeartbeatResponse> AgentControlClient::Heartbeat(const std::string& vm_id,
                                                                    CallCanceller* cancel) const {
  v1::HeartbeatRequest request;
  request.set_vm_id(vm_id);
  v1::HeartbeatResponse reply;
  absl::Status status = CallFirstReachable(
      [&](const Server& server, grpc::ClientContext* context) {
        return server.stub->Heartbeat(context, request, &reply);
      },
      timeout_, connect_timeout_, cancel);
  if (!status.ok()) return status;
  return reply;
}

absl::Status AgentControlClient::Unregister(const std::string& vm_id,
                                            absl::Duration timeout) const {
  v1::HeartbeatRequest request;
  request.set_vm_id(vm_id);
  v1::HeartbeatResponse reply;
  return CallFirstReachable(
      [&](const Server& server, grpc::ClientContext* context) {
        return server.stub->Unregister(context, request, &reply);
      },
      timeout, std::min(timeout, connect_timeout_), nullptr);
}

absl::StatusOr<v1::VmSettings> AgentControlClient::GetSettings(const std::string& vm_id,
                                                               CallCanceller* cancel) const {
  v1::GetSettingsRequest request;
  request.set_vm_id(vm_id);
  v1::VmSettings reply;
  absl::Status status = CallFirstReachable(
      [&](const Server& server, grpc::ClientContext* context) {
        return server.stub->GetSettings(context, request, &reply);
      },
      timeout_, connect_timeout_, cancel);
  if (!status.ok()) return status;
  return reply;
}

absl::StatusOr<v1::VmSettings> AgentControlClient::UpdateLocalSettings(
    const std::string& vm_id, const std::vector<v1::SettingChange>& changes,
    CallCanceller* cancel) const {
  v1::UpdateLocalSettingsRequest request;
  request.set_vm_id(vm_id);
  for (const v1::SettingChange& change : changes) *request.add_changes() = change;
  v1::VmSettings reply;
  absl::Status status = CallFirstReachable(
      [&](const Server& server, grpc::ClientContext* context) {
        return server.stub->UpdateLocalSettings(context, request, &reply);
      },
      timeout_, connect_timeout_, cancel);
  if (!status.ok()) return status;
  return reply;
}

absl::Status AgentControlClient::WatchSettings(
    const std::string& vm_id, CallCanceller* cancel,
    const std::function<void(const v1::VmSettings&)>& on_settings) const {
  if (!setup_error_.ok()) return setup_error_;
  v1::WatchSettingsRequest request;
  request.set_vm_id(vm_id);
  std::vector<std::string> failures;
  for (const Server& server : servers_) {
    if (!WaitConnected(server, connect_timeout_, cancel)) {
      if (cancel != nullptr && cancel->cancelled()) return Cancelled();
      failures.push_back(absl::StrCat(server.address, ": not reachable"));
      continue;
    }
    // No deadline: the stream lives as long as the agent; cancel ends it.
    grpc::ClientContext context;
    CancelScope scope(cancel, &context);
    if (!scope.ok()) return Cancelled();
    std::unique_ptr<grpc::ClientReader<v1::VmSettings>> stream =
        server.stub->WatchSettings(&context, request);
    bool received = false;
    v1::VmSettings settings;
    while (stream->Read(&settings)) {
      received = true;
      on_settings(settings);
    }
    absl::Status status = FromGrpcStatus(stream->Finish());
    if (cancel != nullptr && cancel->cancelled()) return Cancelled();
    // A stream that worked and then broke is reported, so the caller reconnects from the top.
    if (received || !absl::IsUnavailable(status)) {
      return status.ok() ? absl::UnavailableError(
                               absl::StrCat(server.address, " ended the settings stream"))
                         : status;
    }
    failures.push_back(absl::StrCat(server.address, ": ", status.message()));
  }
  return absl::UnavailableError(absl::StrCat("no SVM reachable (",
                                             failures.empty() ? "no servers configured" : "",
                                             absl::StrJoin(failures, "; "), ")"));
}

}  // namespace vmscan
