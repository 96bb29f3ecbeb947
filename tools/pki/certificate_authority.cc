#include "tools/pki/certificate_authority.h"

#include <arpa/inet.h>
#include <openssl/ec.h>
#include <openssl/rand.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"

namespace vmscan::pki {
namespace {

constexpr int kSerialBytes = 16;

absl::StatusOr<openssl::UniqueKey> NewKey() {
  openssl::UniqueKey key(EVP_EC_gen("P-256"));
  if (key == nullptr) return openssl::Error("cannot generate an ECDSA P-256 key");
  return key;
}

// A random positive 127-bit serial (RFC 5280: at most 20 octets, positive).
absl::StatusOr<openssl::UniqueAsn1Integer> RandomSerial() {
  unsigned char bytes[kSerialBytes];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return openssl::Error("no random bytes for a serial");
  bytes[0] &= 0x7F;
  bytes[0] |= 0x01;  // never shorter than 16 octets, so serials sort and print alike
  openssl::UniqueBignum bn(BN_bin2bn(bytes, sizeof(bytes), nullptr));
  openssl::UniqueAsn1Integer serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (serial == nullptr) return openssl::Error("cannot encode a serial");
  return serial;
}

absl::StatusOr<openssl::UniqueAsn1Integer> SerialFromHex(const std::string& hex) {
  BIGNUM* raw = nullptr;
  if (BN_hex2bn(&raw, hex.c_str()) == 0) {
    return absl::InvalidArgumentError(absl::StrCat("'", hex, "' is not a hex serial"));
  }
  openssl::UniqueBignum bn(raw);
  openssl::UniqueAsn1Integer serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (serial == nullptr) return openssl::Error("cannot encode a serial");
  return serial;
}

absl::Status AddName(X509_NAME* name, absl::string_view common_name) {
  const std::string cn(common_name);
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>("vmscan"), -1, -1,
                                 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1) {
    return openssl::Error(absl::StrCat("cannot set the subject name '", cn, "'"),
                          absl::StatusCode::kInvalidArgument);
  }
  return absl::OkStatus();
}

absl::Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  openssl::UniqueExtension ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (ext == nullptr || X509_add_ext(cert, ext.get(), -1) != 1) {
    return openssl::Error(absl::StrCat("cannot add extension ", OBJ_nid2sn(nid), " = ", value),
                          absl::StatusCode::kInvalidArgument);
  }
  return absl::OkStatus();
}

absl::Status SetValidity(X509* cert, absl::Time not_before, absl::Time not_after) {
  if (not_after <= not_before) {
    return absl::InvalidArgumentError("the certificate's validity ends before it begins");
  }
  if (ASN1_TIME_set(X509_getm_notBefore(cert), absl::ToTimeT(not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert), absl::ToTimeT(not_after)) == nullptr) {
    return openssl::Error("cannot set the validity");
  }
  return absl::OkStatus();
}

// Names that go into the subjectAltName extension's text form must not be able to inject
// another entry (",") or another kind ("IP:"): only the characters of host names and URNs.
absl::Status CheckSanText(absl::string_view kind, absl::string_view value) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat("empty ", kind, " name"));
  for (char c : value) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == '_' || c == ':' || c == '@' || c == '*';
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat(kind, " name '", value, "' holds a character outside [A-Za-z0-9.-_:@*]"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> SanValue(const LeafRequest& request) {
  std::vector<std::string> entries;
  for (const std::string& uri : request.uris) {
    VMSCAN_RETURN_IF_ERROR(CheckSanText("URI", uri));
    entries.push_back(absl::StrCat("URI:", uri));
  }
  for (const std::string& dns : request.dns_names) {
    VMSCAN_RETURN_IF_ERROR(CheckSanText("DNS", dns));
    entries.push_back(absl::StrCat("DNS:", dns));
  }
  for (const std::string& ip : request.ip_addresses) {
    unsigned char buf[16];
    if (inet_pton(AF_INET, ip.c_str(), buf) != 1 && inet_pton(AF_INET6, ip.c_str(), buf) != 1) {
      return absl::InvalidArgumentError(absl::StrCat("'", ip, "' is not an IP address"));
    }
    entries.push_back(absl::StrCat("IP:", ip));
  }
  return absl::StrJoin(entries, ",");
}

}  // namespace

absl::StatusOr<CertificateAuthority> CertificateAuthority::Create(absl::string_view common_name,
                                                                  absl::Time not_before,
                                                                  absl::Time not_after) {
  VMSCAN_ASSIGN_OR_RETURN(openssl::UniqueKey key, NewKey());
  openssl::UniqueX509 cert(X509_new());
  VMSCAN_ASSIGN_OR_RETURN(openssl::UniqueAsn1Integer serial, RandomSerial());
  X509_set_version(cert.get(), 2);
  X509_set_serialNumber(cert.get(), serial.get());
  VMSCAN_RETURN_IF_ERROR(SetValidity(cert.get(), not_before, not_after));
  VMSCAN_RETURN_IF_ERROR(AddName(X509_get_subject_name(cert.get()), common_name));
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  X509_set_pubkey(cert.get(), key.get());
  VMSCAN_RETURN_IF_ERROR(
      AddExtension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
  VMSCAN_RETURN_IF_ERROR(
      AddExtension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign"));
  VMSCAN_RETURN_IF_ERROR(AddExtension(cert.get(), cert.get(), NID_subject_key_identifier, "hash"));
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return openssl::Error("cannot sign the CA certificate");
  }
  return CertificateAuthority(std::move(cert), std::move(key));
}

absl::StatusOr<CertificateAuthority> CertificateAuthority::Load(absl::string_view cert_pem,
                                                                absl::string_view key_pem) {
  VMSCAN_ASSIGN_OR_RETURN(openssl::UniqueX509 cert,
                          openssl::ParseCertificate(cert_pem, "CA certificate"));
  VMSCAN_ASSIGN_OR_RETURN(openssl::UniqueKey key, openssl::ParsePrivateKey(key_pem, "CA key"));
  if (X509_check_ca(cert.get()) == 0) {
    return absl::InvalidArgumentError("the CA certificate is not a CA (basicConstraints)");
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return openssl::Error("the CA key does not belong to the CA certificate",
                          absl::StatusCode::kInvalidArgument);
  }
  return CertificateAuthority(std::move(cert), std::move(key));
}

absl::StatusOr<IssuedCertificate> CertificateAuthority::Issue(const LeafRequest& request) const {
  if (!request.server_auth && !request.client_auth) {
    return absl::InvalidArgumentError("a certificate must allow serverAuth, clientAuth or both");
  }
  VMSCAN_ASSIGN_OR_RETURN(std::string san, SanValue(request));
  VMSCAN_ASSIGN_OR_RETURN(openssl::UniqueKey key, NewKey());
  VMSCAN_ASSIGN_OR_RETURN(openssl::UniqueAsn1Integer serial, RandomSerial());
  openssl::UniqueX509 cert(X509_new());
  X509_set_version(cert.get(), 2);
  X509_set_serialNumber(cert.get(), serial.get());
  VMSCAN_RETURN_IF_ERROR(SetValidity(cert.get(), request.not_before, request.not_after));
  VMSCAN_RETURN_IF_ERROR(AddName(X509_get_subject_name(cert.get()), request.common_name));
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert_.get()));
  X509_set_pubkey(cert.get(), key.get());
  VMSCAN_RETURN_IF_ERROR(
      AddExtension(cert.get(), cert_.get(), NID_basic_constraints, "critical,CA:FALSE"));
  VMSCAN_RETURN_IF_ERROR(
      AddExtension(cert.get(), cert_.get(), NID_key_usage, "critical,digitalSignature"));
  std::vector<std::string> usages;
  if (request.server_auth) usages.push_back("serverAuth");
  if (request.client_auth) usages.push_back("clientAuth");
  VMSCAN_RETURN_IF_ERROR(
      AddExtension(cert.get(), cert_.get(), NID_ext_key_usage, absl::StrJoin(usages, ",")));
  VMSCAN_RETURN_IF_ERROR(AddExtension(cert.get(), cert_.get(), NID_subject_key_identifier, "hash"));
  VMSCAN_RETURN_IF_ERROR(
      AddExtension(cert.get(), cert_.get(), NID_authority_key_identifier, "keyid:always"));
  if (!san.empty()) {
    VMSCAN_RETURN_IF_ERROR(AddExtension(cert.get(), cert_.get(), NID_subject_alt_name, san));
  }
  if (X509_sign(cert.get(), key_.get(), EVP_sha256()) == 0) {
    return openssl::Error("cannot sign the certificate");
  }
  return IssuedCertificate{openssl::SerialHex(serial.get()), openssl::ToPem(cert.get()),
                           openssl::ToPem(key.get())};
}

absl::StatusOr<std::string> CertificateAuthority::MakeCrl(const std::vector<RevokedSerial>& revoked,
                                                          absl::Time this_update,
                                                          absl::Time next_update) const {
  openssl::UniqueCrl crl(X509_CRL_new());
  X509_CRL_set_version(crl.get(), 1);
  X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(cert_.get()));
  openssl::UniqueAsn1Time last(ASN1_TIME_set(nullptr, absl::ToTimeT(this_update)));
  openssl::UniqueAsn1Time next(ASN1_TIME_set(nullptr, absl::ToTimeT(next_update)));
  X509_CRL_set1_lastUpdate(crl.get(), last.get());
  X509_CRL_set1_nextUpdate(crl.get(), next.get());
  for (const RevokedSerial& entry : revoked) {
    VMSCAN_ASSIGN_OR_RETURN(openssl::UniqueAsn1Integer serial, SerialFromHex(entry.serial_hex));
    openssl::UniqueAsn1Time when(ASN1_TIME_set(nullptr, absl::ToTimeT(entry.revoked_at)));
    openssl::UniqueRevoked item(X509_REVOKED_new());
    X509_REVOKED_set_serialNumber(item.get(), serial.get());
    X509_REVOKED_set_revocationDate(item.get(), when.get());
    if (X509_CRL_add0_revoked(crl.get(), item.get()) != 1) {
      return openssl::Error("cannot add a CRL entry");
    }
    item.release();  // owned by the CRL now
  }
  X509_CRL_sort(crl.get());
  if (X509_CRL_sign(crl.get(), key_.get(), EVP_sha256()) == 0) {
    return openssl::Error("cannot sign the CRL");
  }
  return openssl::ToPem(crl.get());
}

}  // namespace vmscan::pki
