// The control plane's gRPC services (protos/vmscan/v1/control.proto) over one ControlPlane:
//   InventoryAdminService, PolicyAdminService — vmscanctl groups/vms/rules/policy; administrators
//     only;
//   AgentControlService — the agents: registration, heartbeats (which also tell an agent the
//     restores waiting for it), local settings and the WatchSettings stream that pushes every
//     change of a VM's settings to its agent; each VM for itself only.
// Every call is authorized first (host_server/auth/authorizer.h).
//
// Threading as in BackupAdminService: the blocking work (store commits) runs on the services'
// own WorkerPool, never on a gRPC thread. A WatchSettings stream holds a ControlPlane
// subscription and sends the latest settings (older unsent ones are dropped: the newest wins).
// AgentControlService::Shutdown() ends every open stream, so that the server can stop without
// waiting for agents to go away.
//
// Thread-safe. The ControlPlane must outlive the services; they must outlive the grpc::Server.
#ifndef VMSCAN_HOST_SERVER_SERVICE_CONTROL_SERVICES_H_
#define VMSCAN_HOST_SERVER_SERVICE_CONTROL_SERVICES_H_

#include <memory>
#include <set>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "host_server/auth/authorizer.h"
#include "host_server/backup/backup_store.h"
#include "host_server/control/control_plane.h"
#include "host_server/scan/worker_pool.h"
#include "vmscan/v1/control.grpc.pb.h"

namespace vmscan {

class InventoryAdminService final : public v1::InventoryAdmin::CallbackService {
 public:
  InventoryAdminService(ControlPlane* control, const Authorizer* authorizer, WorkerPool* pool)
      : control_(control), authorizer_(authorizer), pool_(pool) {}

  grpc::ServerUnaryReactor* CreateGroup(grpc::CallbackServerContext* context,
                                        const v1::CreateGroupRequest* request,
                                        v1::Group* response) override;
  grpc::ServerUnaryReactor* ListGroups(grpc::CallbackServerContext* context,
                                       const v1::ListGroupsRequest* request,
                                       v1::ListGroupsResponse* response) override;
  grpc::ServerUnaryReactor* DeleteGroup(grpc::CallbackServerContext* context,
                                        const v1::DeleteGroupRequest* request,
                                        v1::DeleteGroupResponse* response) override;
  grpc::ServerUnaryReactor* RenameGroup(grpc::CallbackServerContext* context,
                                        const v1::RenameGroupRequest* request,
                                        v1::Group* response) override;
  grpc::ServerUnaryReactor* ListVms(grpc::CallbackServerContext* context,
                                    const v1::ListVmsRequest* request,
                                    v1::ListVmsResponse* response) override;
  grpc::ServerUnaryReactor* GetVm(grpc::CallbackServerContext* context,
                                  const v1::GetVmRequest* request, v1::VmRecord* response) override;
  grpc::ServerUnaryReactor* MoveVm(grpc::CallbackServerContext* context,
                                   const v1::MoveVmRequest* request,
                                   v1::VmRecord* response) override;
  grpc::ServerUnaryReactor* DeleteVm(grpc::CallbackServerContext* context,
                                     const v1::DeleteVmRequest* request,
                                     v1::DeleteVmResponse* response) override;
  grpc::ServerUnaryReactor* GetEffectiveSettings(grpc::CallbackServerContext* context,
                                                 const v1::GetVmRequest* request,
                                                 v1::VmSettings* response) override;
  grpc::ServerUnaryReactor* ListRules(grpc::CallbackServerContext* context,
                                      const v1::ListRulesRequest* request,
                                      v1::ListRulesResponse* response) override;
  grpc::ServerUnaryReactor* AddRule(grpc::CallbackServerContext* context,
                                    const v1::AddRuleRequest* request,
                                    v1::AssignmentRule* response) override;
  grpc::ServerUnaryReactor* DeleteRule(grpc::CallbackServerContext* context,
                                       const v1::DeleteRuleRequest* request,
                                       v1::DeleteRuleResponse* response) override;

 private:
  ControlPlane* const control_;
  const Authorizer* const authorizer_;
  WorkerPool* const pool_;
};

class PolicyAdminService final : public v1::PolicyAdmin::CallbackService {
 public:
  PolicyAdminService(ControlPlane* control, const Authorizer* authorizer, WorkerPool* pool)
      : control_(control), authorizer_(authorizer), pool_(pool) {}

  grpc::ServerUnaryReactor* GetPolicy(grpc::CallbackServerContext* context,
                                      const v1::GetPolicyRequest* request,
                                      v1::Policy* response) override;
  grpc::ServerUnaryReactor* UpdatePolicy(grpc::CallbackServerContext* context,
                                         const v1::UpdatePolicyRequest* request,
                                         v1::Policy* response) override;
  grpc::ServerUnaryReactor* ListPolicyHistory(grpc::CallbackServerContext* context,
                                              const v1::ListPolicyHistoryRequest* request,
                                              v1::ListPolicyHistoryResponse* response) override;

 private:
  ControlPlane* const control_;
  const Authorizer* const authorizer_;
  WorkerPool* const pool_;
};

class AgentControlService final : public v1::AgentControl::CallbackService {
 public:
  // `backup` answers the heartbeat's pending restores.
  AgentControlService(ControlPlane* control, const Authorizer* authorizer, WorkerPool* pool,
                      BackupStore* backup)
      : control_(control), authorizer_(authorizer), pool_(pool), backup_(backup) {}
  ~AgentControlService() override;

  grpc::ServerUnaryReactor* Register(grpc::CallbackServerContext* context,
                                     const v1::RegisterRequest* request,
                                     v1::VmSettings* response) override;
  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* context,
                                      const v1::HeartbeatRequest* request,
                                      v1::HeartbeatResponse* response) override;
  grpc::ServerUnaryReactor* Unregister(grpc::CallbackServerContext* context,
                                       const v1::HeartbeatRequest* request,
                                       v1::HeartbeatResponse* response) override;
  grpc::ServerWriteReactor<v1::VmSettings>* WatchSettings(
      grpc::CallbackServerContext* context, const v1::WatchSettingsRequest* request) override;
  grpc::ServerUnaryReactor* GetSettings(grpc::CallbackServerContext* context,
                                        const v1::GetSettingsRequest* request,
                                        v1::VmSettings* response) override;
  grpc::ServerUnaryReactor* UpdateLocalSettings(grpc::CallbackServerContext* context,
                                                const v1::UpdateLocalSettingsRequest* request,
                                                v1::VmSettings* response) override;

  // Ends every WatchSettings stream (UNAVAILABLE) and refuses new ones. Call before the
  // grpc::Server's Shutdown.
  void Shutdown();

 private:
  class WatchReactor;
  friend class WatchReactor;

  ControlPlane* const control_;
  const Authorizer* const authorizer_;
  WorkerPool* const pool_;
  BackupStore* const backup_;
  absl::Mutex mu_;
  std::set<WatchReactor*> watches_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_SERVICE_CONTROL_SERVICES_H_
