// What a PEM certificate says, read with OpenSSL: serial, subject common name, the
// subject-alternative names, validity. Used to learn an agent's VM id from its own certificate,
// to warn about expiry at start-up, and by `vmscanctl pki list`.
//
//   absl::StatusOr<CertificateInfo> info = ReadCertificateInfo("/etc/vmscan/agent.pem");
//   if (info.ok() && info->ExpiredAt(absl::Now())) ...
//
// Thread-safe: pure functions.
#ifndef VMSCAN_COMMON_TLS_CERTIFICATE_INFO_H_
#define VMSCAN_COMMON_TLS_CERTIFICATE_INFO_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace vmscan {

struct CertificateInfo {
  std::string serial_hex;  // upper-case hex, no leading zeros
  std::string common_name;
  std::string issuer_common_name;
  std::vector<std::string> uris;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;  // as text, "10.0.0.5", "::1"
  absl::Time not_before;
  absl::Time not_after;
  bool is_ca = false;

  bool ValidAt(absl::Time now) const { return now >= not_before && now <= not_after; }
};

// The first certificate of `pem`. InvalidArgument naming `source` when there is none.
absl::StatusOr<CertificateInfo> CertificateInfoFromPem(absl::string_view pem,
                                                       absl::string_view source);
absl::StatusOr<CertificateInfo> ReadCertificateInfo(const std::string& path);

// "" when `info` is valid at `now` for longer than `warn_before`; otherwise one sentence for the
// log: "certificate F (CN ...) expired at ...", "... is not valid before ...", "... expires in
// 3 days, at ...".
std::string ValidityProblem(const CertificateInfo& info, absl::string_view source, absl::Time now,
                            absl::Duration warn_before);

}  // namespace vmscan

#endif  // VMSCAN_COMMON_TLS_CERTIFICATE_INFO_H_
