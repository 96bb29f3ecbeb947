#include "tools/vmscanctl/inventory_policy_client.h"

#include <utility>

#include "common/grpc_status.h"
#include "common/status_macros.h"

namespace vmscan {

std::unique_ptr<InventoryPolicyClient> InventoryPolicyClient::Create(const ServerTarget& target) {
  return std::unique_ptr<InventoryPolicyClient>(new InventoryPolicyClient(target));
}

InventoryPolicyClient::InventoryPolicyClient(const ServerTarget& target)
    : channel_(target),
      inventory_(v1::InventoryAdmin::NewStub(channel_.channel())),
      policy_(v1::PolicyAdmin::NewStub(channel_.channel())) {}

template <typename Stub, typename Request, typename Response>
absl::StatusOr<Response> InventoryPolicyClient::Call(
    Stub& stub, grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
    const Request& request) {
  grpc::ClientContext context;
  VMSCAN_RETURN_IF_ERROR(channel_.Prepare(context));
  Response response;
  VMSCAN_RETURN_IF_ERROR(FromGrpcStatus((stub.*method)(&context, request, &response)));
  return response;
}

absl::StatusOr<v1::Group> InventoryPolicyClient::CreateGroup(const std::string& path) {
  v1::CreateGroupRequest request;
  request.set_path(path);
  return Call(*inventory_, &v1::InventoryAdmin::Stub::CreateGroup, request);
}

absl::StatusOr<v1::ListGroupsResponse> InventoryPolicyClient::ListGroups() {
  return Call(*inventory_, &v1::InventoryAdmin::Stub::ListGroups, v1::ListGroupsRequest());
}

absl::Status InventoryPolicyClient::DeleteGroup(const std::string& path) {
  v1::DeleteGroupRequest request;
  request.set_path(path);
  return Call(*inventory_, &v1::InventoryAdmin::Stub::DeleteGroup, request).status();
}

absl::StatusOr<v1::Group> InventoryPolicyClient::RenameGroup(const std::string& path,
                                                             const std::string& new_path) {
  v1::RenameGroupRequest request;
  request.set_path(path);
  request.set_new_path(new_path);
  return Call(*inventory_, &v1::InventoryAdmin::Stub::RenameGroup, request);
}

absl::StatusOr<v1::ListVmsResponse> InventoryPolicyClient::ListVms(const std::string& group,
                                                                   bool recursive) {
  v1::ListVmsRequest request;
  request.set_group(group);
  request.set_recursive(recursive);
  return Call(*inventory_, &v1::InventoryAdmin::Stub::ListVms, request);
}

absl::StatusOr<v1::VmRecord> InventoryPolicyClient::GetVm(const std::string& vm) {
  v1::GetVmRequest request;
  request.set_vm(vm);
  return Call(*inventory_, &v1::InventoryAdmin::Stub::GetVm, request);
}

absl::StatusOr<v1::VmRecord> InventoryPolicyClient::MoveVm(const std::string& vm,
                                                           const std::string& group) {
  v1::MoveVmRequest request;
  request.set_vm(vm);
  request.set_group(group);
  return Call(*inventory_, &v1::InventoryAdmin::Stub::MoveVm, request);
}

absl::Status InventoryPolicyClient::DeleteVm(const std::string& vm) {
  v1::DeleteVmRequest request;
  request.set_vm(vm);
  return Call(*inventory_, &v1::InventoryAdmin::Stub::DeleteVm, request).status();
}

absl::StatusOr<v1::VmSettings> InventoryPolicyClient::GetEffectiveSettings(const std::string& vm) {
  v1::GetVmRequest request;
  request.set_vm(vm);
  return Call(*inventory_, &v1::InventoryAdmin::Stub::GetEffectiveSettings, request);
}

absl::StatusOr<v1::ListRulesResponse> InventoryPolicyClient::ListRules() {
  return Call(*inventory_, &v1::InventoryAdmin::Stub::ListRules, v1::ListRulesRequest());
}

absl::StatusOr<v1::AssignmentRule> InventoryPolicyClient::AddRule(const v1::AssignmentRule& rule) {
  v1::AddRuleRequest request;
  *request.mutable_rule() = rule;
  return Call(*inventory_, &v1::InventoryAdmin::Stub::AddRule, request);
}

absl::Status InventoryPolicyClient::DeleteRule(const std::string& id) {
  v1::DeleteRuleRequest request;
  request.set_id(id);
  return Call(*inventory_, &v1::InventoryAdmin::Stub::DeleteRule, request).status();
}

absl::StatusOr<v1::Policy> InventoryPolicyClient::GetPolicy(const std::string& group) {
  v1::GetPolicyRequest request;
  request.set_group(group);
  return Call(*policy_, &v1::PolicyAdmin::Stub::GetPolicy, request);
}

absl::StatusOr<v1::Policy> InventoryPolicyClient::UpdatePolicy(
    const v1::UpdatePolicyRequest& request) {
  return Call(*policy_, &v1::PolicyAdmin::Stub::UpdatePolicy, request);
}

absl::StatusOr<v1::ListPolicyHistoryResponse> InventoryPolicyClient::ListPolicyHistory(
    const std::string& group, uint32_t limit) {
  v1::ListPolicyHistoryRequest request;
  request.set_group(group);
  request.set_limit(limit);
  return Call(*policy_, &v1::PolicyAdmin::Stub::ListPolicyHistory, request);
}

}  // namespace vmscan
