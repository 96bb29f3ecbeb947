#include "host_server/scan/fair_queue.h"

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace vmscan {
namespace {

constexpr uint64_t kMiB = 1 << 20;
const absl::Time kNoDue = absl::InfinitePast();

// An item is the tenant and its cost, so that a test can add up what each tenant was served.
using Item = std::pair<std::string, uint64_t>;

void Push(FairQueue<Item>& q, const std::string& tenant, uint64_t cost, uint32_t weight = 1) {
  q.Push(tenant, weight, cost, kNoDue, Item{tenant, cost});
}

std::vector<std::string> Drain(FairQueue<std::string>& q) {
  std::vector<std::string> out;
  while (std::optional<std::string> item = q.Pop()) out.push_back(*item);
  return out;
}

TEST(FairQueueTest, OneTenantRunsEarliestDueFirstTiesInPushOrder) {
  FairQueue<std::string> q(kMiB);
  const absl::Time t0 = absl::FromUnixSeconds(1000000);
  q.Push("vm", 1, 10 * kMiB, t0 + absl::Seconds(5), "big");
  q.Push("vm", 1, 1000, t0 + absl::Milliseconds(10), "small");
  q.Push("vm", 1, 1000, t0 + absl::Seconds(1), "tie 1");
  q.Push("vm", 1, 1000, t0 + absl::Seconds(1), "tie 2");
  q.Push("vm", 1, 1000, kNoDue, "no due");
  EXPECT_EQ(q.size(), 5u);
  EXPECT_EQ(q.size("vm"), 5u);
  EXPECT_EQ(Drain(q), (std::vector<std::string>{"no due", "small", "tie 1", "tie 2", "big"}));
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.tenants(), 0u);
  EXPECT_FALSE(q.Pop().has_value());
}

TEST(FairQueueTest, ALateSmallItemOfAnotherTenantOvertakesAFlood) {
  FairQueue<std::string> q(kMiB);
  for (int i = 0; i < 64; ++i) q.Push("flooder", 1, 10 * kMiB, kNoDue, "flood");
  q.Push("victim", 1, 20000, kNoDue, "victim");
  std::vector<std::string> order = Drain(q);
  ASSERT_EQ(order.size(), 65u);
  EXPECT_EQ(order[0], "victim");  // the flooder's 10 MB needs ten turns of credit first
}

// Both tenants always have work: what each was served, by cost, stays within one quantum plus
// one item of the other's, though one sends 10 MiB items and the other 64 KiB ones.
TEST(FairQueueTest, BackloggedTenantsAreServedEqualBytesWhateverTheirItemSizes) {
  FairQueue<Item> q(kMiB);
  for (int i = 0; i < 20; ++i) Push(q, "big", 10 * kMiB);
  for (int i = 0; i < 4000; ++i) Push(q, "small", 64 << 10);
  std::map<std::string, uint64_t> served;
  while (q.size("big") > 0 && q.size("small") > 0) {
    std::optional<Item> item = q.Pop();
    ASSERT_TRUE(item.has_value());
    served[item->first] += item->second;
    const uint64_t a = served["big"], b = served["small"];
    ASSERT_LE(a > b ? a - b : b - a, kMiB + 10 * kMiB) << "big " << a << " small " << b;
  }
  EXPECT_EQ(q.size("big"), 0u);  // the small tenant had more to send: it is the one left
  EXPECT_GT(served["small"], 190 * kMiB);
}

TEST(FairQueueTest, WeightsSplitServiceInTheirRatio) {
  FairQueue<Item> q(256 << 10);
  for (int i = 0; i < 3000; ++i) {
    Push(q, "heavy", 100 << 10, 3);
    Push(q, "light", 100 << 10, 1);
  }
  std::map<std::string, uint64_t> served;
  for (int i = 0; i < 2000; ++i) {
    std::optional<Item> item = q.Pop();
    ASSERT_TRUE(item.has_value());
    served[item->first] += item->second;
  }
  const double ratio = static_cast<double>(served["heavy"]) / static_cast<double>(served["light"]);
  EXPECT_NEAR(ratio, 3.0, 0.1);
}

// A tenant that had nothing waiting saves no credit up: it cannot come back with a burst that
// overtakes everyone else's work.
TEST(FairQueueTest, AnIdleTenantSavesNoCredit) {
  FairQueue<std::string> q(kMiB);
  q.Push("a", 1, 100, kNoDue, "a1");
  EXPECT_EQ(q.Pop(), "a1");  // a had a quantum of credit and used only 100 of it
  for (int i = 0; i < 4; ++i) q.Push("b", 1, kMiB, kNoDue, "b");
  for (int i = 0; i < 4; ++i) q.Push("a", 1, kMiB, kNoDue, "a");
  // Had a kept its unused credit, it would be served twice in its first turn.
  EXPECT_EQ(Drain(q), (std::vector<std::string>{"b", "a", "b", "a", "b", "a", "b", "a"}));
}

TEST(FairQueueTest, ZeroCostAndWeightCountAsOne) {
  FairQueue<std::string> q(1);
  q.Push("a", 0, 0, kNoDue, "a1");
  q.Push("b", 0, 0, kNoDue, "b1");
  q.Push("a", 0, 0, kNoDue, "a2");
  EXPECT_EQ(Drain(q), (std::vector<std::string>{"a1", "b1", "a2"}));
}

}  // namespace
}  // namespace vmscan
