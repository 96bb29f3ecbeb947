#include "common/tls/credentials.h"

#include <arpa/inet.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/tls/certificate_info.h"
#include "common/tls/openssl_util.h"
#include "common/tls/revocation.h"

namespace vmscan {
namespace {

constexpr absl::Duration kExpiryWarning = absl::Hours(24 * 14);
constexpr uint32_t kDefaultReloadSeconds = 10;

uint32_t ReloadSeconds(const v1::TlsConfig& tls) {
  return tls.reload_interval_s() > 0 ? tls.reload_interval_s() : kDefaultReloadSeconds;
}

std::string HostOf(absl::string_view address) {
  if (absl::StartsWith(address, "dns:///")) address.remove_prefix(7);
  if (absl::StartsWith(address, "ipv4:") || absl::StartsWith(address, "ipv6:")) {
    address.remove_prefix(5);
  }
  if (absl::StartsWith(address, "[")) {
    size_t end = address.find(']');
    return std::string(address.substr(1, end == absl::string_view::npos ? end : end - 1));
  }
  size_t colon = address.rfind(':');
  return std::string(colon == absl::string_view::npos ? address : address.substr(0, colon));
}

// Reads and checks the certificate, key and CA: clear start-up errors instead of handshakes that
// fail later. Logs validity problems of the certificate.
absl::Status CheckFiles(const v1::TlsConfig& tls, absl::string_view role) {
  VMSCAN_ASSIGN_OR_RETURN(std::string cert_pem, openssl::ReadFile(tls.cert_file()));
  VMSCAN_ASSIGN_OR_RETURN(std::string key_pem, openssl::ReadFile(tls.key_file()));
  VMSCAN_ASSIGN_OR_RETURN(std::string ca_pem, openssl::ReadFile(tls.ca_file()));
  VMSCAN_ASSIGN_OR_RETURN(openssl::UniqueX509 cert,
                          openssl::ParseCertificate(cert_pem, tls.cert_file()));
  VMSCAN_ASSIGN_OR_RETURN(openssl::UniqueKey key,
                          openssl::ParsePrivateKey(key_pem, tls.key_file()));
  VMSCAN_RETURN_IF_ERROR(openssl::ParseCertificate(ca_pem, tls.ca_file()).status());
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return openssl::Error(absl::StrCat("tls.key_file ", tls.key_file(),
                                       " is not the key of tls.cert_file ", tls.cert_file()),
                          absl::StatusCode::kInvalidArgument);
  }
  VMSCAN_ASSIGN_OR_RETURN(CertificateInfo info, CertificateInfoFromPem(cert_pem, tls.cert_file()));
  std::string problem = ValidityProblem(info, tls.cert_file(), absl::Now(), kExpiryWarning);
  if (!problem.empty()) {
    if (info.ValidAt(absl::Now())) {
      VMSCAN_LOG(WARNING) << role << " " << problem;
    } else {
      VMSCAN_LOG(ERROR) << "**** " << role << " " << problem << " ****";
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool IsLoopbackAddress(absl::string_view address) {
  if (absl::StartsWith(address, "unix:")) return true;
  const std::string host = absl::AsciiStrToLower(HostOf(address));
  if (host == "localhost") return true;
  in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6;
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

absl::Status CheckTlsConfig(const v1::TlsConfig& tls, absl::string_view address,
                            absl::string_view prefix) {
  if (UsesTls(tls)) {
    if (tls.key_file().empty() || tls.ca_file().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(prefix, ".cert_file is set: mutual TLS also needs ", prefix,
                       ".key_file and ", prefix, ".ca_file (vmscanctl pki init makes all three)"));
    }
    return absl::OkStatus();
  }
  if (!tls.crl_file().empty() || !tls.key_file().empty() || !tls.ca_file().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, ".key_file, ca_file or crl_file is set without ", prefix,
                     ".cert_file: set the certificate too for mutual TLS, or none of them"));
  }
  if (!tls.insecure_loopback()) {
    return absl::InvalidArgumentError(
        absl::StrCat("no TLS certificate for ", address, ": set ", prefix, ".cert_file, ", prefix,
                     ".key_file and ", prefix, ".ca_file (mutual TLS, see vmscanctl pki), or ",
                     prefix, ".insecure_loopback: true on a loopback address"));
  }
  if (!IsLoopbackAddress(address)) {
    return absl::InvalidArgumentError(
        absl::StrCat(address, " is not a loopback address: plaintext (", prefix,
                     ".insecure_loopback) is allowed on loopback only; set ", prefix,
                     ".cert_file, ", prefix, ".key_file and ", prefix, ".ca_file for mutual TLS"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const v1::TlsConfig& tls, absl::string_view listen,
    std::shared_ptr<RevocationList>* revocations) {
  VMSCAN_RETURN_IF_ERROR(CheckTlsConfig(tls, listen, "tls"));
  if (!UsesTls(tls)) {
    VMSCAN_LOG(WARNING) << "plaintext gRPC on " << listen
                        << " (tls.insecure_loopback): callers are not authenticated; every "
                           "caller on this machine is an administrator";
    return grpc::InsecureServerCredentials();
  }
  VMSCAN_RETURN_IF_ERROR(CheckFiles(tls, "server"));
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      tls.key_file(), tls.cert_file(), tls.ca_file(), ReloadSeconds(tls));
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  if (!tls.crl_file().empty()) {
    VMSCAN_ASSIGN_OR_RETURN(
        std::shared_ptr<RevocationList> list,
        RevocationList::Open(tls.crl_file(), tls.ca_file(), absl::Seconds(ReloadSeconds(tls))));
    VMSCAN_LOG(INFO) << "revocation list " << tls.crl_file() << ": " << list->size()
                     << " revoked certificates";
    options.set_certificate_verifier(
        grpc::experimental::ExternalCertificateVerifier::Create<RevocationVerifier>(list));
    if (revocations != nullptr) *revocations = list;
  }
  return grpc::experimental::TlsServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const v1::TlsConfig& tls, absl::string_view target, grpc::ChannelArguments* args) {
  VMSCAN_RETURN_IF_ERROR(CheckTlsConfig(tls, target, "tls"));
  if (!UsesTls(tls)) return grpc::InsecureChannelCredentials();
  VMSCAN_RETURN_IF_ERROR(CheckFiles(tls, "client"));
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      tls.key_file(), tls.cert_file(), tls.ca_file(), ReloadSeconds(tls));
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(provider);
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  if (!tls.server_name().empty()) args->SetSslTargetNameOverride(tls.server_name());
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::experimental::TlsCredentials(options);
  if (creds == nullptr) {
    return absl::InternalError(absl::StrCat("gRPC refused the TLS options for ", target));
  }
  return creds;
}

}  // namespace vmscan
