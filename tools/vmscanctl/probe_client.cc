#include "tools/vmscanctl/probe_client.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"

namespace vmscan {

namespace reflection = grpc::reflection::v1alpha;

std::unique_ptr<ProbeClient> ProbeClient::Create(const ServerTarget& target) {
  return std::unique_ptr<ProbeClient>(new ProbeClient(target));
}

ProbeClient::ProbeClient(const ServerTarget& target)
    : channel_(target),
      health_(grpc::health::v1::Health::NewStub(channel_.channel())),
      reflection_(reflection::ServerReflection::NewStub(channel_.channel())) {}

absl::StatusOr<HealthStatus> ProbeClient::Check(const std::string& service) {
  grpc::ClientContext context;
  VMSCAN_RETURN_IF_ERROR(channel_.Prepare(context));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  VMSCAN_RETURN_IF_ERROR(FromGrpcStatus(health_->Check(&context, request, &response)));
  return response.status();
}

absl::StatusOr<reflection::ServerReflectionResponse> ProbeClient::Reflect(
    const reflection::ServerReflectionRequest& request) {
  grpc::ClientContext context;
  VMSCAN_RETURN_IF_ERROR(channel_.Prepare(context));
  std::unique_ptr<grpc::ClientReaderWriter<reflection::ServerReflectionRequest,
                                           reflection::ServerReflectionResponse>>
      stream = reflection_->ServerReflectionInfo(&context);
  reflection::ServerReflectionResponse response;
  const bool answered = stream->Write(request) && stream->WritesDone() && stream->Read(&response);
  reflection::ServerReflectionResponse extra;  // one request gets one reply; read to the end
  while (stream->Read(&extra)) {
  }
  VMSCAN_RETURN_IF_ERROR(FromGrpcStatus(stream->Finish()));
  if (!answered) return absl::UnavailableError("the reflection stream ended without a reply");
  if (response.has_error_response()) {
    return FromGrpcStatus(
        grpc::Status(static_cast<grpc::StatusCode>(response.error_response().error_code()),
                     response.error_response().error_message()));
  }
  return response;
}

absl::StatusOr<std::vector<std::string>> ProbeClient::ListServices() {
  reflection::ServerReflectionRequest request;
  request.set_list_services("*");
  VMSCAN_ASSIGN_OR_RETURN(reflection::ServerReflectionResponse response, Reflect(request));
  std::vector<std::string> names;
  for (const reflection::ServiceResponse& service : response.list_services_response().service()) {
    names.push_back(service.name());
  }
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<std::vector<std::string>> ProbeClient::FileContainingSymbol(
    const std::string& symbol) {
  reflection::ServerReflectionRequest request;
  request.set_file_containing_symbol(symbol);
  VMSCAN_ASSIGN_OR_RETURN(reflection::ServerReflectionResponse response, Reflect(request));
  const auto& files = response.file_descriptor_response().file_descriptor_proto();
  if (files.empty()) return absl::NotFoundError(absl::StrCat("no file defines ", symbol));
  return std::vector<std::string>(files.begin(), files.end());
}

}  // namespace vmscan
