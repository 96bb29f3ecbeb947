// The view of vmscan.v1.EngineStatus for `vmscanctl engine status|reload` (docs/design.md §6):
// the signature set serving, when it was loaded, and the last reload's outcome. Pure.
#ifndef VMSCAN_TOOLS_VMSCANCTL_ENGINE_FORMAT_H_
#define VMSCAN_TOOLS_VMSCANCTL_ENGINE_FORMAT_H_

#include <string>

#include "vmscan/v1/admin.pb.h"

namespace vmscan {

// "version ...\nsignatures ...\n..." as aligned "field  value" lines.
std::string FormatEngineStatus(const v1::EngineStatus& status);

// One line on the last reload: "reloaded: 13 signatures, version X (4 ms)" or "reload failed,
// version X keeps serving: WHY".
std::string FormatReloadOutcome(const v1::EngineStatus& status);

}  // namespace vmscan

#endif  // VMSCAN_TOOLS_VMSCANCTL_ENGINE_FORMAT_H_
