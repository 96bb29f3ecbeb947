// MakeSvmChannel: the gRPC channel from the agent to one SVM, as every client of the agent opens
// it (ScanClient for ScanService, AgentControlClient for AgentControl): the channel arguments
// (message size, reconnect backoff) and the credentials live here once, so that securing the
// agent's connection (mutual TLS from the agent config) is a change of this one function.
//
//   std::shared_ptr<grpc::Channel> channel =
//       MakeSvmChannel(config, "10.0.0.5:7350", kScanReplyBytes);
//   auto stub = v1::ScanService::NewStub(channel);
//
// Plaintext today: the agent talks to the SVM of its own host. Thread-safe.
#ifndef VMSCAN_GUEST_AGENT_CLIENT_SVM_CHANNEL_H_
#define VMSCAN_GUEST_AGENT_CLIENT_SVM_CHANNEL_H_

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "vmscan/v1/config.pb.h"

namespace vmscan {

// A channel to `address` (HOST:PORT) that accepts messages of up to `max_receive_bytes`. An SVM
// that restarts is reconnected within a second or two, not after gRPC's default backoff of up to
// two minutes: mail waits (or tempfails) meanwhile. Connects lazily, like any gRPC channel.
std::shared_ptr<grpc::Channel> MakeSvmChannel(const v1::AgentConfig& config,
                                              const std::string& address, int max_receive_bytes);

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_CLIENT_SVM_CHANNEL_H_
