#include "host_server/backup/vm_retention.h"

#include <string>

#include "gtest/gtest.h"
#include "host_server/backup/fake_backup_store.h"

namespace vmscan {
namespace {

class VmRetentionTest : public ::testing::Test {
 protected:
  VmRetentionTest() {
    store_.clock = [this] { return now_; };
  }

  // `n` records of `vm_id`, 2000 bytes each, one hour apart, ending now.
  void Put(const std::string& vm_id, int n) {
    for (int i = 0; i < n; ++i) {
      v1::BackupRecord meta;
      meta.mutable_vm()->set_id(vm_id);
      meta.set_action(v1::DELETE);
      ASSERT_TRUE(store_.Put(meta, std::string(2000, 'a' + i)).ok());
      now_ += absl::Hours(1);
    }
  }

  size_t Count(const std::string& vm_id) {
    v1::BackupFilter filter;
    filter.set_vm_id(vm_id);
    absl::StatusOr<std::vector<v1::BackupRecord>> records = store_.List(filter);
    EXPECT_TRUE(records.ok()) << records.status();
    return records.ok() ? records->size() : 0;
  }

  absl::Time now_ = absl::FromUnixSeconds(1732680000);
  FakeBackupStore store_;
};

TEST_F(VmRetentionTest, SizeLimitKeepsOnlyTheVmsNewestRecords) {
  Put("short-vm", 3);
  Put("normal-vm", 3);
  v1::PolicyRetention retention;
  retention.set_max_total_bytes(4500);
  absl::StatusOr<uint64_t> removed = EnforceVmRetention(store_, "short-vm", retention, now_);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(*removed, 1u);
  EXPECT_EQ(Count("short-vm"), 2u);
  EXPECT_EQ(Count("normal-vm"), 3u) << "another VM's records are not touched";

  retention.set_max_total_bytes(1);
  removed = EnforceVmRetention(store_, "short-vm", retention, now_);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(*removed, 1u);
  EXPECT_EQ(Count("short-vm"), 1u) << "the newest record stays, even over the limit";
}

TEST_F(VmRetentionTest, AgeLimitRemovesOlderRecordsOnly) {
  const absl::Time first = now_;
  Put("vm", 2);  // at `first` and one hour later
  v1::PolicyRetention retention;
  retention.set_max_age_days(2);
  absl::StatusOr<uint64_t> removed =
      EnforceVmRetention(store_, "vm", retention, first + absl::Hours(24));
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(*removed, 0u) << "one day old: kept";
  removed =
      EnforceVmRetention(store_, "vm", retention, first + absl::Hours(48) + absl::Minutes(30));
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(*removed, 1u) << "only the older one is over two days";
  EXPECT_EQ(Count("vm"), 1u);
}

TEST_F(VmRetentionTest, NoLimitsRemoveNothingAndReadNothing) {
  Put("vm", 2);
  store_.fail_lists = absl::InternalError("must not be read");
  absl::StatusOr<uint64_t> removed =
      EnforceVmRetention(store_, "vm", v1::PolicyRetention(), now_ + absl::Hours(24 * 365));
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(*removed, 0u);
}

TEST_F(VmRetentionTest, AStoreFailureIsReturned) {
  Put("vm", 2);
  store_.fail_lists = absl::InternalError("broken index");
  v1::PolicyRetention retention;
  retention.set_max_total_bytes(1);
  absl::StatusOr<uint64_t> removed = EnforceVmRetention(store_, "vm", retention, now_);
  EXPECT_EQ(removed.status().code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace vmscan
