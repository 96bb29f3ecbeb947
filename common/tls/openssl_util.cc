#include "common/tls/openssl_util.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace vmscan::openssl {
namespace {

UniqueBio MemoryBio(absl::string_view data) {
  return UniqueBio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);  // NOLINT(runtime/int)
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

}  // namespace

absl::Status Error(absl::string_view what, absl::StatusCode code) {
  std::string reasons;
  while (unsigned long err = ERR_get_error()) {  // NOLINT(runtime/int)
    char buf[256];
    ERR_error_string_n(err, buf, sizeof(buf));
    absl::StrAppend(&reasons, reasons.empty() ? ": " : "; ", buf);
  }
  return absl::Status(code, absl::StrCat(what, reasons));
}

absl::StatusOr<UniqueX509> ParseCertificate(absl::string_view pem, absl::string_view source) {
  UniqueBio bio = MemoryBio(pem);
  UniqueX509 cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (cert == nullptr) {
    return Error(absl::StrCat(source, ": no PEM certificate"), absl::StatusCode::kInvalidArgument);
  }
  return cert;
}

absl::StatusOr<UniqueCrl> ParseCrl(absl::string_view pem, absl::string_view source) {
  UniqueBio bio = MemoryBio(pem);
  UniqueCrl crl(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
  if (crl == nullptr) {
    return Error(absl::StrCat(source, ": no PEM CRL"), absl::StatusCode::kInvalidArgument);
  }
  return crl;
}

absl::StatusOr<UniqueKey> ParsePrivateKey(absl::string_view pem, absl::string_view source) {
  UniqueBio bio = MemoryBio(pem);
  UniqueKey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) {
    return Error(absl::StrCat(source, ": no PEM private key (or one protected by a passphrase)"),
                 absl::StatusCode::kInvalidArgument);
  }
  return key;
}

std::string ToPem(X509* cert) {
  UniqueBio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  return BioContents(bio.get());
}

std::string ToPem(X509_CRL* crl) {
  UniqueBio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_CRL(bio.get(), crl);
  return BioContents(bio.get());
}

std::string ToPem(EVP_PKEY* key) {
  UniqueBio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  return BioContents(bio.get());
}

std::string SerialHex(const ASN1_INTEGER* serial) {
  UniqueBignum bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (bn == nullptr) return "";
  char* hex = BN_bn2hex(bn.get());
  std::string out = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  // BN_bn2hex writes whole bytes ("0A1B"); one spelling everywhere: no leading zeros.
  size_t first = out.find_first_not_of('0');
  out = first == std::string::npos ? "0" : out.substr(first);
  return absl::AsciiStrToUpper(out);
}

absl::Time ToTime(const ASN1_TIME* time) {
  struct tm tm = {};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return absl::InfinitePast();
  return absl::FromTM(tm, absl::UTCTimeZone());
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    const std::string why = absl::StrCat("cannot read ", path, ": ", std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(why);
    if (err == EACCES) return absl::PermissionDeniedError(why);
    return absl::FailedPreconditionError(why);
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace vmscan::openssl
