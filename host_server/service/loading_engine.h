// LoadingEngine: what EngineSlot holds while the real signature database is being loaded at
// start-up (docs/design.md §7, "Health and reflection"). The server already listens then — its
// health service answers NOT_SERVING — and a scan that arrives anyway fails with UNAVAILABLE,
// which agents treat as "try the next SVM, or tempfail": never a verdict, never "clean".
//
// Thread-safe (stateless).
#ifndef VMSCAN_HOST_SERVER_SERVICE_LOADING_ENGINE_H_
#define VMSCAN_HOST_SERVER_SERVICE_LOADING_ENGINE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "host_server/engine/scan_engine.h"

namespace vmscan {

class LoadingEngine final : public ScanEngine {
 public:
  absl::StatusOr<EngineVerdict> Scan(absl::string_view, absl::string_view,
                                     const ScanBounds&) const override {
    return absl::UnavailableError("the SVM is still loading its signature database; retry");
  }
  // No verdict is ever made, so nothing is cached under this version.
  std::string version() const override { return "loading"; }
  uint64_t signature_count() const override { return 0; }
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_SERVICE_LOADING_ENGINE_H_
