#include "host_server/backup/retention_loop.h"

#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "host_server/backup/fake_backup_store.h"

namespace vmscan {
namespace {

using ::testing::HasSubstr;

v1::VmSettings VmWithSizeLimit(const std::string& id, uint64_t max_total_bytes) {
  v1::VmSettings vm;
  vm.mutable_vm()->set_id(id);
  vm.mutable_values()->mutable_backup()->set_max_total_bytes(max_total_bytes);
  return vm;
}

class RetentionLoopTest : public ::testing::Test {
 protected:
  void Put(const std::string& vm_id, int n) {
    for (int i = 0; i < n; ++i) {
      v1::BackupRecord meta;
      meta.mutable_vm()->set_id(vm_id);
      ASSERT_TRUE(store_.Put(meta, std::string(100, 'a' + i)).ok());
    }
  }

  RetentionLoop::SettingsSource Vms(std::vector<v1::VmSettings> vms) {
    return [vms]() -> absl::StatusOr<std::vector<v1::VmSettings>> { return vms; };
  }

  FakeBackupStore store_;
};

TEST_F(RetentionLoopTest, APassAppliesTheStoreWideAndEachVmsLimits) {
  Put("short", 3);
  Put("normal", 3);
  RetentionLoop loop(&store_, Vms({VmWithSizeLimit("short", 1), VmWithSizeLimit("normal", 0)}));
  EXPECT_EQ(loop.RunOnce(), 2u);
  EXPECT_EQ(store_.retention_passes(), 1) << "the store-wide limits";
  EXPECT_EQ(store_.size(), 4u) << "short keeps its newest record, normal all three";
}

TEST_F(RetentionLoopTest, FailuresAreLoggedAndThePassGoesOn) {
  Put("a", 2);
  store_.fail_retention = absl::InternalError("totals unreadable");
  store_.fail_lists = absl::InternalError("broken index");
  RetentionLoop loop(&store_, Vms({VmWithSizeLimit("a", 1), VmWithSizeLimit("b", 1)}));
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(loop.RunOnce(), 0u);
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(log, HasSubstr("backup retention failed: INTERNAL: totals unreadable"));
  // Both VMs were tried, the second after the first failed.
  EXPECT_THAT(log, HasSubstr("failed for VM a: INTERNAL: broken index"));
  EXPECT_THAT(log, HasSubstr("failed for VM b: INTERNAL: broken index"));
  EXPECT_EQ(store_.size(), 2u);

  RetentionLoop no_vms(&store_, []() -> absl::StatusOr<std::vector<v1::VmSettings>> {
    return absl::UnavailableError("control plane gone");
  });
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(no_vms.RunOnce(), 0u);
  EXPECT_THAT(::testing::internal::GetCapturedStderr(),
              HasSubstr("backup retention by policy failed: UNAVAILABLE: control plane gone"));
}

TEST_F(RetentionLoopTest, TheThreadRunsAPassEveryIntervalUntilStopped) {
  Put("short", 3);
  store_.fail_retention = absl::InternalError("every pass fails here");
  RetentionLoopOptions options;
  options.interval = absl::Milliseconds(5);
  RetentionLoop loop(&store_, Vms({VmWithSizeLimit("short", 1)}), options);
  ::testing::internal::CaptureStderr();
  loop.Start();
  // A failing pass does not end the loop: more passes follow.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (store_.retention_passes() < 3 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  loop.Stop();
  const std::string log = ::testing::internal::GetCapturedStderr();
  const int passes = store_.retention_passes();
  EXPECT_GE(passes, 3);
  EXPECT_EQ(store_.size(), 1u) << "the per-VM limit applied all the same";
  EXPECT_THAT(log, HasSubstr("every pass fails here"));
  absl::SleepFor(absl::Milliseconds(30));
  EXPECT_EQ(store_.retention_passes(), passes) << "no pass after Stop";
  loop.Stop();  // idempotent
}

}  // namespace
}  // namespace vmscan
