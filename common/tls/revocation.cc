#include "common/tls/revocation.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/tls/certificate_info.h"
#include "common/tls/openssl_util.h"

namespace vmscan {
namespace {

// Every certificate in a PEM bundle.
std::vector<openssl::UniqueX509> ReadBundle(absl::string_view pem) {
  std::vector<openssl::UniqueX509> certs;
  openssl::UniqueBio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certs.emplace_back(cert);
  }
  ERR_clear_error();  // the end of the bundle reads as an error
  return certs;
}

}  // namespace

absl::StatusOr<std::shared_ptr<RevocationList>> RevocationList::Open(
    std::string crl_file, std::string ca_file, absl::Duration check_interval) {
  std::shared_ptr<RevocationList> list(
      new RevocationList(std::move(crl_file), std::move(ca_file), check_interval));
  VMSCAN_ASSIGN_OR_RETURN(absl::flat_hash_set<std::string> revoked, list->Load());
  absl::MutexLock lock(&list->mu_);
  list->revoked_ = std::move(revoked);
  list->next_check_ = absl::Now() + check_interval;
  return list;
}

absl::StatusOr<absl::flat_hash_set<std::string>> RevocationList::Load() const {
  VMSCAN_ASSIGN_OR_RETURN(std::string crl_pem, openssl::ReadFile(crl_file_));
  VMSCAN_ASSIGN_OR_RETURN(std::string ca_pem, openssl::ReadFile(ca_file_));
  VMSCAN_ASSIGN_OR_RETURN(openssl::UniqueCrl crl, openssl::ParseCrl(crl_pem, crl_file_));
  bool signed_by_ca = false;
  for (const openssl::UniqueX509& ca : ReadBundle(ca_pem)) {
    if (X509_NAME_cmp(X509_get_subject_name(ca.get()), X509_CRL_get_issuer(crl.get())) == 0 &&
        X509_CRL_verify(crl.get(), X509_get0_pubkey(ca.get())) == 1) {
      signed_by_ca = true;
      break;
    }
  }
  ERR_clear_error();
  if (!signed_by_ca) {
    return absl::InvalidArgumentError(
        absl::StrCat("CRL ", crl_file_, " is not signed by a CA certificate of ", ca_file_,
                     " (a CRL of another PKI?); re-create it with vmscanctl pki revoke"));
  }
  absl::flat_hash_set<std::string> revoked;
  STACK_OF(X509_REVOKED)* entries = X509_CRL_get_REVOKED(crl.get());
  for (int i = 0; entries != nullptr && i < sk_X509_REVOKED_num(entries); ++i) {
    revoked.insert(
        openssl::SerialHex(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(entries, i))));
  }
  return revoked;
}

void RevocationList::MaybeReload() {
  const absl::Time now = absl::Now();
  if (now < next_check_) return;
  next_check_ = now + check_interval_;
  struct stat st = {};
  FileStamp stamp;
  if (stat(crl_file_.c_str(), &st) == 0) {
    stamp = {static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
             static_cast<int64_t>(st.st_size), static_cast<uint64_t>(st.st_ino)};
  }
  if (stamp == stamp_) return;
  absl::StatusOr<absl::flat_hash_set<std::string>> revoked = Load();
  if (!revoked.ok()) {
    VMSCAN_LOG(ERROR) << "keeping the previous revocation list (" << revoked_.size()
                      << " serials): " << revoked.status();
    return;  // retried at the next check, the stamp stays old
  }
  stamp_ = stamp;
  if (*revoked != revoked_) {
    VMSCAN_LOG(INFO) << "revocation list " << crl_file_ << " reloaded: " << revoked->size()
                     << " revoked certificates";
  }
  revoked_ = std::move(*revoked);
}

bool RevocationList::IsRevoked(const std::string& serial_hex) {
  absl::MutexLock lock(&mu_);
  MaybeReload();
  return revoked_.contains(serial_hex);
}

size_t RevocationList::size() {
  absl::MutexLock lock(&mu_);
  MaybeReload();
  return revoked_.size();
}

bool RevocationVerifier::Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request,
                                std::function<void(grpc::Status)> /*callback*/,
                                grpc::Status* sync_status) {
  const grpc::string_ref pem = request->peer_cert();
  absl::StatusOr<CertificateInfo> info =
      CertificateInfoFromPem(absl::string_view(pem.data(), pem.size()), "peer certificate");
  if (!info.ok()) {
    // With client certificates required, the TLS stack only gets here with one.
    VMSCAN_LOG(WARNING) << "TLS peer refused: " << info.status();
    *sync_status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "unreadable peer certificate");
    return true;
  }
  if (list_->IsRevoked(info->serial_hex)) {
    VMSCAN_LOG(WARNING) << "TLS peer refused: certificate serial " << info->serial_hex << " (CN '"
                        << info->common_name << "') is revoked";
    *sync_status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                absl::StrCat("certificate ", info->serial_hex, " is revoked"));
    return true;
  }
  *sync_status = grpc::Status::OK;
  return true;
}

}  // namespace vmscan
