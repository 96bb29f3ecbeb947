// FairQueue: waiting items of many tenants (for the scan queue: VMs), taken out by deficit round
// robin over the tenants' costs (docs/design.md §6), so that a tenant with many or big items gets
// no more service than its weight allows while others wait.
//
//   FairQueue<Task> queue(/*quantum=*/1 << 20);
//   queue.Push("vm-a", /*weight=*/1, /*cost=*/size + overhead, due, std::move(task));
//   std::optional<Task> next = queue.Pop();
//
// Between tenants: the tenants with waiting items take turns in a ring; each turn credits the
// tenant `quantum × weight`, and it is served while its credit covers the cost of its next item;
// then the next tenant's turn begins. A tenant whose last item is taken leaves the ring and its
// credit is dropped (an idle tenant saves nothing up). Over any stretch during which two tenants
// both have items waiting, the costs they are served differ from their weight ratio by at most
// one quantum plus one item, whatever the number and size of items either of them pushed.
// Within one tenant: earliest `due` first, ties in push order (the scan queue's earliest
// expected finish, docs/design.md §3.1).
//
// Not thread-safe (WorkerPool holds it under its mutex); no clock of its own, so it is tested as
// a plain data structure.
#ifndef VMSCAN_HOST_SERVER_SCAN_FAIR_QUEUE_H_
#define VMSCAN_HOST_SERVER_SCAN_FAIR_QUEUE_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace vmscan {

template <typename T>
class FairQueue {
 public:
  // `quantum` (> 0) is the credit of one turn at weight 1.
  explicit FairQueue(uint64_t quantum) : quantum_(std::max<uint64_t>(quantum, 1)) {}

  // `weight` 0 counts as 1; the latest push sets the tenant's weight. `cost` 0 counts as 1.
  void Push(absl::string_view tenant, uint32_t weight, uint64_t cost, absl::Time due, T item) {
    auto [it, added] = tenants_.try_emplace(tenant);
    Tenant& t = it->second;
    if (added) ring_.push_back(it->first);
    t.weight = std::max<uint32_t>(weight, 1);
    t.waiting.emplace(std::make_pair(due, pushed_++),
                      Waiting{std::max<uint64_t>(cost, 1), std::move(item)});
    ++size_;
  }

  // The next item by the order above; nullopt when nothing waits.
  std::optional<T> Pop() {
    while (!ring_.empty()) {
      auto found = tenants_.find(ring_.front());
      Tenant& t = found->second;
      if (!turn_credited_) {
        t.credit += quantum_ * t.weight;
        turn_credited_ = true;
      }
      auto first = t.waiting.begin();
      if (first->second.cost > t.credit) {  // its turn is over: the next tenant's begins
        ring_.splice(ring_.end(), ring_, ring_.begin());
        turn_credited_ = false;
        continue;
      }
      t.credit -= first->second.cost;
      T item = std::move(first->second.item);
      t.waiting.erase(first);
      --size_;
      if (t.waiting.empty()) {
        ring_.pop_front();
        tenants_.erase(found);
        turn_credited_ = false;
      }
      return item;
    }
    return std::nullopt;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Items `tenant` has waiting.
  size_t size(absl::string_view tenant) const {
    auto it = tenants_.find(tenant);
    return it == tenants_.end() ? 0 : it->second.waiting.size();
  }
  // Tenants with items waiting.
  size_t tenants() const { return tenants_.size(); }

 private:
  struct Waiting {
    uint64_t cost;
    T item;
  };
  struct Tenant {
    uint32_t weight = 1;
    uint64_t credit = 0;
    std::map<std::pair<absl::Time, uint64_t>, Waiting> waiting;  // by (due, push number)
  };

  const uint64_t quantum_;
  absl::flat_hash_map<std::string, Tenant> tenants_;  // only tenants with items waiting
  std::list<std::string> ring_;                       // their turns; the front's is running
  bool turn_credited_ = false;                        // the front got its quantum this turn
  uint64_t pushed_ = 0;
  size_t size_ = 0;
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_SCAN_FAIR_QUEUE_H_
