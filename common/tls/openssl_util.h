// RAII owners of the OpenSSL objects vmscan's TLS and PKI code holds, and the one place where
// OpenSSL's error queue becomes an absl::Status.
#ifndef VMSCAN_COMMON_TLS_OPENSSL_UTIL_H_
#define VMSCAN_COMMON_TLS_OPENSSL_UTIL_H_

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace vmscan::openssl {

struct Deleter {
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_CRL* p) const { X509_CRL_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
  void operator()(X509_REVOKED* p) const { X509_REVOKED_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
};
using UniqueX509 = std::unique_ptr<X509, Deleter>;
using UniqueCrl = std::unique_ptr<X509_CRL, Deleter>;
using UniqueKey = std::unique_ptr<EVP_PKEY, Deleter>;
using UniqueBio = std::unique_ptr<BIO, Deleter>;
// ASN1_INTEGER and ASN1_TIME are both ASN1_STRING: one deleter each.
struct Asn1IntegerDeleter {
  void operator()(ASN1_INTEGER* p) const { ASN1_INTEGER_free(p); }
};
struct Asn1TimeDeleter {
  void operator()(ASN1_TIME* p) const { ASN1_TIME_free(p); }
};
using UniqueAsn1Integer = std::unique_ptr<ASN1_INTEGER, Asn1IntegerDeleter>;
using UniqueAsn1Time = std::unique_ptr<ASN1_TIME, Asn1TimeDeleter>;
using UniqueBignum = std::unique_ptr<BIGNUM, Deleter>;
using UniqueGeneralNames = std::unique_ptr<GENERAL_NAMES, Deleter>;
using UniqueRevoked = std::unique_ptr<X509_REVOKED, Deleter>;
using UniqueExtension = std::unique_ptr<X509_EXTENSION, Deleter>;
using UniqueStore = std::unique_ptr<X509_STORE, Deleter>;
using UniqueStoreCtx = std::unique_ptr<X509_STORE_CTX, Deleter>;

// `what` followed by the reasons OpenSSL queued (the queue is emptied), as kInternal unless a
// code is given.
absl::Status Error(absl::string_view what, absl::StatusCode code = absl::StatusCode::kInternal);

// The first PEM certificate / CRL / private key in `pem`; InvalidArgument naming `source`.
absl::StatusOr<UniqueX509> ParseCertificate(absl::string_view pem, absl::string_view source);
absl::StatusOr<UniqueCrl> ParseCrl(absl::string_view pem, absl::string_view source);
absl::StatusOr<UniqueKey> ParsePrivateKey(absl::string_view pem, absl::string_view source);

std::string ToPem(X509* cert);
std::string ToPem(X509_CRL* crl);
std::string ToPem(EVP_PKEY* key);  // PKCS#8, unencrypted

// A certificate's serial number as upper-case hex without leading zeros ("1A2B...").
std::string SerialHex(const ASN1_INTEGER* serial);

absl::Time ToTime(const ASN1_TIME* time);

// The whole file, or NotFound / PermissionDenied / FailedPrecondition naming the path.
absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace vmscan::openssl

#endif  // VMSCAN_COMMON_TLS_OPENSSL_UTIL_H_
