#include "host_server/service/policy_retention.h"

#include <filesystem>

#include "gtest/gtest.h"
#include "host_server/backup/lmdb_backup_store.h"
#include "host_server/control/store/lmdb_control_store.h"
#include "host_server/service/server_config.h"

namespace vmscan {
namespace {

class PolicyRetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) / "policy_retention_test";
    std::filesystem::remove_all(dir_);
    LmdbBackupOptions backup_options;
    backup_options.dir = (dir_ / "backup").string();
    absl::StatusOr<std::unique_ptr<LmdbBackupStore>> backup = LmdbBackupStore::Open(backup_options);
    ASSERT_TRUE(backup.ok()) << backup.status();
    backup_ = std::move(*backup);
    LmdbControlStoreOptions store_options;
    store_options.dir = (dir_ / "control").string();
    absl::StatusOr<std::unique_ptr<LmdbControlStore>> store = LmdbControlStore::Open(store_options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    ControlPlane::Options options;
    options.defaults = DefaultVmSettings(DefaultServerConfig());
    absl::StatusOr<std::unique_ptr<ControlPlane>> control =
        ControlPlane::Create(store_.get(), options);
    ASSERT_TRUE(control.ok()) << control.status();
    control_ = std::move(*control);
    ASSERT_TRUE(control_->CreateGroup("Short").ok());
    for (const char* id : {"short-vm", "normal-vm"}) {
      v1::RegisterRequest request;
      request.mutable_vm()->set_id(id);
      request.mutable_vm()->set_name(id);
      ASSERT_TRUE(control_->Register(request).ok());
    }
    ASSERT_TRUE(control_->MoveVm("short-vm", "Short").ok());
  }

  void Put(const std::string& vm_id, int n) {
    for (int i = 0; i < n; ++i) {
      v1::BackupRecord meta;
      meta.mutable_vm()->set_id(vm_id);
      meta.set_action(v1::DELETE);
      ASSERT_TRUE(backup_->Put(meta, std::string(2000, 'a' + i)).ok());
    }
  }

  size_t Count(const std::string& vm_id) {
    v1::BackupFilter filter;
    filter.set_vm_id(vm_id);
    absl::StatusOr<std::vector<v1::BackupRecord>> records = backup_->List(filter);
    EXPECT_TRUE(records.ok()) << records.status();
    return records.ok() ? records->size() : 0;
  }

  void SetPolicy(const std::string& key, const std::string& value) {
    v1::UpdatePolicyRequest request;
    request.set_group("Short");
    v1::SettingChange* change = request.add_changes();
    change->set_key(key);
    change->set_value(value);
    ASSERT_TRUE(control_->UpdatePolicy(request).ok());
  }

  std::filesystem::path dir_;
  std::unique_ptr<LmdbBackupStore> backup_;
  std::unique_ptr<LmdbControlStore> store_;
  std::unique_ptr<ControlPlane> control_;
};

TEST_F(PolicyRetentionTest, SizeLimitOfAPolicyKeepsOnlyItsVmsNewestRecords) {
  Put("short-vm", 3);
  Put("normal-vm", 3);
  SetPolicy("backup.max_total_bytes", "1");
  absl::StatusOr<uint64_t> removed = EnforcePolicyRetention(*backup_, *control_, absl::Now());
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(*removed, 2u);
  EXPECT_EQ(Count("short-vm"), 1u) << "the newest record stays";
  EXPECT_EQ(Count("normal-vm"), 3u) << "the server-wide default governs the other VM";
}

TEST_F(PolicyRetentionTest, AgeLimitOfAPolicyRemovesOlderRecordsOfItsVmsOnly) {
  Put("short-vm", 2);
  Put("normal-vm", 2);
  SetPolicy("backup.max_age_days", "2");
  ASSERT_TRUE(EnforcePolicyRetention(*backup_, *control_, absl::Now() + absl::Hours(24)).ok());
  EXPECT_EQ(Count("short-vm"), 2u) << "one day old: kept";
  ASSERT_TRUE(EnforcePolicyRetention(*backup_, *control_, absl::Now() + absl::Hours(49)).ok());
  EXPECT_EQ(Count("short-vm"), 0u);
  EXPECT_EQ(Count("normal-vm"), 2u) << "30 days by default";
}

}  // namespace
}  // namespace vmscan
