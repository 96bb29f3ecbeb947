// Who this VM is, as the agent tells the SVM: config overrides first, then what the machine says.
//
//   id:   vm.id, else the DMI product UUID (/sys/class/dmi/id/product_uuid, readable by root),
//         else /etc/machine-id, else a random id generated once and kept in <state_dir>/vm-id.
//   name: vm.name, else the hostname.
//   host: vm.host, else "" (hypervisor host detection comes with the inventory).
#ifndef VMSCAN_GUEST_AGENT_IDENTITY_VM_IDENTITY_H_
#define VMSCAN_GUEST_AGENT_IDENTITY_VM_IDENTITY_H_

#include <string>

#include "absl/status/statusor.h"
#include "vmscan/v1/config.pb.h"
#include "vmscan/v1/scan.pb.h"

namespace vmscan {

// Files consulted, replaceable in tests.
struct IdentitySources {
  std::string dmi_uuid_path = "/sys/class/dmi/id/product_uuid";
  std::string machine_id_path = "/etc/machine-id";
};

absl::StatusOr<v1::VmIdentity> ResolveVmIdentity(const v1::AgentConfig& config,
                                                 const IdentitySources& sources = {});

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_IDENTITY_VM_IDENTITY_H_
