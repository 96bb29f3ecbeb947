#include "tools/vmscanctl/server_channel.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/tls/credentials.h"

namespace vmscan {
namespace {

// A list of 10000 backup records (the server's maximum page) is a few MiB.
constexpr int kMaxReceiveBytes = 64 << 20;

}  // namespace

ServerChannel::ServerChannel(const ServerTarget& target)
    : server_(target.server), timeout_(target.timeout) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxReceiveBytes);
  v1::TlsConfig tls = target.tls;
  if (!UsesTls(tls)) {
    if (!IsLoopbackAddress(server_)) {
      setup_error_ = absl::InvalidArgumentError(absl::StrCat(
          "--server ", server_,
          " is not a loopback address: give an administrator's "
          "certificate with --cert, --key and --cacert (vmscanctl pki init makes one)"));
    }
    tls.set_insecure_loopback(true);
  }
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      MakeChannelCredentials(tls, server_, &args);
  if (setup_error_.ok() && !credentials.ok()) setup_error_ = credentials.status();
  channel_ = grpc::CreateCustomChannel(
      server_, credentials.ok() ? *credentials : grpc::InsecureChannelCredentials(), args);
  tls_ = UsesTls(tls);
}

absl::Status ServerChannel::Prepare(grpc::ClientContext& context) const {
  if (!setup_error_.ok()) return setup_error_;
  const absl::Time deadline = absl::Now() + timeout_;
  context.set_deadline(absl::ToChronoTime(deadline));
  // Waits for READY but gives up at the first failed attempt: a refused connection is reported
  // at once instead of after the whole timeout of gRPC's reconnect backoff.
  grpc_connectivity_state state = channel_->GetState(/*try_to_connect=*/true);
  while (state != GRPC_CHANNEL_READY) {
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE || state == GRPC_CHANNEL_SHUTDOWN) {
      return absl::UnavailableError(absl::StrCat(
          "cannot reach vmscan-server at ", server_,
          tls_ ? " (connection or TLS handshake failed: is it running at this address, and do "
                 "--cert and --cacert belong to its PKI?)"
               : " (connection failed: is it running, and is this its address? a server with "
                 "mutual TLS needs --cert, --key and --cacert)"));
    }
    if (!channel_->WaitForStateChange(state, absl::ToChronoTime(deadline))) {
      return absl::UnavailableError(absl::StrCat("cannot reach vmscan-server at ", server_,
                                                 ": not connected within ",
                                                 absl::FormatDuration(timeout_)));
    }
    state = channel_->GetState(/*try_to_connect=*/true);
  }
  return absl::OkStatus();
}

}  // namespace vmscan
