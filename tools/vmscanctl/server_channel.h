// ServerChannel: the gRPC channel to vmscan-server that vmscanctl's clients talk through, and the
// preparation every call gets: a deadline of `timeout` from the call's start, connecting included,
// and a server that cannot be reached reported as Unavailable naming the address before any request
// is sent. With an administrator's certificate (--cert/--key/--cacert) the channel is mutual TLS;
// without one it is plaintext, to a loopback server only (docs/security.md).
//
//   ServerChannel channel({"127.0.0.1:7350", absl::Seconds(30), {}});
//   grpc::ClientContext context;
//   VMSCAN_RETURN_IF_ERROR(channel.Prepare(context));
//   stub->Call(&context, request, &response);
//
// Thread-safe: Prepare only reads the channel's state.
#ifndef VMSCAN_TOOLS_VMSCANCTL_SERVER_CHANNEL_H_
#define VMSCAN_TOOLS_VMSCANCTL_SERVER_CHANNEL_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "vmscan/v1/config.pb.h"

namespace vmscan {

// Where and how vmscanctl reaches the server.
struct ServerTarget {
  std::string server = "127.0.0.1:7350";
  absl::Duration timeout = absl::Seconds(30);
  // cert_file/key_file/ca_file/server_name from --cert/--key/--cacert/--server-name; none:
  // plaintext.
  v1::TlsConfig tls;
};

class ServerChannel {
 public:
  explicit ServerChannel(const ServerTarget& target);

  // Sets the deadline and makes sure the channel is connected (Unavailable if it cannot be).
  absl::Status Prepare(grpc::ClientContext& context) const;

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  const std::string& server() const { return server_; }

 private:
  const std::string server_;
  const absl::Duration timeout_;
  absl::Status setup_error_;  // the credentials could not be made: every call fails with it
  bool tls_ = false;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace vmscan

#endif  // VMSCAN_TOOLS_VMSCANCTL_SERVER_CHANNEL_H_
