#include "host_server/service/byte_budget.h"

#include <cstdint>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace vmscan {
namespace {

TEST(ByteBudgetTest, ReservesUpToTheLimitAndRefusesBeyondWithoutTakingAnything) {
  ByteBudget budget(1000);
  EXPECT_TRUE(budget.TryReserve(600));
  EXPECT_FALSE(budget.TryReserve(401));
  EXPECT_EQ(budget.held(), 600u);
  EXPECT_TRUE(budget.TryReserve(400));  // exactly full
  EXPECT_FALSE(budget.TryReserve(1));
  budget.Release(600);
  EXPECT_EQ(budget.held(), 400u);
  EXPECT_TRUE(budget.TryReserve(600));
  EXPECT_FALSE(budget.TryReserve(UINT64_MAX));  // no wrap-around past the limit
}

TEST(ByteBudgetTest, ZeroLimitIsUnboundedButStillCounts) {
  ByteBudget budget(0);
  EXPECT_TRUE(budget.TryReserve(UINT64_MAX / 2));
  EXPECT_TRUE(budget.TryReserve(5));
  EXPECT_EQ(budget.held(), UINT64_MAX / 2 + 5);
}

TEST(ByteBudgetTest, ConcurrentReservationsNeverExceedTheLimit) {
  ByteBudget budget(10 * 1000);
  std::vector<std::thread> threads;
  std::vector<int> granted(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) {
        if (budget.TryReserve(1000)) {
          ++granted[t];
          EXPECT_LE(budget.held(), 10u * 1000);
          budget.Release(1000);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(budget.held(), 0u);
  int total = 0;
  for (int g : granted) total += g;
  EXPECT_GT(total, 0);
}

}  // namespace
}  // namespace vmscan
