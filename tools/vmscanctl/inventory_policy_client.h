// InventoryPolicyClient: vmscanctl's side of the control plane, vmscan.v1.InventoryAdmin and
// vmscan.v1.PolicyAdmin (protos/vmscan/v1/control.proto).
//
//   std::unique_ptr<InventoryPolicyClient> client =
//       InventoryPolicyClient::Create(ServerTarget());
//   absl::StatusOr<v1::Group> group = client->CreateGroup("Managed devices/Finance");
//   if (absl::IsAlreadyExists(group.status())) ...
//
// Deadlines and reachability as in BackupClient (server_channel.h): a server that cannot be
// reached is Unavailable naming the address; every other error is the server's status,
// unchanged (control.proto documents the codes). Thread-safe: calls share one channel.
#ifndef VMSCAN_TOOLS_VMSCANCTL_INVENTORY_POLICY_CLIENT_H_
#define VMSCAN_TOOLS_VMSCANCTL_INVENTORY_POLICY_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/vmscanctl/server_channel.h"
#include "vmscan/v1/control.grpc.pb.h"

namespace vmscan {

class InventoryPolicyClient {
 public:
  static std::unique_ptr<InventoryPolicyClient> Create(const ServerTarget& target);

  // Groups, addressed by path ("Managed devices/Finance").
  absl::StatusOr<v1::Group> CreateGroup(const std::string& path);
  absl::StatusOr<v1::ListGroupsResponse> ListGroups();
  absl::Status DeleteGroup(const std::string& path);
  absl::StatusOr<v1::Group> RenameGroup(const std::string& path, const std::string& new_path);

  // VMs, addressed by id or by a name exactly one VM has.
  absl::StatusOr<v1::ListVmsResponse> ListVms(const std::string& group, bool recursive);
  absl::StatusOr<v1::VmRecord> GetVm(const std::string& vm);
  absl::StatusOr<v1::VmRecord> MoveVm(const std::string& vm, const std::string& group);
  absl::Status DeleteVm(const std::string& vm);
  absl::StatusOr<v1::VmSettings> GetEffectiveSettings(const std::string& vm);

  // Assignment rules.
  absl::StatusOr<v1::ListRulesResponse> ListRules();
  absl::StatusOr<v1::AssignmentRule> AddRule(const v1::AssignmentRule& rule);
  absl::Status DeleteRule(const std::string& id);

  // Policies.
  absl::StatusOr<v1::Policy> GetPolicy(const std::string& group);
  absl::StatusOr<v1::Policy> UpdatePolicy(const v1::UpdatePolicyRequest& request);
  absl::StatusOr<v1::ListPolicyHistoryResponse> ListPolicyHistory(const std::string& group,
                                                                  uint32_t limit);

 private:
  explicit InventoryPolicyClient(const ServerTarget& target);

  // One unary call of `stub` with a prepared context.
  template <typename Stub, typename Request, typename Response>
  absl::StatusOr<Response> Call(Stub& stub,
                                grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                                             Response*),
                                const Request& request);

  ServerChannel channel_;
  std::unique_ptr<v1::InventoryAdmin::Stub> inventory_;
  std::unique_ptr<v1::PolicyAdmin::Stub> policy_;
};

}  // namespace vmscan

#endif  // VMSCAN_TOOLS_VMSCANCTL_INVENTORY_POLICY_CLIENT_H_
