#include "guest_agent/client/svm_channel.h"

#include <fcntl.h>
#include <grpcpp/create_channel.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/tls/credentials.h"

namespace vmscan {
namespace {

constexpr int kTcpProbeMs = 500;

// Whether something at `address` ("host:port", "[v6]:port") accepts a TCP connection.
bool AcceptsTcp(const std::string& address) {
  std::string host = address, port;
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return false;
  host = address.substr(0, colon);
  port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints = {};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0) return false;
  bool accepted = false;
  for (addrinfo* ai = found; ai != nullptr && !accepted; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      accepted = true;
    } else if (errno == EINPROGRESS) {
      pollfd p = {fd, POLLOUT, 0};
      int err = 0;
      socklen_t len = sizeof(err);
      accepted = poll(&p, 1, kTcpProbeMs) == 1 &&
                 getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
    }
    close(fd);
  }
  freeaddrinfo(found);
  return accepted;
}

}  // namespace

absl::StatusOr<SvmCredentials> MakeSvmCredentials(const v1::AgentConfig& config) {
  for (const std::string& address : config.servers()) {
    VMSCAN_RETURN_IF_ERROR(CheckTlsConfig(config.tls(), address, "tls"));
  }
  grpc::ChannelArguments unused;
  const std::string first = config.servers().empty() ? "127.0.0.1:0" : config.servers(0);
  return MakeChannelCredentials(config.tls(), first, &unused);
}

absl::Status NotConnectedReason(const v1::AgentConfig& config, const std::string& address) {
  if (UsesTls(config.tls()) && AcceptsTcp(address)) {
    return absl::PermissionDeniedError(absl::StrCat(
        address, " accepts connections but the TLS handshake failed: this VM's certificate ",
        config.tls().cert_file(),
        " may be revoked, expired or of another CA, or the SVM's "
        "certificate does not match tls.ca_file / the address (see both logs)"));
  }
  return absl::UnavailableError(absl::StrCat(address, ": not reachable"));
}

std::shared_ptr<grpc::Channel> MakeSvmChannel(const v1::AgentConfig& config,
                                              const SvmCredentials& credentials,
                                              const std::string& address, int max_receive_bytes) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(max_receive_bytes);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  // While a call is open, a ping every 5 s that must be answered within 5 s: a call to an SVM
  // that stopped answering (hung, or its host gone without a FIN) ends UNAVAILABLE in about 10 s
  // and the message goes to the next SVM, instead of waiting out the call's deadline. The SVM
  // accepts these pings (host_server.cc).
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 5000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  if (UsesTls(config.tls()) && !config.tls().server_name().empty()) {
    args.SetSslTargetNameOverride(config.tls().server_name());
  }
  return grpc::CreateCustomChannel(address, credentials, args);
}

}  // namespace vmscan
