// EngineAdminService: vmscan.v1.EngineAdmin (protos/vmscan/v1/admin.proto; callback API), used
// by `vmscanctl engine reload|status`: the signature set serving now, and a reload on demand
// (docs/design.md §6). Administrators only (host_server/auth).
//
//   EngineAdminService service(&reloader, &authorizer);
//   builder.RegisterService(&service);
//
// Threading: ReloadEngine waits for a reload that may take many seconds (the official database
// compiles in tens of seconds), so it waits on a small pool of this service's own, never on a
// gRPC thread, a scan worker or the control pool; the reload itself runs on the reloader's
// low-priority thread. GetEngineStatus only copies a few fields and answers at once.
//
// Thread-safe. The reloader must outlive the service; the service must outlive the grpc::Server
// it is registered with. Shutdown() finishes the calls already accepted (a waiting reload call
// gets UNAVAILABLE once the reloader stops) and joins the pool.
#ifndef VMSCAN_HOST_SERVER_SERVICE_ENGINE_ADMIN_SERVICE_H_
#define VMSCAN_HOST_SERVER_SERVICE_ENGINE_ADMIN_SERVICE_H_

#include "host_server/auth/authorizer.h"
#include "host_server/scan/engine_reloader.h"
#include "host_server/scan/worker_pool.h"
#include "vmscan/v1/admin.grpc.pb.h"

namespace vmscan {

class EngineAdminService final : public v1::EngineAdmin::CallbackService {
 public:
  EngineAdminService(EngineReloader* reloader, const Authorizer* authorizer);

  grpc::ServerUnaryReactor* ReloadEngine(grpc::CallbackServerContext* context,
                                         const v1::ReloadEngineRequest* request,
                                         v1::EngineStatus* response) override;
  grpc::ServerUnaryReactor* GetEngineStatus(grpc::CallbackServerContext* context,
                                            const v1::GetEngineStatusRequest* request,
                                            v1::EngineStatus* response) override;

  void Shutdown() { pool_.Shutdown(); }

 private:
  EngineReloader* const reloader_;
  const Authorizer* const authorizer_;
  WorkerPool pool_;
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_SERVICE_ENGINE_ADMIN_SERVICE_H_
