#include "host_server/service/byte_budget.h"

#include <cstdint>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace vmscan {
namespace {

using Refusal = ByteBudget::Refusal;

TEST(ByteBudgetTest, ReservesUpToTheLimitAndRefusesBeyondWithoutTakingAnything) {
  ByteBudget budget(1000);
  EXPECT_EQ(budget.TryReserve("vm", 600), Refusal::kNone);
  EXPECT_EQ(budget.TryReserve("vm", 401), Refusal::kTotal);
  EXPECT_EQ(budget.held(), 600u);
  EXPECT_EQ(budget.TryReserve("vm", 400), Refusal::kNone);  // exactly full
  EXPECT_EQ(budget.TryReserve("vm", 1), Refusal::kTotal);
  budget.Release("vm", 600);
  EXPECT_EQ(budget.held(), 400u);
  EXPECT_EQ(budget.TryReserve("vm", 600), Refusal::kNone);
  EXPECT_EQ(budget.TryReserve("vm", UINT64_MAX), Refusal::kTotal);  // no wrap-around
}

TEST(ByteBudgetTest, ZeroLimitIsUnboundedButStillCounts) {
  ByteBudget budget(0);
  EXPECT_EQ(budget.TryReserve("vm", UINT64_MAX / 2), Refusal::kNone);
  EXPECT_EQ(budget.TryReserve("vm", 5), Refusal::kNone);
  EXPECT_EQ(budget.held(), UINT64_MAX / 2 + 5);
  EXPECT_EQ(budget.held("vm"), UINT64_MAX / 2 + 5);
}

// A VM at its share is refused as such, while another VM still gets the rest of the total.
TEST(ByteBudgetTest, AVmOverItsShareIsRefusedAndTheOthersAreNot) {
  ByteBudget budget(1000, 500);
  EXPECT_EQ(budget.TryReserve("flooder", 500), Refusal::kNone);
  EXPECT_EQ(budget.TryReserve("flooder", 1), Refusal::kVmShare);
  EXPECT_EQ(budget.TryReserve("victim", 300), Refusal::kNone);
  EXPECT_EQ(budget.TryReserve("third", 300), Refusal::kTotal);  // the total is the total
  EXPECT_EQ(budget.held("flooder"), 500u);
  EXPECT_EQ(budget.held("victim"), 300u);
  EXPECT_EQ(budget.held("third"), 0u);
  budget.Release("flooder", 500);
  EXPECT_EQ(budget.held("flooder"), 0u);
  EXPECT_EQ(budget.TryReserve("third", 500), Refusal::kNone);
  EXPECT_EQ(budget.held(), 800u);
}

TEST(ByteBudgetTest, ConcurrentReservationsNeverExceedEitherLimit) {
  ByteBudget budget(10 * 1000, 4 * 1000);
  std::vector<std::thread> threads;
  std::vector<int> granted(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      const std::string vm = t % 2 == 0 ? "even" : "odd";
      for (int i = 0; i < 10000; ++i) {
        if (budget.TryReserve(vm, 1000) == Refusal::kNone) {
          ++granted[t];
          EXPECT_LE(budget.held(), 10u * 1000);
          EXPECT_LE(budget.held(vm), 4u * 1000);
          budget.Release(vm, 1000);
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
