#include "host_server/backup/retention_loop.h"

#include <utility>

#include "absl/time/clock.h"
#include "common/logging.h"
#include "host_server/backup/vm_retention.h"

namespace vmscan {

RetentionLoop::RetentionLoop(BackupStore* store, SettingsSource vms, RetentionLoopOptions options)
    : store_(store), vms_(std::move(vms)), options_(std::move(options)) {}

RetentionLoop::~RetentionLoop() { Stop(); }

void RetentionLoop::Start() {
  thread_ = std::thread([this] {
    while (!stop_.WaitForNotificationWithTimeout(options_.interval)) RunOnce();
  });
}

void RetentionLoop::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

uint64_t RetentionLoop::RunOnce() {
  uint64_t removed = 0;
  absl::StatusOr<uint64_t> store_wide = store_->EnforceRetention();
  if (!store_wide.ok()) {
    VMSCAN_LOG(WARNING) << "backup retention failed: " << store_wide.status();
  } else if (*store_wide > 0) {
    VMSCAN_LOG(INFO) << "backup retention removed " << *store_wide << " records";
    removed += *store_wide;
  }

  absl::StatusOr<std::vector<v1::VmSettings>> vms = vms_();
  if (!vms.ok()) {
    VMSCAN_LOG(WARNING) << "backup retention by policy failed: " << vms.status();
    return removed;
  }
  const absl::Time now = options_.clock ? options_.clock() : absl::Now();
  uint64_t by_policy = 0;
  for (const v1::VmSettings& vm : *vms) {
    absl::StatusOr<uint64_t> of_vm =
        EnforceVmRetention(*store_, vm.vm().id(), vm.values().backup(), now);
    if (!of_vm.ok()) {
      VMSCAN_LOG(WARNING) << "backup retention by policy failed for VM " << vm.vm().id() << ": "
                          << of_vm.status();
      continue;
    }
    by_policy += *of_vm;
  }
  if (by_policy > 0) {
    VMSCAN_LOG(INFO) << "policy retention removed " << by_policy << " backup records";
  }
  return removed + by_policy;
}

}  // namespace vmscan
