// FakeBackupStore: an in-memory BackupStore for unit tests, with failures on demand.
//
//   FakeBackupStore store;
//   store.fail_puts = absl::UnavailableError("disk gone");   // every Put fails from now on
//   store.fail_lists = absl::InternalError("broken index");  // every List fails
//
// Records get ids "fake-1", "fake-2", ... and created_unix_micros from `clock` (absl::Now when
// empty), size and stored_size from the original's length. List honours vm_id, action,
// since/until and limit (0: 1000), newest first. EnforceRetention removes nothing; it counts its
// calls.
//
// Thread-safe.
#ifndef VMSCAN_HOST_SERVER_BACKUP_FAKE_BACKUP_STORE_H_
#define VMSCAN_HOST_SERVER_BACKUP_FAKE_BACKUP_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "host_server/backup/backup_store.h"

namespace vmscan {

class FakeBackupStore final : public BackupStore {
 public:
  absl::StatusOr<std::string> Put(v1::BackupRecord meta, absl::string_view original) override {
    absl::MutexLock lock(&mu_);
    ++puts_;
    if (!fail_puts.ok()) return fail_puts;
    const std::string id = absl::StrCat("fake-", ++next_id_);
    meta.set_id(id);
    meta.set_created_unix_micros(absl::ToUnixMicros(clock ? clock() : absl::Now()));
    meta.set_size(original.size());
    meta.set_stored_size(original.size());
    records_[id] = {std::move(meta), std::string(original)};
    return id;
  }

  absl::StatusOr<v1::BackupRecord> Get(absl::string_view id) override {
    absl::MutexLock lock(&mu_);
    auto it = records_.find(std::string(id));
    if (it == records_.end()) return absl::NotFoundError(absl::StrCat("no backup record ", id));
    return it->second.meta;
  }

  absl::StatusOr<std::string> GetOriginal(absl::string_view id) override {
    absl::MutexLock lock(&mu_);
    auto it = records_.find(std::string(id));
    if (it == records_.end()) return absl::NotFoundError(absl::StrCat("no backup record ", id));
    return it->second.original;
  }

  absl::StatusOr<std::vector<v1::BackupRecord>> List(const v1::BackupFilter& filter) override {
    absl::MutexLock lock(&mu_);
    if (!fail_lists.ok()) return fail_lists;
    std::vector<v1::BackupRecord> out;
    // Ids count up, so the map's reverse order is newest first (also within one microsecond).
    for (auto it = records_.rbegin(); it != records_.rend(); ++it) {
      const v1::BackupRecord& r = it->second.meta;
      if (!filter.vm_id().empty() && r.vm().id() != filter.vm_id()) continue;
      if (filter.action() != v1::ACTION_UNSPECIFIED && r.action() != filter.action()) continue;
      if (filter.since_unix_micros() != 0 && r.created_unix_micros() < filter.since_unix_micros()) {
        continue;
      }
      if (filter.until_unix_micros() != 0 &&
          r.created_unix_micros() >= filter.until_unix_micros()) {
        continue;
      }
      out.push_back(r);
      if (out.size() == (filter.limit() != 0 ? filter.limit() : 1000u)) break;
    }
    return out;
  }

  absl::Status Delete(absl::string_view id) override {
    absl::MutexLock lock(&mu_);
    if (records_.erase(std::string(id)) == 0) {
      return absl::NotFoundError(absl::StrCat("no backup record ", id));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<uint64_t> Purge(absl::Duration older_than) override {
    absl::MutexLock lock(&mu_);
    const int64_t cutoff = absl::ToUnixMicros((clock ? clock() : absl::Now()) - older_than);
    uint64_t removed = 0;
    for (auto it = records_.begin(); it != records_.end();) {
      if (older_than == absl::ZeroDuration() || it->second.meta.created_unix_micros() < cutoff) {
        it = records_.erase(it);
        ++removed;
      } else {
        ++it;
      }
    }
    return removed;
  }

  absl::StatusOr<v1::BackupStats> Stats() override {
    absl::MutexLock lock(&mu_);
    v1::BackupStats stats;
    stats.set_records(records_.size());
    return stats;
  }

  absl::StatusOr<v1::BackupRecord> UpdateRestores(
      absl::string_view id,
      const std::function<absl::Status(google::protobuf::RepeatedPtrField<v1::RestoreEvent>*)>&
          update) override {
    absl::MutexLock lock(&mu_);
    auto it = records_.find(std::string(id));
    if (it == records_.end()) return absl::NotFoundError(absl::StrCat("no backup record ", id));
    google::protobuf::RepeatedPtrField<v1::RestoreEvent> restores = it->second.meta.restores();
    if (absl::Status s = update(&restores); !s.ok()) return s;
    *it->second.meta.mutable_restores() = std::move(restores);
    return it->second.meta;
  }

  absl::StatusOr<std::vector<std::string>> PendingRestores(absl::string_view vm_id) override {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> ids;
    for (const auto& [id, record] : records_) {
      if (record.meta.vm().id() != vm_id) continue;
      for (const v1::RestoreEvent& e : record.meta.restores()) {
        if (e.delivered_unix_micros() == 0) {
          ids.push_back(id);
          break;
        }
      }
    }
    return ids;
  }

  absl::StatusOr<uint64_t> EnforceRetention() override {
    absl::MutexLock lock(&mu_);
    ++retention_passes_;
    if (!fail_retention.ok()) return fail_retention;
    return 0;
  }

  // Test side.
  size_t size() const {
    absl::MutexLock lock(&mu_);
    return records_.size();
  }
  int puts() const {
    absl::MutexLock lock(&mu_);
    return puts_;
  }
  int retention_passes() const {
    absl::MutexLock lock(&mu_);
    return retention_passes_;
  }

  // Set before the store is shared.
  absl::Status fail_puts;
  absl::Status fail_lists;
  absl::Status fail_retention;
  std::function<absl::Time()> clock;

 private:
  struct Stored {
    v1::BackupRecord meta;
    std::string original;
  };
  // Ids "fake-<n>" in the order of n: shorter first, then by characters.
  struct ByNumber {
    bool operator()(const std::string& a, const std::string& b) const {
      return a.size() != b.size() ? a.size() < b.size() : a < b;
    }
  };

  mutable absl::Mutex mu_;
  std::map<std::string, Stored, ByNumber> records_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  int puts_ ABSL_GUARDED_BY(mu_) = 0;
  int retention_passes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_BACKUP_FAKE_BACKUP_STORE_H_
