#include "common/tls/identity.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmscan {
namespace {

using ::testing::HasSubstr;

TEST(PeerNameTest, OneVmscanUriNamesTheRole) {
  absl::StatusOr<PeerName> vm = PeerNameFromUris({"urn:vmscan:vm:4c4c4544-0042"});
  ASSERT_TRUE(vm.ok());
  EXPECT_EQ(vm->role, PeerRole::kVm);
  EXPECT_EQ(vm->name, "4c4c4544-0042");
  absl::StatusOr<PeerName> admin =
      PeerNameFromUris({"https://example.com/x", "urn:vmscan:admin:alice"});
  ASSERT_TRUE(admin.ok());
  EXPECT_EQ(admin->role, PeerRole::kAdmin);
  EXPECT_EQ(DescribePeer(*admin), "administrator alice");
  absl::StatusOr<PeerName> svm = PeerNameFromUris({"URN:VMSCAN:SVM:svm-1"});
  ASSERT_TRUE(svm.ok());
  EXPECT_EQ(svm->role, PeerRole::kSvm);
  EXPECT_EQ(PeerUri(*svm), "urn:vmscan:svm:svm-1");
}

TEST(PeerNameTest, NoneSeveralOrOddNamesNameNobody) {
  EXPECT_THAT(PeerNameFromUris({}).status().message(), HasSubstr("no vmscan identity"));
  EXPECT_THAT(PeerNameFromUris({"spiffe://x/y"}).status().message(),
              HasSubstr("no vmscan identity"));
  EXPECT_THAT(PeerNameFromUris({"urn:vmscan:vm:a", "urn:vmscan:admin:b"}).status().message(),
              HasSubstr("2 vmscan identities"));
  EXPECT_TRUE(absl::IsPermissionDenied(PeerNameFromUris({"urn:vmscan:vm:"}).status()));
  EXPECT_TRUE(absl::IsPermissionDenied(PeerNameFromUris({"urn:vmscan:vm:a/b"}).status()));
  EXPECT_TRUE(absl::IsPermissionDenied(PeerNameFromUris({"urn:vmscan:vm:a b"}).status()));
}

}  // namespace
}  // namespace vmscan
