#include "host_server/policy/scan_limits.h"

#include <cstdint>

namespace vmscan {
namespace {

uint64_t KeepIfTighter(uint64_t engine_value, uint64_t vm_value) {
  return engine_value == 0 || vm_value < engine_value ? vm_value : 0;
}

}  // namespace

v1::PolicyLimits OnlyTighterLimits(const v1::PolicyLimits& vm, const v1::ScanLimits& engine) {
  v1::PolicyLimits tighter;
  tighter.set_max_message_bytes(KeepIfTighter(engine.max_message_bytes(), vm.max_message_bytes()));
  tighter.set_max_scan_bytes(KeepIfTighter(engine.max_scan_bytes(), vm.max_scan_bytes()));
  tighter.set_max_file_bytes(KeepIfTighter(engine.max_file_bytes(), vm.max_file_bytes()));
  tighter.set_max_recursion(KeepIfTighter(engine.max_recursion(), vm.max_recursion()));
  tighter.set_max_files(KeepIfTighter(engine.max_files(), vm.max_files()));
  tighter.set_max_scan_time_ms(KeepIfTighter(engine.max_scan_time_ms(), vm.max_scan_time_ms()));
  return tighter;
}

}  // namespace vmscan
