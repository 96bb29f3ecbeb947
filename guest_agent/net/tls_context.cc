#include "guest_agent/net/tls_context.h"

#include <openssl/err.h>

#include "absl/strings/str_cat.h"

namespace vmscan::net {
namespace {

std::string LastSslError() {
  unsigned long e = ERR_peek_last_error();
  ERR_clear_error();
  if (e == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

UniqueSslCtx NewContext(const SSL_METHOD* method) {
  UniqueSslCtx ctx(SSL_CTX_new(method));
  if (ctx) {
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
    // A peer that drops the connection without close_notify is an ordinary EOF to SMTP.
    SSL_CTX_set_options(ctx.get(), SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
  }
  return ctx;
}

}  // namespace

absl::StatusOr<UniqueSslCtx> MakeServerTlsContext(const std::string& cert_file,
                                                  const std::string& key_file) {
  UniqueSslCtx ctx = NewContext(TLS_server_method());
  if (!ctx) return absl::InternalError(absl::StrCat("SSL_CTX_new: ", LastSslError()));
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert_file.c_str()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot load TLS certificate ", cert_file, ": ", LastSslError()));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot load TLS key ", key_file, ": ", LastSslError()));
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS key ", key_file, " does not match certificate ", cert_file));
  }
  return ctx;
}

absl::StatusOr<UniqueSslCtx> MakeClientTlsContext(const std::string& ca_file) {
  UniqueSslCtx ctx = NewContext(TLS_client_method());
  if (!ctx) return absl::InternalError(absl::StrCat("SSL_CTX_new: ", LastSslError()));
  if (ca_file.empty()) {
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
    return ctx;
  }
  if (SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot load CA bundle ", ca_file, ": ", LastSslError()));
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  return ctx;
}

}  // namespace vmscan::net
