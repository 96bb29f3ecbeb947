#include "guest_agent/client/svm_channel.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

namespace vmscan {
namespace {

// The credentials of the agent's calls. The agent config does not configure any yet; mutual TLS
// (the agent's certificate and the SVM's CA) will be read from it here.
std::shared_ptr<grpc::ChannelCredentials> SvmCredentials(const v1::AgentConfig& /*config*/) {
  return grpc::InsecureChannelCredentials();
}

}  // namespace

std::shared_ptr<grpc::Channel> MakeSvmChannel(const v1::AgentConfig& config,
                                              const std::string& address, int max_receive_bytes) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(max_receive_bytes);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  return grpc::CreateCustomChannel(address, SvmCredentials(config), args);
}

}  // namespace vmscan
