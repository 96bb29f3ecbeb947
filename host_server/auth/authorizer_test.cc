// The authorization table covers exactly the RPCs vmscan serves, and docs/security.md shows the
// same table. Who is refused at run time, with real certificates, is checked end to end in
// tests/integration/trust_boundary_test.cc.
#include "host_server/auth/authorizer.h"

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "vmscan/v1/admin.grpc.pb.h"
#include "vmscan/v1/control.grpc.pb.h"
#include "vmscan/v1/directory.grpc.pb.h"
#include "vmscan/v1/scan.grpc.pb.h"

namespace vmscan {
namespace {

// Every RPC of every service in protos/vmscan/v1, from the descriptors of the generated code.
std::set<std::string> ServedMethods() {
  std::set<std::string> methods;
  for (const google::protobuf::FileDescriptor* file :
       {v1::ScanRequest::descriptor()->file(), v1::ListBackupsRequest::descriptor()->file(),
        v1::CreateGroupRequest::descriptor()->file(), v1::ListSvmsRequest::descriptor()->file()}) {
    for (int s = 0; s < file->service_count(); ++s) {
      const google::protobuf::ServiceDescriptor* service = file->service(s);
      for (int m = 0; m < service->method_count(); ++m) {
        methods.insert(absl::StrCat("/", service->full_name(), "/", service->method(m)->name()));
      }
    }
  }
  return methods;
}

TEST(AuthorizationTableTest, EveryServedRpcHasExactlyOneRowAndEveryRowIsServed) {
  std::set<std::string> served = ServedMethods();
  ASSERT_GE(served.size(), 30u);
  std::set<std::string> rows;
  for (const RpcRule& rule : RpcRules()) {
    EXPECT_TRUE(rows.insert(std::string(rule.method)).second) << "twice: " << rule.method;
    EXPECT_NE(rule.callers, 0u) << rule.method;
    EXPECT_EQ((rule.callers & kVmCallers) != 0, !rule.vm_scope.empty())
        << rule.method << ": a row open to VMs says what they reach, and only then";
  }
  EXPECT_EQ(rows, served);
}

TEST(AuthorizationTableTest, NoAdministrativeRpcIsOpenToVms) {
  for (const RpcRule& rule : RpcRules()) {
    if (absl::StartsWith(rule.method, "/vmscan.v1.InventoryAdmin/") ||
        absl::StartsWith(rule.method, "/vmscan.v1.PolicyAdmin/")) {
      EXPECT_EQ(rule.callers & kVmCallers, 0u) << rule.method;
    }
  }
}

// docs/security.md holds the table as "| `/vmscan.v1.X/Y` | VM, admin | VM reach |" rows, the
// second column a comma-separated list of VM, admin, SVM.
TEST(AuthorizationTableTest, TheDocumentedTableIsTheEnforcedOne) {
  std::ifstream in(VMSCAN_SOURCE_DIR "/docs/security.md");
  ASSERT_TRUE(in) << "docs/security.md is missing";
  std::stringstream text;
  text << in.rdbuf();
  std::map<std::string, std::string> documented;  // method -> "who" column
  for (absl::string_view line : absl::StrSplit(text.str(), '\n')) {
    std::vector<std::string> cells = absl::StrSplit(line, '|');
    if (cells.size() < 4) continue;
    absl::string_view method = absl::StripAsciiWhitespace(cells[1]);
    if (!absl::ConsumePrefix(&method, "`/vmscan.v1.") || !absl::ConsumeSuffix(&method, "`")) {
      continue;
    }
    documented[absl::StrCat("/vmscan.v1.", method)] =
        std::string(absl::StripAsciiWhitespace(cells[2]));
  }
  for (const RpcRule& rule : RpcRules()) {
    auto it = documented.find(std::string(rule.method));
    ASSERT_NE(it, documented.end()) << rule.method << " is not in docs/security.md";
    std::set<std::string> who;
    for (absl::string_view w : absl::StrSplit(it->second, ',')) {
      who.insert(std::string(absl::StripAsciiWhitespace(w)));
    }
    std::set<std::string> enforced;
    if (rule.callers & kVmCallers) enforced.insert("VM");
    if (rule.callers & kAdminCallers) enforced.insert("admin");
    if (rule.callers & kSvmCallers) enforced.insert("SVM");
    EXPECT_EQ(who, enforced) << rule.method;
  }
  EXPECT_EQ(documented.size(), RpcRules().size()) << "docs/security.md lists RPCs not served";
}

}  // namespace
}  // namespace vmscan
