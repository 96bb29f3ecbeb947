#include "host_server/service/policy_retention.h"

#include <vector>

#include "common/logging.h"
#include "common/status_macros.h"

namespace vmscan {
namespace {

constexpr uint32_t kPage = 10000;

// Every record of one VM, newest first.
absl::StatusOr<std::vector<v1::BackupRecord>> RecordsOf(BackupStore& store,
                                                        const std::string& vm_id) {
  std::vector<v1::BackupRecord> all;
  v1::BackupFilter filter;
  filter.set_vm_id(vm_id);
  filter.set_limit(kPage);
  for (;;) {
    VMSCAN_ASSIGN_OR_RETURN(std::vector<v1::BackupRecord> page, store.List(filter));
    const bool more = page.size() == kPage;
    for (v1::BackupRecord& record : page) all.push_back(std::move(record));
    if (!more) return all;
    filter.set_until_unix_micros(all.back().created_unix_micros());
  }
}

}  // namespace

absl::StatusOr<uint64_t> EnforcePolicyRetention(BackupStore& store, const ControlPlane& control,
                                                absl::Time now) {
  VMSCAN_ASSIGN_OR_RETURN(std::vector<v1::VmRecord> vms, control.ListVms("", false));
  uint64_t removed = 0;
  for (const v1::VmRecord& vm : vms) {
    absl::StatusOr<v1::VmSettings> settings = control.Settings(vm.vm().id());
    if (!settings.ok()) continue;  // removed meanwhile
    const v1::PolicyRetention& retention = settings->values().backup();
    if (retention.max_age_days() == 0 && retention.max_total_bytes() == 0) continue;
    VMSCAN_ASSIGN_OR_RETURN(std::vector<v1::BackupRecord> records, RecordsOf(store, vm.vm().id()));
    const int64_t cutoff =
        retention.max_age_days() == 0
            ? INT64_MIN
            : absl::ToUnixMicros(now - absl::Hours(24) * retention.max_age_days());
    uint64_t kept_bytes = 0;
    for (size_t i = 0; i < records.size(); ++i) {
      const v1::BackupRecord& record = records[i];
      const bool too_old = record.created_unix_micros() < cutoff;
      const bool over_size = i > 0 && retention.max_total_bytes() != 0 &&
                             kept_bytes + record.stored_size() > retention.max_total_bytes();
      if (!too_old && !over_size) {
        kept_bytes += record.stored_size();
        continue;
      }
      absl::Status deleted = store.Delete(record.id());
      if (deleted.ok()) {
        ++removed;
      } else if (!absl::IsNotFound(deleted)) {
        return deleted;
      }
    }
  }
  if (removed > 0) {
    VMSCAN_LOG(INFO) << "policy retention removed " << removed << " backup records";
  }
  return removed;
}

}  // namespace vmscan
