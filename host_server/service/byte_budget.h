// ByteBudget: a lock-free count of bytes held against a limit, for admission control.
//
//   ByteBudget budget(1 << 30);
//   if (!budget.TryReserve(n)) return ResourceExhausted(...);
//   ...
//   budget.Release(n);  // exactly what was reserved
//
// Thread-safe. A limit of 0 means no bound (TryReserve always succeeds, the count is still kept).
#ifndef VMSCAN_HOST_SERVER_SERVICE_BYTE_BUDGET_H_
#define VMSCAN_HOST_SERVER_SERVICE_BYTE_BUDGET_H_

#include <atomic>
#include <cstdint>

namespace vmscan {

class ByteBudget {
 public:
  explicit ByteBudget(uint64_t limit) : limit_(limit) {}
  ByteBudget(const ByteBudget&) = delete;
  ByteBudget& operator=(const ByteBudget&) = delete;

  // Adds `bytes` unless the total would go over the limit; false (and nothing added) then.
  bool TryReserve(uint64_t bytes) {
    uint64_t held = held_.load(std::memory_order_relaxed);
    do {
      if (limit_ != 0 && (bytes > limit_ || held > limit_ - bytes)) return false;
    } while (!held_.compare_exchange_weak(held, held + bytes, std::memory_order_relaxed));
    return true;
  }

  void Release(uint64_t bytes) { held_.fetch_sub(bytes, std::memory_order_relaxed); }

  uint64_t held() const { return held_.load(std::memory_order_relaxed); }
  uint64_t limit() const { return limit_; }

 private:
  const uint64_t limit_;
  std::atomic<uint64_t> held_{0};
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_SERVICE_BYTE_BUDGET_H_
