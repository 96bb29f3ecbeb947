#include "tools/pki/pki_directory.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/time/clock.h"
#include "common/tls/certificate_info.h"
#include "common/tls/openssl_util.h"
#include "common/tls/revocation.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmscan::pki {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

class PkiDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vmscan-pki-test-XXXXXX";
    root_ = mkdtemp(tmpl);
    dir_ = root_ + "/pki";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  static mode_t Mode(const std::string& path) {
    struct stat st = {};
    EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 0777;
  }

  std::string root_;
  std::string dir_;
};

TEST_F(PkiDirectoryTest, InitMakesCaSvmAdminAndAnEmptyCrl) {
  ASSERT_TRUE(InitPki(dir_, InitOptions()).ok());
  EXPECT_EQ(Mode(dir_), 0700u);
  EXPECT_EQ(Mode(dir_ + "/ca.key"), 0600u);
  EXPECT_EQ(Mode(dir_ + "/svm/svm.key"), 0600u);
  EXPECT_EQ(Mode(dir_ + "/admin/admin.key"), 0600u);

  absl::StatusOr<CertificateInfo> ca = ReadCertificateInfo(dir_ + "/ca.pem");
  ASSERT_TRUE(ca.ok()) << ca.status();
  EXPECT_TRUE(ca->is_ca);
  EXPECT_EQ(ca->common_name, "vmscan CA");

  absl::StatusOr<CertificateInfo> svm = ReadCertificateInfo(dir_ + "/svm/svm.pem");
  ASSERT_TRUE(svm.ok()) << svm.status();
  EXPECT_FALSE(svm->is_ca);
  EXPECT_EQ(svm->issuer_common_name, "vmscan CA");
  EXPECT_THAT(svm->uris, ElementsAre("urn:vmscan:svm:svm"));
  EXPECT_THAT(svm->dns_names, ElementsAre("localhost"));
  EXPECT_THAT(svm->ip_addresses, ElementsAre("127.0.0.1", "::1"));
  EXPECT_TRUE(svm->ValidAt(absl::Now()));
  EXPECT_GT(svm->not_after, absl::Now() + absl::Hours(24 * 390));

  absl::StatusOr<CertificateInfo> admin = ReadCertificateInfo(dir_ + "/admin/admin.pem");
  ASSERT_TRUE(admin.ok());
  EXPECT_THAT(admin->uris, ElementsAre("urn:vmscan:admin:admin"));

  absl::StatusOr<std::shared_ptr<RevocationList>> crl =
      RevocationList::Open(dir_ + "/crl.pem", dir_ + "/ca.pem", absl::ZeroDuration());
  ASSERT_TRUE(crl.ok()) << crl.status();
  EXPECT_EQ((*crl)->size(), 0u);

  absl::StatusOr<std::vector<IndexEntry>> issued = ListIssued(dir_);
  ASSERT_TRUE(issued.ok());
  ASSERT_EQ(issued->size(), 2u);
  EXPECT_EQ((*issued)[0].serial_hex, svm->serial_hex);
  EXPECT_EQ((*issued)[1].serial_hex, admin->serial_hex);
}

TEST_F(PkiDirectoryTest, InitRefusesADirectoryThatHoldsACa) {
  ASSERT_TRUE(InitPki(dir_, InitOptions()).ok());
  std::string before = *openssl::ReadFile(dir_ + "/ca.pem");
  absl::Status again = InitPki(dir_, InitOptions());
  EXPECT_TRUE(absl::IsAlreadyExists(again)) << again;
  EXPECT_EQ(*openssl::ReadFile(dir_ + "/ca.pem"), before);
}

TEST_F(PkiDirectoryTest, VmCertificateNamesTheVmAndRevocationReachesTheCrl) {
  ASSERT_TRUE(InitPki(dir_, InitOptions()).ok());
  absl::StatusOr<IssuedFiles> vm =
      Issue(dir_, PeerRole::kVm, "4c4c4544-0042", "desk-7", {}, {}, Validity());
  ASSERT_TRUE(vm.ok()) << vm.status();
  EXPECT_EQ(vm->cert_file, dir_ + "/vm/4c4c4544-0042.pem");
  absl::StatusOr<CertificateInfo> info = ReadCertificateInfo(vm->cert_file);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->common_name, "desk-7");
  EXPECT_THAT(info->uris, ElementsAre("urn:vmscan:vm:4c4c4544-0042"));
  EXPECT_TRUE(info->dns_names.empty());

  absl::StatusOr<std::shared_ptr<RevocationList>> crl =
      RevocationList::Open(dir_ + "/crl.pem", dir_ + "/ca.pem", absl::ZeroDuration());
  ASSERT_TRUE(crl.ok());
  EXPECT_FALSE((*crl)->IsRevoked(info->serial_hex));

  absl::StatusOr<std::vector<IndexEntry>> revoked =
      RevokeName(dir_, PeerRole::kVm, "4c4c4544-0042");
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  ASSERT_EQ(revoked->size(), 1u);
  EXPECT_EQ((*revoked)[0].serial_hex, info->serial_hex);
  // The same list object sees the new file (check interval 0): no restart needed.
  EXPECT_TRUE((*crl)->IsRevoked(info->serial_hex));
  EXPECT_EQ((*crl)->size(), 1u);

  // Revoking again finds nothing valid.
  EXPECT_TRUE(absl::IsNotFound(RevokeName(dir_, PeerRole::kVm, "4c4c4544-0042").status()));
  EXPECT_TRUE(absl::IsNotFound(RevokeSerial(dir_, info->serial_hex).status()));
}

TEST_F(PkiDirectoryTest, RevokeBySerialAcceptsLowerCaseAndLeadingZeros) {
  ASSERT_TRUE(InitPki(dir_, InitOptions()).ok());
  absl::StatusOr<IssuedFiles> admin = Issue(dir_, PeerRole::kAdmin, "bob", "", {}, {}, Validity());
  ASSERT_TRUE(admin.ok());
  std::string serial = admin->serial_hex;
  for (char& c : serial) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  absl::StatusOr<std::vector<IndexEntry>> revoked = RevokeSerial(dir_, "00" + serial);
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  EXPECT_EQ((*revoked)[0].name, "bob");
}

TEST_F(PkiDirectoryTest, ValidityCanMakeExpiredAndNotYetValidCertificates) {
  ASSERT_TRUE(InitPki(dir_, InitOptions()).ok());
  const absl::Time now = absl::Now();
  Validity expired;
  expired.not_before = now - absl::Hours(48);
  expired.not_after = now - absl::Hours(24);
  absl::StatusOr<IssuedFiles> old = Issue(dir_, PeerRole::kVm, "old", "", {}, {}, expired);
  ASSERT_TRUE(old.ok());
  absl::StatusOr<CertificateInfo> info = ReadCertificateInfo(old->cert_file);
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->ValidAt(now));
  EXPECT_THAT(ValidityProblem(*info, "old.pem", now, absl::Hours(1)), HasSubstr("expired at"));

  Validity future;
  future.not_before = now + absl::Hours(24);
  absl::StatusOr<IssuedFiles> early = Issue(dir_, PeerRole::kVm, "early", "", {}, {}, future);
  ASSERT_TRUE(early.ok());
  info = ReadCertificateInfo(early->cert_file);
  ASSERT_TRUE(info.ok());
  EXPECT_THAT(ValidityProblem(*info, "early.pem", now, absl::Hours(1)),
              HasSubstr("is not valid before"));
}

TEST_F(PkiDirectoryTest, BadNamesAreRefusedBeforeAnythingIsWritten) {
  ASSERT_TRUE(InitPki(dir_, InitOptions()).ok());
  EXPECT_FALSE(Issue(dir_, PeerRole::kVm, "a/b", "", {}, {}, Validity()).ok());
  EXPECT_FALSE(Issue(dir_, PeerRole::kVm, "", "", {}, {}, Validity()).ok());
  EXPECT_FALSE(
      Issue(dir_, PeerRole::kVm, "x,URI:urn:vmscan:admin:root", "", {}, {}, Validity()).ok());
  EXPECT_FALSE(Issue(dir_, PeerRole::kSvm, "svm-2", "", {"bad name"}, {}, Validity()).ok());
  EXPECT_FALSE(Issue(dir_, PeerRole::kSvm, "svm-2", "", {}, {"300.1.1.1"}, Validity()).ok());
  EXPECT_FALSE(Issue(dir_, PeerRole::kSvm, "svm-2", "", {}, {}, Validity()).ok());
  absl::StatusOr<std::vector<IndexEntry>> issued = ListIssued(dir_);
  ASSERT_TRUE(issued.ok());
  EXPECT_EQ(issued->size(), 2u);  // only init's two
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/vm"));
}

TEST_F(PkiDirectoryTest, ACrlOfAnotherCaIsRefused) {
  ASSERT_TRUE(InitPki(dir_, InitOptions()).ok());
  ASSERT_TRUE(InitPki(root_ + "/other", InitOptions()).ok());
  absl::StatusOr<std::shared_ptr<RevocationList>> crl =
      RevocationList::Open(root_ + "/other/crl.pem", dir_ + "/ca.pem", absl::ZeroDuration());
  ASSERT_FALSE(crl.ok());
  EXPECT_THAT(crl.status().message(), HasSubstr("not signed by a CA certificate"));
}

TEST_F(PkiDirectoryTest, ABrokenCrlLaterKeepsTheRevocationsInForce) {
  ASSERT_TRUE(InitPki(dir_, InitOptions()).ok());
  absl::StatusOr<IssuedFiles> vm = Issue(dir_, PeerRole::kVm, "vm-1", "", {}, {}, Validity());
  ASSERT_TRUE(vm.ok());
  ASSERT_TRUE(RevokeName(dir_, PeerRole::kVm, "vm-1").ok());
  absl::StatusOr<std::shared_ptr<RevocationList>> crl =
      RevocationList::Open(dir_ + "/crl.pem", dir_ + "/ca.pem", absl::ZeroDuration());
  ASSERT_TRUE(crl.ok());
  ASSERT_TRUE((*crl)->IsRevoked(vm->serial_hex));
  std::ofstream(dir_ + "/crl.pem", std::ios::trunc) << "-----BEGIN X509 CRL-----\ngarbage\n";
  EXPECT_TRUE((*crl)->IsRevoked(vm->serial_hex));
}

TEST_F(PkiDirectoryTest, ListWithoutAPkiSaysHowToMakeOne) {
  absl::StatusOr<std::vector<IndexEntry>> issued = ListIssued(dir_);
  ASSERT_TRUE(absl::IsNotFound(issued.status()));
  EXPECT_THAT(issued.status().message(), HasSubstr("vmscanctl pki init"));
}

}  // namespace
}  // namespace vmscan::pki
