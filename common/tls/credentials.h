// gRPC credentials from a vmscan.v1.TlsConfig: the one place where vmscan decides between mutual
// TLS and plaintext, for the SVM's listener and for every client (agent, vmscanctl, SVM peers).
//
//   // server
//   VMSCAN_ASSIGN_OR_RETURN(auto creds, MakeServerCredentials(config.tls(), config.listen()));
//   builder.AddListeningPort(config.listen(), creds, &port);
//   // client
//   grpc::ChannelArguments args;
//   VMSCAN_ASSIGN_OR_RETURN(auto creds, MakeChannelCredentials(config.tls(), address, &args));
//   auto channel = grpc::CreateCustomChannel(address, creds, args);
//
// Mutual TLS: the server requires and verifies a client certificate of the configured CA
// (GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY) and refuses revoked ones
// (RevocationList); the client verifies the server's certificate against the CA and its name
// against the address's host (or `server_name`). Certificate, key, CA and CRL files are
// re-read when they change (gRPC's FileWatcherCertificateProvider), so rotation needs no
// restart. Files are checked when the credentials are made: a missing or unparsable file, a key
// that does not belong to the certificate, are errors naming the file; a certificate that is
// expired, not yet valid or expiring within 14 days is logged loudly.
//
// Thread-safe: pure functions (the credentials they return are gRPC's, shareable).
#ifndef VMSCAN_COMMON_TLS_CREDENTIALS_H_
#define VMSCAN_COMMON_TLS_CREDENTIALS_H_

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/tls/revocation.h"
#include "vmscan/v1/config.pb.h"

namespace vmscan {

// Whether `address` ("host:port", "[v6]:port", "unix:/path") is reachable only from this
// machine: 127.0.0.0/8, ::1, "localhost", a unix socket.
bool IsLoopbackAddress(absl::string_view address);

// True when `tls` asks for mutual TLS (a certificate is set).
inline bool UsesTls(const v1::TlsConfig& tls) { return !tls.cert_file().empty(); }

// The rule of TlsConfig (config.proto) for one address: mutual TLS needs cert, key and CA;
// plaintext needs insecure_loopback and a loopback address. InvalidArgument naming the keys
// under `prefix` ("tls", "--cert") and the address otherwise.
absl::Status CheckTlsConfig(const v1::TlsConfig& tls, absl::string_view address,
                            absl::string_view prefix);

// `revocations`, when given, receives the revocation list the TLS stack checks (null without
// tls.crl_file), so that the server can check it per call too.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const v1::TlsConfig& tls, absl::string_view listen,
    std::shared_ptr<RevocationList>* revocations = nullptr);

// For a channel to `target`; sets the expected server name in `args` when tls.server_name is.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const v1::TlsConfig& tls, absl::string_view target, grpc::ChannelArguments* args);

}  // namespace vmscan

#endif  // VMSCAN_COMMON_TLS_CREDENTIALS_H_
