#include "host_server/engine/scan_bounds.h"

namespace vmscan {
namespace {

thread_local const ScanBounds* t_bounds = nullptr;

}  // namespace

ScopedScanBounds::ScopedScanBounds(const ScanBounds& bounds)
    : previous_(t_bounds), bounds_(bounds) {
  t_bounds = &bounds_;
}

ScopedScanBounds::~ScopedScanBounds() { t_bounds = previous_; }

ScanBounds ScopedScanBounds::Current() { return t_bounds != nullptr ? *t_bounds : ScanBounds(); }

}  // namespace vmscan
