#include "host_server/backup/vm_retention.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "common/status_macros.h"

namespace vmscan {
namespace {

constexpr uint32_t kPage = 10000;

// Every record of one VM, newest first.
absl::StatusOr<std::vector<v1::BackupRecord>> RecordsOf(BackupStore& store,
                                                        absl::string_view vm_id) {
  std::vector<v1::BackupRecord> all;
  v1::BackupFilter filter;
  filter.set_vm_id(std::string(vm_id));
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

absl::StatusOr<uint64_t> EnforceVmRetention(BackupStore& store, absl::string_view vm_id,
                                            const v1::PolicyRetention& retention, absl::Time now) {
  if (retention.max_age_days() == 0 && retention.max_total_bytes() == 0) return 0;
  VMSCAN_ASSIGN_OR_RETURN(std::vector<v1::BackupRecord> records, RecordsOf(store, vm_id));
  const int64_t cutoff = retention.max_age_days() == 0
                             ? INT64_MIN
                             : absl::ToUnixMicros(now - absl::Hours(24) * retention.max_age_days());
  uint64_t removed = 0;
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
  return removed;
}

}  // namespace vmscan
