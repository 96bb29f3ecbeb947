// ProbeClient: vmscanctl's side of gRPC's standard health checking (grpc.health.v1.Health) and
// server reflection (grpc.reflection.v1alpha) services of vmscan-server, for probes and for
// finding out what a server serves without grpcurl (docs/design.md §7, "Health and reflection").
//
//   std::unique_ptr<ProbeClient> probe = ProbeClient::Create(ServerTarget());
//   absl::StatusOr<HealthStatus> status = probe->Check("vmscan.v1.ScanService");
//   absl::StatusOr<std::vector<std::string>> services = probe->ListServices();
//
// Deadlines and reachability as in every vmscanctl client (server_channel.h). Thread-safe:
// calls share one channel.
#ifndef VMSCAN_TOOLS_VMSCANCTL_PROBE_CLIENT_H_
#define VMSCAN_TOOLS_VMSCANCTL_PROBE_CLIENT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "tools/vmscanctl/server_channel.h"

namespace vmscan {

using HealthStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;

class ProbeClient {
 public:
  static std::unique_ptr<ProbeClient> Create(const ServerTarget& target);

  // The serving status of `service` ("" for the server as a whole); NotFound for a service the
  // server does not know.
  absl::StatusOr<HealthStatus> Check(const std::string& service);

  // Every service the server exposes, by full name, sorted.
  absl::StatusOr<std::vector<std::string>> ListServices();

  // The file that defines `symbol` (a service, method or message), serialized
  // google.protobuf.FileDescriptorProto first, then what it imports.
  absl::StatusOr<std::vector<std::string>> FileContainingSymbol(const std::string& symbol);

 private:
  explicit ProbeClient(const ServerTarget& target);

  // One request and its reply on a reflection stream.
  absl::StatusOr<grpc::reflection::v1alpha::ServerReflectionResponse> Reflect(
      const grpc::reflection::v1alpha::ServerReflectionRequest& request);

  ServerChannel channel_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
  std::unique_ptr<grpc::reflection::v1alpha::ServerReflection::Stub> reflection_;
};

}  // namespace vmscan

#endif  // VMSCAN_TOOLS_VMSCANCTL_PROBE_CLIENT_H_
