// ScanBounds: limits tighter than the engine's own for the scans of one message — the limits of
// the VM's policy (docs/design.md §4). The engine is compiled once with the SVM's limits and
// shared by all VMs; a VM whose policy asks for less gets it per scan, as an argument of every
// engine call that scans its message:
//
//   ScanBounds bounds;
//   bounds.max_files = 100;
//   AnalyzeMessage(engine, message, bounds);  // raw scan and part scans honour them
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
  bool operator==(const ScanBounds&) const = default;
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_ENGINE_SCAN_BOUNDS_H_
