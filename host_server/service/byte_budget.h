// ByteBudget: bytes held against a limit, for admission control, shared fairly between VMs
// (docs/design.md §6): besides the total `limit`, each VM may hold at most `per_vm_limit`, so
// that one VM's flood leaves room for the others' messages.
//
//   ByteBudget budget(/*limit=*/1 << 30, /*per_vm_limit=*/512 << 20);
//   switch (budget.TryReserve(vm_id, n)) {
//     case ByteBudget::Refusal::kNone: break;  // reserved
//     case ByteBudget::Refusal::kTotal: return ResourceExhausted("scan queue full");
//     case ByteBudget::Refusal::kVmShare: return ResourceExhausted("this VM's share is full");
//   }
//   ...
//   budget.Release(vm_id, n);  // exactly what was reserved
//
// Thread-safe. A limit of 0 means no bound (the count is still kept).
#ifndef VMSCAN_HOST_SERVER_SERVICE_BYTE_BUDGET_H_
#define VMSCAN_HOST_SERVER_SERVICE_BYTE_BUDGET_H_

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace vmscan {

class ByteBudget {
 public:
  enum class Refusal { kNone, kTotal, kVmShare };

  explicit ByteBudget(uint64_t limit, uint64_t per_vm_limit = 0)
      : limit_(limit), per_vm_limit_(per_vm_limit) {}
  ByteBudget(const ByteBudget&) = delete;
  ByteBudget& operator=(const ByteBudget&) = delete;

  // Adds `bytes` for `vm` unless the VM's total or the whole total would go over its limit;
  // nothing is added then. The VM's share is checked first: a VM over its share is told so even
  // when the whole budget is full too.
  Refusal TryReserve(absl::string_view vm, uint64_t bytes) {
    absl::MutexLock lock(&mu_);
    auto it = held_by_vm_.find(vm);
    const uint64_t vm_held = it == held_by_vm_.end() ? 0 : it->second;
    if (Over(per_vm_limit_, vm_held, bytes)) return Refusal::kVmShare;
    if (Over(limit_, held_, bytes)) return Refusal::kTotal;
    held_ += bytes;
    if (it == held_by_vm_.end()) {
      held_by_vm_.emplace(vm, bytes);
    } else {
      it->second += bytes;
    }
    return Refusal::kNone;
  }

  void Release(absl::string_view vm, uint64_t bytes) {
    if (bytes == 0) return;
    absl::MutexLock lock(&mu_);
    held_ -= bytes;
    auto it = held_by_vm_.find(vm);
    if (it == held_by_vm_.end()) return;  // a bug of the caller's; the total stays right
    it->second -= bytes;
    if (it->second == 0) held_by_vm_.erase(it);
  }

  uint64_t held() const {
    absl::MutexLock lock(&mu_);
    return held_;
  }
  uint64_t held(absl::string_view vm) const {
    absl::MutexLock lock(&mu_);
    auto it = held_by_vm_.find(vm);
    return it == held_by_vm_.end() ? 0 : it->second;
  }
  uint64_t limit() const { return limit_; }
  uint64_t per_vm_limit() const { return per_vm_limit_; }

 private:
  static bool Over(uint64_t limit, uint64_t held, uint64_t bytes) {
    return limit != 0 && (bytes > limit || held > limit - bytes);
  }

  const uint64_t limit_;
  const uint64_t per_vm_limit_;
  mutable absl::Mutex mu_;
  uint64_t held_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, uint64_t> held_by_vm_ ABSL_GUARDED_BY(mu_);  // only > 0
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_SERVICE_BYTE_BUDGET_H_
