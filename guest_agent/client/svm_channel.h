// The gRPC channels from the agent to its SVMs, as every client of the agent opens them
// (ScanClient for ScanService, AgentControlClient for AgentControl, BackupClient for the VM's
// own Backup records): credentials and channel arguments live here once.
//
//   VMSCAN_ASSIGN_OR_RETURN(SvmCredentials creds, MakeSvmCredentials(config));
//   std::shared_ptr<grpc::Channel> channel =
//       MakeSvmChannel(config, creds, "10.0.0.5:7350", kScanReplyBytes);
//   auto stub = v1::ScanService::NewStub(channel);
//
// Credentials come from the agent config's `tls` (common/tls/credentials.h): mutual TLS with the
// VM's certificate, which names the VM (the SVM takes the VM's id from it), or plaintext to
// loopback SVMs only (tls.insecure_loopback). One credentials object serves every channel of a
// client, so the certificate files are watched once, not once per SVM. Thread-safe.
#ifndef VMSCAN_GUEST_AGENT_CLIENT_SVM_CHANNEL_H_
#define VMSCAN_GUEST_AGENT_CLIENT_SVM_CHANNEL_H_

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "vmscan/v1/config.pb.h"

namespace vmscan {

using SvmCredentials = std::shared_ptr<grpc::ChannelCredentials>;

// Checks `tls` against every address in config.servers (plaintext only to loopback) and reads
// the certificate files: InvalidArgument / NotFound naming the key or file.
absl::StatusOr<SvmCredentials> MakeSvmCredentials(const v1::AgentConfig& config);

// A channel to `address` (HOST:PORT) that accepts messages of up to `max_receive_bytes`. An SVM
// that restarts is reconnected within a second or two, not after gRPC's default backoff of up to
// two minutes: mail waits (or tempfails) meanwhile. A call to an SVM that stops answering ends
// UNAVAILABLE within about 10 s (keepalive pings). Connects lazily, like any gRPC channel.
std::shared_ptr<grpc::Channel> MakeSvmChannel(const v1::AgentConfig& config,
                                              const SvmCredentials& credentials,
                                              const std::string& address, int max_receive_bytes);

// Why a channel to `address` did not connect, for a client that gave up waiting: Unavailable
// ("not reachable") when nothing accepts TCP there; with TLS, PermissionDenied when the SVM
// accepts TCP but the TLS handshake failed (this VM's certificate revoked, expired or of another
// CA; the SVM's not trusted). Interceptors treat only Unavailable as "no scanner" (which
// agent.on_no_scanner may deliver unscanned); a refused handshake always holds the mail back.
absl::Status NotConnectedReason(const v1::AgentConfig& config, const std::string& address);

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_CLIENT_SVM_CHANNEL_H_
