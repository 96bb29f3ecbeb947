// The files of one deployment's PKI, as `vmscanctl pki` keeps them (docs/security.md):
//
//   DIR/ca.pem  DIR/ca.key        the CA (the key mode 0600; keep DIR itself on the admin host)
//   DIR/crl.pem                   revoked serials, signed by the CA; the SVMs' tls.crl_file
//   DIR/index.tsv                 one line per issued certificate: serial, kind, name, expiry,
//                                 revocation time ("-" while valid)
//   DIR/svm/NAME.pem, NAME.key    an SVM: serverAuth + clientAuth, URI urn:vmscan:svm:NAME and
//                                 its DNS names / IP addresses
//   DIR/admin/NAME.pem, .key      an administrator: clientAuth, URI urn:vmscan:admin:NAME
//   DIR/vm/ID.pem, ID.key         a VM's agent: clientAuth, URI urn:vmscan:vm:ID, CN = VM name
//
// Every file is written to a temporary name, synced and renamed, so a crash leaves the old file
// or the new one. Not safe for two processes changing one DIR at once (like `openssl ca`).
#ifndef VMSCAN_TOOLS_PKI_PKI_DIRECTORY_H_
#define VMSCAN_TOOLS_PKI_PKI_DIRECTORY_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/tls/identity.h"

namespace vmscan::pki {

// When a certificate is valid: from `not_before` (default: now minus 5 minutes, for clock skew)
// for `validity` (default 397 days), or until `not_after` when set. Tests set both ends to make
// expired or not-yet-valid certificates.
struct Validity {
  std::optional<absl::Time> not_before;
  std::optional<absl::Time> not_after;
  absl::Duration validity = absl::Hours(24 * 397);
};

struct InitOptions {
  std::string ca_name = "vmscan CA";
  std::string svm_name = "svm";               // the first SVM's certificate
  std::vector<std::string> svm_dns_names;     // default {"localhost"}
  std::vector<std::string> svm_ip_addresses;  // default {"127.0.0.1", "::1"}
  std::string admin_name = "admin";           // the first administrator's certificate
  absl::Duration ca_validity = absl::Hours(24 * 3650);
  Validity leaf;
};

struct IndexEntry {
  std::string serial_hex;
  PeerRole role = PeerRole::kVm;
  std::string name;  // VM id, admin or SVM name
  std::string common_name;
  absl::Time not_after;
  std::optional<absl::Time> revoked_at;
};

struct IssuedFiles {
  std::string serial_hex;
  std::string cert_file;
  std::string key_file;
};

// Creates DIR (mode 0700) with the CA, an empty CRL, the first SVM and admin certificates.
// AlreadyExists when DIR already holds a CA.
absl::Status InitPki(const std::string& dir, const InitOptions& options);

// Issues (or re-issues: the old certificate stays valid until revoked) a certificate of `role`
// named `name`. For a VM, `common_name` is the VM's name (default: the id); for an SVM,
// `dns_names` and `ip_addresses` are what agents connect to.
absl::StatusOr<IssuedFiles> Issue(const std::string& dir, PeerRole role, const std::string& name,
                                  const std::string& common_name,
                                  const std::vector<std::string>& dns_names,
                                  const std::vector<std::string>& ip_addresses,
                                  const Validity& validity);

// Revokes the certificate with serial `selector`, or every valid certificate of a role + name,
// and rewrites crl.pem. NotFound when nothing matches; the entries revoked otherwise.
absl::StatusOr<std::vector<IndexEntry>> RevokeSerial(const std::string& dir,
                                                     const std::string& serial_hex);
absl::StatusOr<std::vector<IndexEntry>> RevokeName(const std::string& dir, PeerRole role,
                                                   const std::string& name);

absl::StatusOr<std::vector<IndexEntry>> ListIssued(const std::string& dir);

// "vm", "admin", "svm".
std::string RoleWord(PeerRole role);

}  // namespace vmscan::pki

#endif  // VMSCAN_TOOLS_PKI_PKI_DIRECTORY_H_
