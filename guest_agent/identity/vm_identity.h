// Who this VM is, as the agent tells the SVM: config overrides first, then what the machine says.
//
//   With mutual TLS (tls.cert_file set) the certificate decides: id = its urn:vmscan:vm: URI
//   (vm.id, if set, must be the same), name = vm.name, else the certificate's CN. Otherwise:
//   id:   vm.id, else the DMI product UUID (/sys/class/dmi/id/product_uuid, readable by root)
//         when it is plausible (not all zeros or all F), else the id kept in <state_dir>/vm-id,
//         else a random id generated once and kept there. `vmscan-agent run` copies a DMI UUID to
//         vm-id (RememberVmId), so that commands run without root (DMI is root-only) name the
//         same VM. Not /etc/machine-id: cloned VDI desktops share it, and two VMs with one id
//         would share one inventory record and one set of local settings.
//   name: vm.name, else the hostname.
//   host: vm.host, else "". A guest has no reliable way to learn its hypervisor host (DMI names
//         the product, not the machine; guest tools that know it are vendor-specific), so the
//         administrator configures it where rules by host are wanted.
//
// The hypervisor type is in hypervisor_type.h.
#ifndef VMSCAN_GUEST_AGENT_IDENTITY_VM_IDENTITY_H_
#define VMSCAN_GUEST_AGENT_IDENTITY_VM_IDENTITY_H_

#include <string>

#include "absl/status/statusor.h"
#include "vmscan/v1/config.pb.h"
#include "vmscan/v1/scan.pb.h"

namespace vmscan {

// Files and commands consulted, replaceable in tests.
struct IdentitySources {
  std::string dmi_uuid_path = "/sys/class/dmi/id/product_uuid";
  std::string dmi_sys_vendor_path = "/sys/class/dmi/id/sys_vendor";
  std::string dmi_product_name_path = "/sys/class/dmi/id/product_name";
  // Run as `<command> --vm`, looked up in PATH, no shell; empty: not consulted.
  std::string detect_virt_command = "systemd-detect-virt";
  int detect_virt_timeout_ms = 2000;
  bool use_cpuid = true;
};

absl::StatusOr<v1::VmIdentity> ResolveVmIdentity(const v1::AgentConfig& config,
                                                 const IdentitySources& sources = {});

// Keeps the detected id in <state_dir>/vm-id (best effort; nothing when vm.id is configured).
void RememberVmId(const v1::AgentConfig& config, const v1::VmIdentity& vm);

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_IDENTITY_VM_IDENTITY_H_
