#include "host_server/service/control_services.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/grpc_status.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "host_server/service/unary_on_pool.h"

namespace vmscan {

// ---- InventoryAdmin ----

grpc::ServerUnaryReactor* InventoryAdminService::CreateGroup(grpc::CallbackServerContext* context,
                                                             const v1::CreateGroupRequest* request,
                                                             v1::Group* response) {
  return RunUnaryOnPool(context, *pool_, *authorizer_, "/vmscan.v1.InventoryAdmin/CreateGroup",
                        kNoVm, [this, request, response](const Caller&) -> absl::Status {
                          VMSCAN_ASSIGN_OR_RETURN(*response,
                                                  control_->CreateGroup(request->path()));
                          return absl::OkStatus();
                        });
}

grpc::ServerUnaryReactor* InventoryAdminService::ListGroups(grpc::CallbackServerContext* context,
                                                            const v1::ListGroupsRequest*,
                                                            v1::ListGroupsResponse* response) {
  return RunUnaryOnPool(context, *pool_, *authorizer_, "/vmscan.v1.InventoryAdmin/ListGroups",
                        kNoVm, [this, response](const Caller&) -> absl::Status {
                          VMSCAN_ASSIGN_OR_RETURN(std::vector<v1::Group> groups,
                                                  control_->ListGroups());
                          for (v1::Group& g : groups) *response->add_groups() = std::move(g);
                          return absl::OkStatus();
                        });
}

grpc::ServerUnaryReactor* InventoryAdminService::DeleteGroup(grpc::CallbackServerContext* context,
                                                             const v1::DeleteGroupRequest* request,
                                                             v1::DeleteGroupResponse*) {
  return RunUnaryOnPool(
      context, *pool_, *authorizer_, "/vmscan.v1.InventoryAdmin/DeleteGroup", kNoVm,
      [this, request](const Caller&) { return control_->DeleteGroup(request->path()); });
}

grpc::ServerUnaryReactor* InventoryAdminService::RenameGroup(grpc::CallbackServerContext* context,
                                                             const v1::RenameGroupRequest* request,
                                                             v1::Group* response) {
  return RunUnaryOnPool(context, *pool_, *authorizer_, "/vmscan.v1.InventoryAdmin/RenameGroup",
                        kNoVm, [this, request, response](const Caller&) -> absl::Status {
                          VMSCAN_ASSIGN_OR_RETURN(
                              *response,
                              control_->RenameGroup(request->path(), request->new_path()));
                          return absl::OkStatus();
                        });
}

grpc::ServerUnaryReactor* InventoryAdminService::ListVms(grpc::CallbackServerContext* context,
                                                         const v1::ListVmsRequest* request,
                                                         v1::ListVmsResponse* response) {
  return RunUnaryOnPool(context, *pool_, *authorizer_, "/vmscan.v1.InventoryAdmin/ListVms", kNoVm,
                        [this, request, response](const Caller&) -> absl::Status {
                          VMSCAN_ASSIGN_OR_RETURN(
                              std::vector<v1::VmRecord> vms,
                              control_->ListVms(request->group(), request->recursive()));
                          for (v1::VmRecord& vm : vms) *response->add_vms() = std::move(vm);
                          return absl::OkStatus();
                        });
}

grpc::ServerUnaryReactor* InventoryAdminService::GetVm(grpc::CallbackServerContext* context,
                                                       const v1::GetVmRequest* request,
                                                       v1::VmRecord* response) {
  return RunUnaryOnPool(context, *pool_, *authorizer_, "/vmscan.v1.InventoryAdmin/GetVm", kNoVm,
                        [this, request, response](const Caller&) -> absl::Status {
                          VMSCAN_ASSIGN_OR_RETURN(*response, control_->GetVm(request->vm()));
                          return absl::OkStatus();
                        });
}

grpc::ServerUnaryReactor* InventoryAdminService::MoveVm(grpc::CallbackServerContext* context,
                                                        const v1::MoveVmRequest* request,
                                                        v1::VmRecord* response) {
  return RunUnaryOnPool(context, *pool_, *authorizer_, "/vmscan.v1.InventoryAdmin/MoveVm", kNoVm,
                        [this, request, response](const Caller&) -> absl::Status {
                          VMSCAN_ASSIGN_OR_RETURN(
                              *response, control_->MoveVm(request->vm(), request->group()));
                          return absl::OkStatus();
                        });
}

grpc::ServerUnaryReactor* InventoryAdminService::DeleteVm(grpc::CallbackServerContext* context,
                                                          const v1::DeleteVmRequest* request,
                                                          v1::DeleteVmResponse*) {
  return RunUnaryOnPool(
      context, *pool_, *authorizer_, "/vmscan.v1.InventoryAdmin/DeleteVm", kNoVm,
      [this, request](const Caller&) { return control_->DeleteVm(request->vm()); });
}

grpc::ServerUnaryReactor* InventoryAdminService::GetEffectiveSettings(
    grpc::CallbackServerContext* context, const v1::GetVmRequest* request,
    v1::VmSettings* response) {
  return RunUnaryOnPool(context, *pool_, *authorizer_,
                        "/vmscan.v1.InventoryAdmin/GetEffectiveSettings", kNoVm,
                        [this, request, response](const Caller&) -> absl::Status {
                          VMSCAN_ASSIGN_OR_RETURN(*response, control_->Settings(request->vm()));
                          return absl::OkStatus();
                        });
}

grpc::ServerUnaryReactor* InventoryAdminService::ListRules(grpc::CallbackServerContext* context,
                                                           const v1::ListRulesRequest*,
                                                           v1::ListRulesResponse* response) {
  return RunUnaryOnPool(context, *pool_, *authorizer_, "/vmscan.v1.InventoryAdmin/ListRules", kNoVm,
                        [this, response](const Caller&) -> absl::Status {
                          VMSCAN_ASSIGN_OR_RETURN(*response, control_->ListRules());
                          return absl::OkStatus();
                        });
}

grpc::ServerUnaryReactor* InventoryAdminService::AddRule(grpc::CallbackServerContext* context,
                                                         const v1::AddRuleRequest* request,
                                                         v1::AssignmentRule* response) {
  return RunUnaryOnPool(context, *pool_, *authorizer_, "/vmscan.v1.InventoryAdmin/AddRule", kNoVm,
                        [this, request, response](const Caller&) -> absl::Status {
                          VMSCAN_ASSIGN_OR_RETURN(*response, control_->AddRule(request->rule()));
                          return absl::OkStatus();
                        });
}

grpc::ServerUnaryReactor* InventoryAdminService::DeleteRule(grpc::CallbackServerContext* context,
                                                            const v1::DeleteRuleRequest* request,
                                                            v1::DeleteRuleResponse*) {
  return RunUnaryOnPool(
      context, *pool_, *authorizer_, "/vmscan.v1.InventoryAdmin/DeleteRule", kNoVm,
      [this, request](const Caller&) { return control_->DeleteRule(request->id()); });
}

// ---- PolicyAdmin ----

grpc::ServerUnaryReactor* PolicyAdminService::GetPolicy(grpc::CallbackServerContext* context,
                                                        const v1::GetPolicyRequest* request,
                                                        v1::Policy* response) {
  return RunUnaryOnPool(context, *pool_, *authorizer_, "/vmscan.v1.PolicyAdmin/GetPolicy", kNoVm,
                        [this, request, response](const Caller&) -> absl::Status {
                          VMSCAN_ASSIGN_OR_RETURN(*response, control_->GetPolicy(request->group()));
                          return absl::OkStatus();
                        });
}

grpc::ServerUnaryReactor* PolicyAdminService::UpdatePolicy(grpc::CallbackServerContext* context,
                                                           const v1::UpdatePolicyRequest* request,
                                                           v1::Policy* response) {
  return RunUnaryOnPool(context, *pool_, *authorizer_, "/vmscan.v1.PolicyAdmin/UpdatePolicy", kNoVm,
                        [this, request, response](const Caller&) -> absl::Status {
                          VMSCAN_ASSIGN_OR_RETURN(*response, control_->UpdatePolicy(*request));
                          return absl::OkStatus();
                        });
}

grpc::ServerUnaryReactor* PolicyAdminService::ListPolicyHistory(
    grpc::CallbackServerContext* context, const v1::ListPolicyHistoryRequest* request,
    v1::ListPolicyHistoryResponse* response) {
  return RunUnaryOnPool(context, *pool_, *authorizer_, "/vmscan.v1.PolicyAdmin/ListPolicyHistory",
                        kNoVm, [this, request, response](const Caller&) -> absl::Status {
                          VMSCAN_ASSIGN_OR_RETURN(
                              std::vector<v1::Policy> versions,
                              control_->PolicyHistory(request->group(), request->limit()));
                          for (v1::Policy& p : versions) *response->add_versions() = std::move(p);
                          return absl::OkStatus();
                        });
}

// ---- AgentControl ----

class AgentControlService::WatchReactor final : public grpc::ServerWriteReactor<v1::VmSettings> {
 public:
  WatchReactor(AgentControlService* service, const std::string& vm_id) : service_(service) {
    absl::StatusOr<std::unique_ptr<ControlPlane::Subscription>> subscription =
        service->control_->Subscribe(vm_id, [this](const v1::VmSettings& s) { Send(s); });
    if (!subscription.ok()) {
      FinishOnce(ToGrpcStatus(subscription.status()));
      return;
    }
    subscription_ = std::move(*subscription);
    absl::MutexLock lock(&service->mu_);
    if (service->shut_down_) {
      FinishOnce(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the SVM is shutting down"));
      return;
    }
    service->watches_.insert(this);
  }

  void Send(const v1::VmSettings& settings) {
    absl::MutexLock lock(&mu_);
    if (finish_requested_) return;
    pending_ = settings;
    if (!writing_) WriteNextLocked();
  }

  void FinishOnce(grpc::Status status) {
    absl::MutexLock lock(&mu_);
    if (finish_requested_) return;
    finish_requested_ = true;
    if (writing_) {
      finish_status_ = std::move(status);  // sent when the write in flight completes.
    } else {
      Finish(std::move(status));
    }
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (finish_requested_) {
      if (finish_status_.has_value()) Finish(*std::move(finish_status_));
      finish_status_.reset();
      return;
    }
    if (!ok) {
      finish_requested_ = true;
      Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed"));
      return;
    }
    if (pending_.has_value()) WriteNextLocked();
  }

  void OnCancel() override {
    FinishOnce(grpc::Status(grpc::StatusCode::CANCELLED, "watch cancelled"));
  }

  void OnDone() override {
    {
      absl::MutexLock lock(&service_->mu_);
      service_->watches_.erase(this);
    }
    subscription_.reset();  // waits for a Send in progress; none comes after.
    delete this;
  }

 private:
  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    in_flight_ = *std::move(pending_);
    pending_.reset();
    writing_ = true;
    StartWrite(&in_flight_);
  }

  AgentControlService* const service_;
  std::unique_ptr<ControlPlane::Subscription> subscription_;
  absl::Mutex mu_;
  std::optional<v1::VmSettings> pending_ ABSL_GUARDED_BY(mu_);
  v1::VmSettings in_flight_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_requested_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<grpc::Status> finish_status_ ABSL_GUARDED_BY(mu_);
};

AgentControlService::~AgentControlService() { Shutdown(); }

void AgentControlService::Shutdown() {
  std::vector<WatchReactor*> open;
  {
    absl::MutexLock lock(&mu_);
    shut_down_ = true;
    open.assign(watches_.begin(), watches_.end());
    // FinishOnce under mu_: OnDone (which erases and deletes) needs mu_ first, so none of these
    // reactors can be deleted while we finish them.
    for (WatchReactor* watch : open) {
      watch->FinishOnce(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the SVM is shutting down"));
    }
  }
}

grpc::ServerUnaryReactor* AgentControlService::Register(grpc::CallbackServerContext* context,
                                                        const v1::RegisterRequest* request,
                                                        v1::VmSettings* response) {
  return RunUnaryOnPool(context, *pool_, *authorizer_, "/vmscan.v1.AgentControl/Register",
                        request->vm().id(),
                        [this, request, response](const Caller&) -> absl::Status {
                          VMSCAN_ASSIGN_OR_RETURN(*response, control_->Register(*request));
                          return absl::OkStatus();
                        });
}

grpc::ServerUnaryReactor* AgentControlService::Heartbeat(grpc::CallbackServerContext* context,
                                                         const v1::HeartbeatRequest* request,
                                                         v1::HeartbeatResponse* response) {
  return RunUnaryOnPool(
      context, *pool_, *authorizer_, "/vmscan.v1.AgentControl/Heartbeat", request->vm_id(),
      [this, request, response](const Caller&) -> absl::Status {
        VMSCAN_ASSIGN_OR_RETURN(uint64_t revision, control_->Heartbeat(request->vm_id()));
        response->set_revision(revision);
        absl::StatusOr<std::vector<std::string>> pending =
            backup_->PendingRestores(request->vm_id());
        if (!pending.ok()) {  // the heartbeat itself succeeded; restores wait for the next one
          VMSCAN_LOG(WARNING) << "pending restores of VM " << request->vm_id()
                              << " unreadable: " << pending.status();
        } else {
          for (std::string& id : *pending) response->add_pending_restores(std::move(id));
        }
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* AgentControlService::Unregister(grpc::CallbackServerContext* context,
                                                          const v1::HeartbeatRequest* request,
                                                          v1::HeartbeatResponse* response) {
  return RunUnaryOnPool(context, *pool_, *authorizer_, "/vmscan.v1.AgentControl/Unregister",
                        request->vm_id(), [this, request, response](const Caller&) -> absl::Status {
                          response->set_revision(control_->revision());
                          return control_->Unregister(request->vm_id());
                        });
}

grpc::ServerWriteReactor<v1::VmSettings>* AgentControlService::WatchSettings(
    grpc::CallbackServerContext* context, const v1::WatchSettingsRequest* request) {
  constexpr absl::string_view kMethod = "/vmscan.v1.AgentControl/WatchSettings";
  absl::StatusOr<Caller> caller = authorizer_->Authorize(*context, kMethod);
  absl::Status allowed = caller.status();
  if (allowed.ok()) allowed = authorizer_->AuthorizeVm(*caller, kMethod, request->vm_id());
  if (!allowed.ok()) return new RefusedStream<v1::VmSettings>(ToGrpcStatus(allowed));
  return new WatchReactor(this, request->vm_id());
}

grpc::ServerUnaryReactor* AgentControlService::GetSettings(grpc::CallbackServerContext* context,
                                                           const v1::GetSettingsRequest* request,
                                                           v1::VmSettings* response) {
  return RunUnaryOnPool(context, *pool_, *authorizer_, "/vmscan.v1.AgentControl/GetSettings",
                        request->vm_id(), [this, request, response](const Caller&) -> absl::Status {
                          VMSCAN_ASSIGN_OR_RETURN(*response, control_->Settings(request->vm_id()));
                          return absl::OkStatus();
                        });
}

grpc::ServerUnaryReactor* AgentControlService::UpdateLocalSettings(
    grpc::CallbackServerContext* context, const v1::UpdateLocalSettingsRequest* request,
    v1::VmSettings* response) {
  return RunUnaryOnPool(
      context, *pool_, *authorizer_, "/vmscan.v1.AgentControl/UpdateLocalSettings",
      request->vm_id(), [this, request, response](const Caller&) -> absl::Status {
        VMSCAN_ASSIGN_OR_RETURN(*response, control_->UpdateLocalSettings(*request));
        return absl::OkStatus();
      });
}

}  // namespace vmscan
