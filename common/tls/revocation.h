// RevocationList: the serials a CRL file revokes, re-read when the file changes, so that a
// certificate revoked with `vmscanctl pki revoke` is refused at its next handshake without a
// restart (docs/security.md). The CRL must be signed by one of the CA certificates given;
// a CRL that is not (or that cannot be parsed) is an error at Open() and, on a later change,
// keeps the previous list in force (logged): a broken file never un-revokes anybody.
//
//   VMSCAN_ASSIGN_OR_RETURN(auto crl, RevocationList::Open(crl_file, ca_file, absl::Seconds(10)));
//   if (crl->IsRevoked(serial_hex)) ...  // re-reads the file at most every 10 s if it changed
//
// RevocationVerifier plugs it into gRPC's TLS stack on the server: a client certificate whose
// serial is listed fails the handshake.
//
// Thread-safe.
#ifndef VMSCAN_COMMON_TLS_REVOCATION_H_
#define VMSCAN_COMMON_TLS_REVOCATION_H_

#include <grpcpp/security/tls_certificate_verifier.h>

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace vmscan {

class RevocationList {
 public:
  static absl::StatusOr<std::shared_ptr<RevocationList>> Open(std::string crl_file,
                                                              std::string ca_file,
                                                              absl::Duration check_interval);

  // Whether the certificate with this serial (upper-case hex, as CertificateInfo spells it) is
  // revoked. Re-reads the CRL first when check_interval has passed and the file changed.
  bool IsRevoked(const std::string& serial_hex);
  // How many serials are revoked now (after a re-read if one is due).
  size_t size();

 private:
  struct FileStamp {
    int64_t mtime_ns = 0;
    int64_t size = -1;
    uint64_t inode = 0;
    bool operator==(const FileStamp&) const = default;
  };
  RevocationList(std::string crl_file, std::string ca_file, absl::Duration check_interval)
      : crl_file_(std::move(crl_file)),
        ca_file_(std::move(ca_file)),
        check_interval_(check_interval) {}
  // Parses and verifies the CRL; the revoked serials.
  absl::StatusOr<absl::flat_hash_set<std::string>> Load() const;
  void MaybeReload() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string crl_file_;
  const std::string ca_file_;
  const absl::Duration check_interval_;
  absl::Mutex mu_;
  absl::flat_hash_set<std::string> revoked_ ABSL_GUARDED_BY(mu_);
  FileStamp stamp_ ABSL_GUARDED_BY(mu_);
  absl::Time next_check_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

// Server-side post-handshake check: refuses a peer certificate that `list` revokes (logged with
// the certificate's subject and serial). Synchronous and cheap: a set lookup and, at most every
// check interval, a stat(2).
class RevocationVerifier final : public grpc::experimental::ExternalCertificateVerifier {
 public:
  explicit RevocationVerifier(std::shared_ptr<RevocationList> list) : list_(std::move(list)) {}

  bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)> callback, grpc::Status* sync_status) override;
  void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest*) override {}

 private:
  const std::shared_ptr<RevocationList> list_;
};

}  // namespace vmscan

#endif  // VMSCAN_COMMON_TLS_REVOCATION_H_
