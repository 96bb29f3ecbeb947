// Which of a VM's scan limits the SVM applies itself, per scan (docs/design.md §4).
//
// The engine is compiled once with the server's `limits` and shared by all VMs; it enforces
// those with libclamav's own exact semantics. A VM's policy can make a limit tighter, never
// looser: only a VM limit below the engine's (or one the engine does not set) is left for the
// scan path to apply (a message size check, ScanBounds).
//
//   v1::PolicyLimits per_scan = OnlyTighterLimits(vm_settings.limits(), config.limits());
//   // a field is 0 where the engine's own limit is as tight or tighter
//
// Thread-safe: a pure function.
#ifndef VMSCAN_HOST_SERVER_POLICY_SCAN_LIMITS_H_
#define VMSCAN_HOST_SERVER_POLICY_SCAN_LIMITS_H_

#include "vmscan/v1/config.pb.h"
#include "vmscan/v1/policy.pb.h"

namespace vmscan {

// `vm` with every limit zeroed that is not below the engine's (0 in `engine` means no engine
// limit, so the VM's value stays).
v1::PolicyLimits OnlyTighterLimits(const v1::PolicyLimits& vm, const v1::ScanLimits& engine);

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_POLICY_SCAN_LIMITS_H_
