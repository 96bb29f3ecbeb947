#include "host_server/policy/scan_limits.h"

#include "gtest/gtest.h"

namespace vmscan {
namespace {

v1::ScanLimits EngineLimits() {
  v1::ScanLimits engine;
  engine.set_max_message_bytes(1000);
  engine.set_max_scan_bytes(2000);
  engine.set_max_file_bytes(3000);
  engine.set_max_recursion(10);
  engine.set_max_files(20);
  engine.set_max_scan_time_ms(30);
  return engine;
}

TEST(OnlyTighterLimitsTest, KeepsEveryLimitBelowTheEngines) {
  v1::PolicyLimits vm;
  vm.set_max_message_bytes(999);
  vm.set_max_scan_bytes(1999);
  vm.set_max_file_bytes(1);
  vm.set_max_recursion(9);
  vm.set_max_files(19);
  vm.set_max_scan_time_ms(29);
  const v1::PolicyLimits kept = OnlyTighterLimits(vm, EngineLimits());
  EXPECT_EQ(kept.max_message_bytes(), 999u);
  EXPECT_EQ(kept.max_scan_bytes(), 1999u);
  EXPECT_EQ(kept.max_file_bytes(), 1u);
  EXPECT_EQ(kept.max_recursion(), 9u);
  EXPECT_EQ(kept.max_files(), 19u);
  EXPECT_EQ(kept.max_scan_time_ms(), 29u);
}

TEST(OnlyTighterLimitsTest, DropsLimitsTheEngineAlreadyEnforces) {
  v1::PolicyLimits vm;  // equal or above: the engine's own limit is as tight or tighter
  vm.set_max_message_bytes(1000);
  vm.set_max_scan_bytes(2001);
  vm.set_max_file_bytes(3000);
  vm.set_max_recursion(11);
  vm.set_max_files(20);
  vm.set_max_scan_time_ms(1u << 30);
  const v1::PolicyLimits kept = OnlyTighterLimits(vm, EngineLimits());
  EXPECT_EQ(kept.max_message_bytes(), 0u);
  EXPECT_EQ(kept.max_scan_bytes(), 0u);
  EXPECT_EQ(kept.max_file_bytes(), 0u);
  EXPECT_EQ(kept.max_recursion(), 0u);
  EXPECT_EQ(kept.max_files(), 0u);
  EXPECT_EQ(kept.max_scan_time_ms(), 0u);
  // 0 in the VM's settings means no limit of its own.
  EXPECT_EQ(OnlyTighterLimits(v1::PolicyLimits(), EngineLimits()).max_files(), 0u);
}

TEST(OnlyTighterLimitsTest, WhereTheEngineHasNoLimitTheVmsApplies) {
  v1::ScanLimits engine = EngineLimits();
  engine.set_max_files(0);
  engine.set_max_scan_bytes(0);
  v1::PolicyLimits vm;
  vm.set_max_files(5000);
  vm.set_max_scan_bytes(uint64_t{1} << 40);
  vm.set_max_recursion(50);
  const v1::PolicyLimits kept = OnlyTighterLimits(vm, engine);
  EXPECT_EQ(kept.max_files(), 5000u);
  EXPECT_EQ(kept.max_scan_bytes(), uint64_t{1} << 40);
  EXPECT_EQ(kept.max_recursion(), 0u) << "the engine's 10 is tighter";
}

}  // namespace
}  // namespace vmscan
