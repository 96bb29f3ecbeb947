// CertificateAuthority: the deployment's own CA for mutual TLS between vmscan's parts
// (docs/security.md), with OpenSSL's library underneath: ECDSA P-256 keys, SHA-256 signatures,
// X.509 v3 certificates that carry the vmscan identity as a URI SAN (common/tls/identity.h),
// and CRLs.
//
//   VMSCAN_ASSIGN_OR_RETURN(CertificateAuthority ca, CertificateAuthority::Create("vmscan CA",
//   ...)); LeafRequest vm{.common_name = "desk-7", .uris = {"urn:vmscan:vm:4c4c..."},
//                  .client_auth = true, ...};
//   VMSCAN_ASSIGN_OR_RETURN(IssuedCertificate cert, ca.Issue(vm));
//
// Thread-compatible: an object is used by one thread at a time.
#ifndef VMSCAN_TOOLS_PKI_CERTIFICATE_AUTHORITY_H_
#define VMSCAN_TOOLS_PKI_CERTIFICATE_AUTHORITY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/tls/openssl_util.h"

namespace vmscan::pki {

struct LeafRequest {
  std::string common_name;
  std::vector<std::string> uris;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  bool server_auth = false;  // extendedKeyUsage serverAuth (an SVM's listener)
  bool client_auth = false;  // extendedKeyUsage clientAuth (agents, admins, SVM peers)
  absl::Time not_before;
  absl::Time not_after;
};

struct IssuedCertificate {
  std::string serial_hex;
  std::string cert_pem;
  std::string key_pem;  // PKCS#8, unencrypted: the files are written mode 0600
};

struct RevokedSerial {
  std::string serial_hex;
  absl::Time revoked_at;
};

class CertificateAuthority {
 public:
  // A new self-signed CA (basicConstraints CA:TRUE, pathlen 0; keyCertSign, cRLSign).
  static absl::StatusOr<CertificateAuthority> Create(absl::string_view common_name,
                                                     absl::Time not_before, absl::Time not_after);
  // An existing CA from its PEM certificate and key; InvalidArgument when they do not match or
  // the certificate is not a CA.
  static absl::StatusOr<CertificateAuthority> Load(absl::string_view cert_pem,
                                                   absl::string_view key_pem);

  absl::StatusOr<IssuedCertificate> Issue(const LeafRequest& request) const;
  // A CRL (v2) of the CA listing `revoked`, valid from `this_update` to `next_update`.
  absl::StatusOr<std::string> MakeCrl(const std::vector<RevokedSerial>& revoked,
                                      absl::Time this_update, absl::Time next_update) const;

  std::string cert_pem() const { return openssl::ToPem(cert_.get()); }
  std::string key_pem() const { return openssl::ToPem(key_.get()); }

 private:
  CertificateAuthority(openssl::UniqueX509 cert, openssl::UniqueKey key)
      : cert_(std::move(cert)), key_(std::move(key)) {}

  openssl::UniqueX509 cert_;
  openssl::UniqueKey key_;
};

}  // namespace vmscan::pki

#endif  // VMSCAN_TOOLS_PKI_CERTIFICATE_AUTHORITY_H_
