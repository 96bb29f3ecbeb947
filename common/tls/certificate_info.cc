#include "common/tls/certificate_info.h"

#include <arpa/inet.h>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/tls/openssl_util.h"

namespace vmscan {
namespace {

std::string CommonName(X509_NAME* name) {
  if (name == nullptr) return "";
  int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (index < 0) return "";
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, data);
  std::string out = n > 0 ? std::string(reinterpret_cast<char*>(utf8), n) : "";
  OPENSSL_free(utf8);
  return out;
}

std::string Asn1Text(const ASN1_STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

std::string IpText(const ASN1_OCTET_STRING* ip) {
  char buf[INET6_ADDRSTRLEN] = {};
  const unsigned char* bytes = ASN1_STRING_get0_data(ip);
  if (ASN1_STRING_length(ip) == 4) inet_ntop(AF_INET, bytes, buf, sizeof(buf));
  if (ASN1_STRING_length(ip) == 16) inet_ntop(AF_INET6, bytes, buf, sizeof(buf));
  return buf;
}

}  // namespace

absl::StatusOr<CertificateInfo> CertificateInfoFromPem(absl::string_view pem,
                                                       absl::string_view source) {
  VMSCAN_ASSIGN_OR_RETURN(openssl::UniqueX509 cert, openssl::ParseCertificate(pem, source));
  CertificateInfo info;
  info.serial_hex = openssl::SerialHex(X509_get0_serialNumber(cert.get()));
  info.common_name = CommonName(X509_get_subject_name(cert.get()));
  info.issuer_common_name = CommonName(X509_get_issuer_name(cert.get()));
  info.not_before = openssl::ToTime(X509_get0_notBefore(cert.get()));
  info.not_after = openssl::ToTime(X509_get0_notAfter(cert.get()));
  info.is_ca = X509_check_ca(cert.get()) != 0;
  openssl::UniqueGeneralNames names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    switch (name->type) {
      case GEN_URI:
        info.uris.push_back(Asn1Text(name->d.uniformResourceIdentifier));
        break;
      case GEN_DNS:
        info.dns_names.push_back(Asn1Text(name->d.dNSName));
        break;
      case GEN_IPADD:
        info.ip_addresses.push_back(IpText(name->d.iPAddress));
        break;
      default:
        break;
    }
  }
  return info;
}

absl::StatusOr<CertificateInfo> ReadCertificateInfo(const std::string& path) {
  VMSCAN_ASSIGN_OR_RETURN(std::string pem, openssl::ReadFile(path));
  return CertificateInfoFromPem(pem, path);
}

std::string ValidityProblem(const CertificateInfo& info, absl::string_view source, absl::Time now,
                            absl::Duration warn_before) {
  const std::string what = absl::StrCat("certificate ", source, " (CN '", info.common_name,
                                        "', serial ", info.serial_hex, ")");
  if (now < info.not_before) {
    return absl::StrCat(what, " is not valid before ", absl::FormatTime(info.not_before),
                        ": peers will refuse it");
  }
  if (now > info.not_after) {
    return absl::StrCat(what, " expired at ", absl::FormatTime(info.not_after),
                        ": peers will refuse it");
  }
  if (info.not_after - now < warn_before) {
    return absl::StrCat(what, " expires in ",
                        absl::FormatDuration(absl::Trunc(info.not_after - now, absl::Hours(1))),
                        ", at ", absl::FormatTime(info.not_after));
  }
  return "";
}

}  // namespace vmscan
