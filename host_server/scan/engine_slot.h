// EngineSlot: the currently active compiled engine. Scans take a reference for their whole
// duration; a signature reload compiles a new engine off the request path and swaps it in here,
// so no scan stalls and running scans finish on the engine they started with.
//
// Thread-safe.
#ifndef VMSCAN_HOST_SERVER_SCAN_ENGINE_SLOT_H_
#define VMSCAN_HOST_SERVER_SCAN_ENGINE_SLOT_H_

#include <memory>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "host_server/engine/scan_engine.h"

namespace vmscan {

class EngineSlot {
 public:
  explicit EngineSlot(std::shared_ptr<const ScanEngine> engine) : engine_(std::move(engine)) {}

  std::shared_ptr<const ScanEngine> Get() const {
    absl::MutexLock lock(&mu_);
    return engine_;
  }

  // Returns the old engine, which scans that began on it still hold; it is freed when the last
  // holder lets go (the reloader waits for that, so that it is freed off the scan path).
  std::shared_ptr<const ScanEngine> Swap(std::shared_ptr<const ScanEngine> engine) {
    absl::MutexLock lock(&mu_);
    engine_.swap(engine);
    return engine;
  }

 private:
  mutable absl::Mutex mu_;
  std::shared_ptr<const ScanEngine> engine_ ABSL_GUARDED_BY(mu_);
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_SCAN_ENGINE_SLOT_H_
