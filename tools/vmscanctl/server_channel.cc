#include "tools/vmscanctl/server_channel.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace vmscan {
namespace {

// A list of 10000 backup records (the server's maximum page) is a few MiB.
constexpr int kMaxReceiveBytes = 64 << 20;

}  // namespace

ServerChannel::ServerChannel(std::string server, absl::Duration timeout)
    : server_(std::move(server)), timeout_(timeout) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxReceiveBytes);
  channel_ = grpc::CreateCustomChannel(server_, grpc::InsecureChannelCredentials(), args);
}

absl::Status ServerChannel::Prepare(grpc::ClientContext& context) const {
  const absl::Time deadline = absl::Now() + timeout_;
  context.set_deadline(absl::ToChronoTime(deadline));
  // Waits for READY but gives up at the first failed attempt: a refused connection is reported
  // at once instead of after the whole timeout of gRPC's reconnect backoff.
  grpc_connectivity_state state = channel_->GetState(/*try_to_connect=*/true);
  while (state != GRPC_CHANNEL_READY) {
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE || state == GRPC_CHANNEL_SHUTDOWN) {
      return absl::UnavailableError(
          absl::StrCat("cannot reach vmscan-server at ", server_,
                       " (connection failed: is it running, and is this its address?)"));
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
