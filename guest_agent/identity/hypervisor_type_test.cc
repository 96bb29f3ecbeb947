#include "guest_agent/identity/hypervisor_type.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace vmscan {
namespace {

TEST(HypervisorFromDmiTest, MapsVendorsAndProducts) {
  EXPECT_EQ(HypervisorFromDmi("QEMU", "Standard PC (Q35 + ICH9, 2009)"), "kvm");
  EXPECT_EQ(HypervisorFromDmi("Red Hat", "KVM"), "kvm");
  EXPECT_EQ(HypervisorFromDmi("VMware, Inc.", "VMware Virtual Platform"), "vmware");
  EXPECT_EQ(HypervisorFromDmi("Microsoft Corporation", "Virtual Machine"), "microsoft");
  EXPECT_EQ(HypervisorFromDmi("Microsoft Corporation\n", "Virtual Machine\n"), "microsoft");
  // Microsoft also builds laptops.
  EXPECT_EQ(HypervisorFromDmi("Microsoft Corporation", "Surface Laptop 5"), "");
  EXPECT_EQ(HypervisorFromDmi("Xen", "HVM domU"), "xen");
  EXPECT_EQ(HypervisorFromDmi("innotek GmbH", "VirtualBox"), "oracle");
  EXPECT_EQ(HypervisorFromDmi("Oracle Corporation", "VirtualBox"), "oracle");
  EXPECT_EQ(HypervisorFromDmi("Dell Inc.", "PowerEdge R740"), "");
  EXPECT_EQ(HypervisorFromDmi("", ""), "");
}

TEST(HypervisorFromCpuidVendorTest, MapsSignatures) {
  EXPECT_EQ(HypervisorFromCpuidVendor(std::string("KVMKVMKVM\0\0\0", 12)), "kvm");
  EXPECT_EQ(HypervisorFromCpuidVendor("VMwareVMware"), "vmware");
  EXPECT_EQ(HypervisorFromCpuidVendor("Microsoft Hv"), "microsoft");
  EXPECT_EQ(HypervisorFromCpuidVendor("XenVMMXenVMM"), "xen");
  EXPECT_EQ(HypervisorFromCpuidVendor("TCGTCGTCGTCG"), "qemu");
  EXPECT_EQ(HypervisorFromCpuidVendor("GenuineIntel"), "");
  EXPECT_EQ(HypervisorFromCpuidVendor(""), "");
}

class DetectHypervisorTypeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) / "hypervisor_type_test";
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    sources_.dmi_uuid_path = (dir_ / "product_uuid").string();
    sources_.dmi_sys_vendor_path = (dir_ / "sys_vendor").string();
    sources_.dmi_product_name_path = (dir_ / "product_name").string();
    sources_.detect_virt_command = (dir_ / "missing-detect-virt").string();
    sources_.use_cpuid = false;
  }
  void Write(const std::filesystem::path& path, const std::string& text) {
    std::ofstream(path) << text;
  }
  // A stand-in for systemd-detect-virt: `body` runs under /bin/sh.
  std::string Script(const std::string& name, const std::string& body) {
    std::filesystem::path path = dir_ / name;
    Write(path, "#!/bin/sh\n" + body + "\n");
    chmod(path.c_str(), 0755);
    return path.string();
  }

  std::filesystem::path dir_;
  IdentitySources sources_;
  v1::AgentConfig config_;
};

TEST_F(DetectHypervisorTypeTest, ConfigOverrideWins) {
  sources_.detect_virt_command = Script("detect", "echo kvm");
  config_.mutable_vm()->set_hypervisor_type("vmware");
  EXPECT_EQ(DetectHypervisorType(config_, sources_), "vmware");
}

TEST_F(DetectHypervisorTypeTest, DetectVirtWhenItExitsZero) {
  Write(sources_.dmi_sys_vendor_path, "QEMU\n");
  sources_.detect_virt_command = Script("detect", "[ \"$1\" = --vm ] && echo microsoft");
  EXPECT_EQ(DetectHypervisorType(config_, sources_), "microsoft");
  // "none" comes with exit status 1: the next source is asked.
  sources_.detect_virt_command = Script("detect-none", "echo none; exit 1");
  EXPECT_EQ(DetectHypervisorType(config_, sources_), "kvm");
}

TEST_F(DetectHypervisorTypeTest, MissingOrHungDetectVirtFallsBackToDmi) {
  Write(sources_.dmi_sys_vendor_path, "VMware, Inc.\n");
  Write(sources_.dmi_product_name_path, "VMware Virtual Platform\n");
  EXPECT_EQ(DetectHypervisorType(config_, sources_), "vmware");  // command missing
  sources_.detect_virt_command = Script("detect-hung", "exec sleep 30");
  sources_.detect_virt_timeout_ms = 200;
  const absl::Time start = absl::Now();
  EXPECT_EQ(DetectHypervisorType(config_, sources_), "vmware");
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST_F(DetectHypervisorTypeTest, NothingKnownIsNone) {
  Write(sources_.dmi_sys_vendor_path, "Dell Inc.\n");
  EXPECT_EQ(DetectHypervisorType(config_, sources_), "none");
}

TEST_F(DetectHypervisorTypeTest, CpuidAgreesWithTheMachine) {
  // On this machine: whatever the CPU says must map consistently (bare metal: none).
  sources_.use_cpuid = true;
  const std::string vendor = CpuidHypervisorVendor();
  const std::string expected = vendor.empty() ? "none"
                                              : (HypervisorFromCpuidVendor(vendor).empty()
                                                     ? "other"
                                                     : HypervisorFromCpuidVendor(vendor));
  EXPECT_EQ(DetectHypervisorType(config_, sources_), expected);
}

}  // namespace
}  // namespace vmscan
