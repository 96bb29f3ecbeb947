// The one place where absl::Status and grpc::Status are converted into each other.
#ifndef VMSCAN_COMMON_GRPC_STATUS_H_
#define VMSCAN_COMMON_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace vmscan {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace vmscan

#endif  // VMSCAN_COMMON_GRPC_STATUS_H_
