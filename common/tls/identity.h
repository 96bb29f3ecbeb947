// Who a certificate names, in vmscan's PKI (docs/design.md §7, docs/security.md): one URI
// subject-alternative name of the form
//
//   urn:vmscan:vm:<VM id>        a protected VM (its agent)
//   urn:vmscan:admin:<name>      an administrator (vmscanctl)
//   urn:vmscan:svm:<name>        an SVM (server certificate; also a client of other SVMs)
//
// `vmscanctl pki` issues exactly one such URI per certificate. A certificate with none, or with
// more than one, names nobody: the SVM refuses it.
//
// Thread-safe: pure functions.
#ifndef VMSCAN_COMMON_TLS_IDENTITY_H_
#define VMSCAN_COMMON_TLS_IDENTITY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vmscan {

enum class PeerRole { kVm, kAdmin, kSvm };

struct PeerName {
  PeerRole role = PeerRole::kVm;
  std::string name;  // the VM id, the administrator's or the SVM's name

  bool operator==(const PeerName& other) const { return role == other.role && name == other.name; }
};

inline constexpr absl::string_view kVmUriPrefix = "urn:vmscan:vm:";
inline constexpr absl::string_view kAdminUriPrefix = "urn:vmscan:admin:";
inline constexpr absl::string_view kSvmUriPrefix = "urn:vmscan:svm:";

// The URI that names `peer` ("urn:vmscan:vm:4c4c4544-...").
std::string PeerUri(const PeerName& peer);

// The one vmscan identity among a certificate's URI SANs. PermissionDenied when there is none
// (a certificate of some other PKI, or of ours without a role), when there are several, or when
// the name after the prefix is empty or holds characters outside [A-Za-z0-9._:@-].
absl::StatusOr<PeerName> PeerNameFromUris(const std::vector<std::string>& uris);

// "VM 4c4c...", "administrator alice", "SVM svm-1": for logs and error messages.
std::string DescribePeer(const PeerName& peer);

}  // namespace vmscan

#endif  // VMSCAN_COMMON_TLS_IDENTITY_H_
