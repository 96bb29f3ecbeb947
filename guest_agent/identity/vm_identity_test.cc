#include "guest_agent/identity/vm_identity.h"

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace vmscan {
namespace {

class VmIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) / "vm_identity_test";
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    sources_.dmi_uuid_path = (dir_ / "product_uuid").string();
    config_.set_state_dir((dir_ / "state").string());
  }
  void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

  std::filesystem::path dir_;
  IdentitySources sources_;
  v1::AgentConfig config_;
};

TEST_F(VmIdentityTest, ConfigOverridesEverything) {
  Write(sources_.dmi_uuid_path, "4C4C4544-0000-1111-2222-333344445555\n");
  config_.mutable_vm()->set_id("vm-42");
  config_.mutable_vm()->set_name("desk-7");
  config_.mutable_vm()->set_host("esx-03");
  absl::StatusOr<v1::VmIdentity> vm = ResolveVmIdentity(config_, sources_);
  ASSERT_TRUE(vm.ok()) << vm.status();
  EXPECT_EQ(vm->id(), "vm-42");
  EXPECT_EQ(vm->name(), "desk-7");
  EXPECT_EQ(vm->hypervisor_host(), "esx-03");
}

TEST_F(VmIdentityTest, DmiUuidThenGeneratedIdNeverMachineId) {
  Write(sources_.dmi_uuid_path, "4C4C4544-0000-1111-2222-333344445555\n");
  EXPECT_EQ(ResolveVmIdentity(config_, sources_)->id(), "4c4c4544-0000-1111-2222-333344445555");
  EXPECT_FALSE(ResolveVmIdentity(config_, sources_)->name().empty());      // the hostname
  EXPECT_EQ(ResolveVmIdentity(config_, sources_)->hypervisor_host(), "");  // not detectable

  // Without access to DMI (not root), the id the running agent remembered is still known.
  RememberVmId(config_, *ResolveVmIdentity(config_, sources_));
  sources_.dmi_uuid_path = (dir_ / "unreadable").string();
  EXPECT_EQ(ResolveVmIdentity(config_, sources_)->id(), "4c4c4544-0000-1111-2222-333344445555");
  std::filesystem::remove(dir_ / "state" / "vm-id");
  sources_.dmi_uuid_path = (dir_ / "product_uuid").string();

  // A placeholder UUID identifies nothing: the generated id takes over, even where the machine
  // has an /etc/machine-id (clones share it).
  for (const char* placeholder :
       {"00000000-0000-0000-0000-000000000000\n", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF\n", ""}) {
    Write(sources_.dmi_uuid_path, placeholder);
    absl::StatusOr<v1::VmIdentity> vm = ResolveVmIdentity(config_, sources_);
    ASSERT_TRUE(vm.ok()) << vm.status();
    EXPECT_EQ(vm->id().size(), 36u) << placeholder;
    EXPECT_TRUE(std::filesystem::exists(dir_ / "state" / "vm-id"));
    std::ifstream persisted(dir_ / "state" / "vm-id");
    std::string id;
    persisted >> id;
    EXPECT_EQ(id, vm->id());
  }
}

TEST_F(VmIdentityTest, GeneratedIdIsPersisted) {
  absl::StatusOr<v1::VmIdentity> first = ResolveVmIdentity(config_, sources_);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->id().size(), 36u);
  absl::StatusOr<v1::VmIdentity> second = ResolveVmIdentity(config_, sources_);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first->id(), second->id());
}

}  // namespace
}  // namespace vmscan
