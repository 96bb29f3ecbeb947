#include "host_server/service/engine_admin_service.h"

#include <utility>

#include "common/grpc_status.h"
#include "host_server/service/unary_on_pool.h"

namespace vmscan {

EngineAdminService::EngineAdminService(EngineReloader* reloader, const Authorizer* authorizer)
    : reloader_(reloader), authorizer_(authorizer), pool_(2, 16, "engine-admin") {}

grpc::ServerUnaryReactor* EngineAdminService::ReloadEngine(grpc::CallbackServerContext* context,
                                                           const v1::ReloadEngineRequest*,
                                                           v1::EngineStatus* response) {
  return RunUnaryOnPool(context, pool_, *authorizer_, "/vmscan.v1.EngineAdmin/ReloadEngine", kNoVm,
                        [this, response](const Caller& caller) -> absl::Status {
                          absl::StatusOr<v1::EngineStatus> status =
                              reloader_->Reload("admin " + caller.Describe());
                          if (!status.ok()) return status.status();
                          *response = *std::move(status);
                          return absl::OkStatus();
                        });
}

grpc::ServerUnaryReactor* EngineAdminService::GetEngineStatus(grpc::CallbackServerContext* context,
                                                              const v1::GetEngineStatusRequest*,
                                                              v1::EngineStatus* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller =
      authorizer_->Authorize(*context, "/vmscan.v1.EngineAdmin/GetEngineStatus");
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  *response = reloader_->Status();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace vmscan
