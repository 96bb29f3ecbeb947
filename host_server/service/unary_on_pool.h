// RunUnaryOnPool: a unary callback-API call whose work blocks (store commits, fsync) runs on a
// WorkerPool instead of a gRPC thread, after the caller was authorized.
//
//   return RunUnaryOnPool(context, pool_, authorizer_.get(), "CreateGroup",
//                         [this, request, response] { ... return absl::OkStatus(); });
//
// `authorizer` may be null (a service open to every caller that reaches the port). A full pool
// queue answers RESOURCE_EXHAUSTED; a caller that went away before its turn, CANCELLED.
#ifndef VMSCAN_HOST_SERVER_SERVICE_UNARY_ON_POOL_H_
#define VMSCAN_HOST_SERVER_SERVICE_UNARY_ON_POOL_H_

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include <utility>

#include "absl/status/status.h"
#include "common/grpc_status.h"
#include "common/logging.h"
#include "host_server/scan/worker_pool.h"
#include "host_server/service/admin_service.h"

namespace vmscan {

template <typename Body>
grpc::ServerUnaryReactor* RunUnaryOnPool(grpc::CallbackServerContext* context, WorkerPool& pool,
                                         const AdminAuthorizer* authorizer, const char* method,
                                         Body body) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (authorizer != nullptr) {
    absl::StatusOr<AdminScope> scope = authorizer->Authorize(*context);
    if (!scope.ok() || !scope->is_admin()) {
      const absl::Status refused =
          scope.ok() ? absl::PermissionDeniedError("administrators only") : scope.status();
      VMSCAN_LOG(WARNING) << method << " from " << context->peer() << " refused: " << refused;
      reactor->Finish(ToGrpcStatus(refused));
      return reactor;
    }
  }
  const bool queued = pool.TrySubmit([context, reactor, body = std::move(body)]() mutable {
    if (context->IsCancelled()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "client went away"));
      return;
    }
    reactor->Finish(ToGrpcStatus(body()));
  });
  if (!queued) {
    reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "too many control calls queued on this SVM; retry later"));
  }
  return reactor;
}

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_SERVICE_UNARY_ON_POOL_H_
