// RunUnaryOnPool: a unary callback-API call whose work blocks (store commits, fsync) runs on a
// WorkerPool instead of a gRPC thread, after the caller was authorized for it.
//
//   return RunUnaryOnPool(context, pool_, *authorizer_, "/vmscan.v1.InventoryAdmin/CreateGroup",
//                         kNoVm, [this, request, response](const Caller&) { ... });
//   return RunUnaryOnPool(context, pool_, *authorizer_, "/vmscan.v1.AgentControl/Heartbeat",
//                         request->vm_id(), [...](const Caller&) { ... });
//
// Authorization (host_server/auth/authorizer.h) comes first, on the gRPC thread (it never
// blocks): the method's row of the table, then, when the request names a VM (`vm_id` not
// kNoVm), that the caller may act for that VM. A refusal is answered at once. A full pool queue
// answers RESOURCE_EXHAUSTED; a caller that went away before its turn, CANCELLED.
#ifndef VMSCAN_HOST_SERVER_SERVICE_UNARY_ON_POOL_H_
#define VMSCAN_HOST_SERVER_SERVICE_UNARY_ON_POOL_H_

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "common/grpc_status.h"
#include "host_server/auth/authorizer.h"
#include "host_server/scan/worker_pool.h"

namespace vmscan {

// For RunUnaryOnPool's `vm_id`: the request names no VM.
inline constexpr std::optional<absl::string_view> kNoVm = std::nullopt;

template <typename Body>
grpc::ServerUnaryReactor* RunUnaryOnPool(grpc::CallbackServerContext* context, WorkerPool& pool,
                                         const Authorizer& authorizer, absl::string_view method,
                                         std::optional<absl::string_view> vm_id, Body body) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller = authorizer.Authorize(*context, method);
  absl::Status allowed = caller.status();
  if (allowed.ok() && vm_id.has_value()) allowed = authorizer.AuthorizeVm(*caller, method, *vm_id);
  if (!allowed.ok()) {
    reactor->Finish(ToGrpcStatus(allowed));
    return reactor;
  }
  const bool queued = pool.TrySubmit(
      [context, reactor, caller = *std::move(caller), body = std::move(body)]() mutable {
        if (context->IsCancelled()) {
          reactor->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "client went away"));
          return;
        }
        reactor->Finish(ToGrpcStatus(body(caller)));
      });
  if (!queued) {
    reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "too many control calls queued on this SVM; retry later"));
  }
  return reactor;
}

// A server-streaming call refused before it started (authorization): finishes at once.
template <typename Response>
class RefusedStream final : public grpc::ServerWriteReactor<Response> {
 public:
  explicit RefusedStream(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_SERVICE_UNARY_ON_POOL_H_
