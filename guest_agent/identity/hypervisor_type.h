// Which hypervisor this VM runs on, as the agent reports it at registration ("kvm", "vmware",
// "microsoft", "xen", "oracle", "qemu", "none"; the names systemd-detect-virt uses). Sources, first
// that answers wins:
//
//   1. vm.hypervisor_type from the config;
//   2. `systemd-detect-virt --vm` when it exists and exits 0 (run without a shell, short timeout);
//   3. DMI /sys/class/dmi/id/sys_vendor and product_name (QEMU → kvm, VMware → vmware, ...);
//   4. the CPUID hypervisor bit and the vendor signature of leaf 0x40000000 (x86 only);
//   5. "none".
//
//   std::string type = DetectHypervisorType(config);  // "kvm"
//
// The paths and the command are in IdentitySources so that tests can replace them. Thread-safe.
#ifndef VMSCAN_GUEST_AGENT_IDENTITY_HYPERVISOR_TYPE_H_
#define VMSCAN_GUEST_AGENT_IDENTITY_HYPERVISOR_TYPE_H_

#include <string>

#include "absl/strings/string_view.h"
#include "guest_agent/identity/vm_identity.h"
#include "vmscan/v1/config.pb.h"

namespace vmscan {

std::string DetectHypervisorType(const v1::AgentConfig& config,
                                 const IdentitySources& sources = {});

// The mappings, exposed for tests. Each answers "" when it does not recognise its input.
std::string HypervisorFromDmi(absl::string_view sys_vendor, absl::string_view product_name);
std::string HypervisorFromCpuidVendor(absl::string_view vendor);

// The 12-character vendor signature of CPUID leaf 0x40000000 when the CPUID hypervisor bit
// (leaf 1, ECX bit 31) is set; "" on bare metal or a CPU without CPUID.
std::string CpuidHypervisorVendor();

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_IDENTITY_HYPERVISOR_TYPE_H_
