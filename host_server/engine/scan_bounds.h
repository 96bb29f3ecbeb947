// ScanBounds: limits tighter than the engine's own for the scans of one message — the limits of
// the VM's policy (docs/design.md §4). The engine is compiled once with the SVM's limits and shared
// by all VMs; a VM whose policy asks for less gets it per scan:
//
//   ScopedScanBounds scope(bounds);        // on the scanning thread
//   AnalyzeMessage(engine, message);       // every engine scan on this thread applies them
//
// An engine that honours bounds (ClamavEngine, through libclamav's file-inspection callback)
// counts every layer it opens: a layer deeper than max_recursion, one larger than max_file_bytes,
// more than max_files layers, more than max_scan_bytes in all, or more time than
// max_scan_time_ms make the verdict UNSCANNABLE (LIMITS_EXCEEDED, or TIMEOUT for time) — never
// clean. 0 means no bound beyond the engine's. A layer libclamav answers from its clean cache
// was scanned completely before, so its children are not opened and not counted.
#ifndef VMSCAN_HOST_SERVER_ENGINE_SCAN_BOUNDS_H_
#define VMSCAN_HOST_SERVER_ENGINE_SCAN_BOUNDS_H_

#include <cstdint>

namespace vmscan {

struct ScanBounds {
  uint64_t max_scan_bytes = 0;
  uint64_t max_file_bytes = 0;
  uint32_t max_recursion = 0;
  uint32_t max_files = 0;
  uint32_t max_scan_time_ms = 0;

  bool none() const {
    return max_scan_bytes == 0 && max_file_bytes == 0 && max_recursion == 0 && max_files == 0 &&
           max_scan_time_ms == 0;
  }
};

// Makes `bounds` apply to the engine scans of the current thread until destroyed. Nests.
class ScopedScanBounds {
 public:
  explicit ScopedScanBounds(const ScanBounds& bounds);
  ~ScopedScanBounds();
  ScopedScanBounds(const ScopedScanBounds&) = delete;
  ScopedScanBounds& operator=(const ScopedScanBounds&) = delete;

  // The bounds in force on this thread (all 0 outside any scope).
  static ScanBounds Current();

 private:
  const ScanBounds* previous_;
  const ScanBounds bounds_;
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_ENGINE_SCAN_BOUNDS_H_
