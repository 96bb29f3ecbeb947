// gRPC server metrics in the names every Prometheus dashboard for gRPC knows
// (go-grpc-prometheus): grpc_server_started_total, grpc_server_handled_total{grpc_code},
// grpc_server_msg_received_total, grpc_server_msg_sent_total and the
// grpc_server_handling_seconds histogram, each by grpc_service, grpc_method and grpc_type —
// collected by a server interceptor (grpc::experimental), so that no service counts anything
// itself. The same interceptor feeds ScanMetrics from the ScanService/Scan streams it sees
// (docs/design.md §7, "Metrics").
//
//   GrpcServerMetrics grpc_metrics(registry);
//   builder.experimental().SetInterceptorCreators(
//       MetricsInterceptors(&grpc_metrics, &scan_metrics, group_of));
//
// Thread-safe. The factory's metrics, ScanMetrics and `group_of` must outlive the server.
#ifndef VMSCAN_HOST_SERVER_METRICS_GRPC_METRICS_H_
#define VMSCAN_HOST_SERVER_METRICS_GRPC_METRICS_H_

#include <grpcpp/support/server_interceptor.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "host_server/metrics/scan_metrics.h"
#include "vmscan/v1/scan.pb.h"

namespace vmscan {

class GrpcServerMetrics {
 public:
  explicit GrpcServerMetrics(prometheus::Registry& registry);

  // One call of `method` ("/vmscan.v1.ScanService/Scan") of `type` ("unary", "client_stream",
  // "server_stream", "bidi_stream").
  void Started(absl::string_view method, absl::string_view type);
  void MessageReceived(absl::string_view method, absl::string_view type);
  void MessageSent(absl::string_view method, absl::string_view type);
  void Handled(absl::string_view method, absl::string_view type, grpc::StatusCode code,
               absl::Duration elapsed);

 private:
  prometheus::Family<prometheus::Counter>& started_;
  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Counter>& received_;
  prometheus::Family<prometheus::Counter>& sent_;
  prometheus::Family<prometheus::Histogram>& handling_;
};

// The name gRPC's Go status package gives a code ("OK", "Unavailable", ...), which is what
// dashboards built on go-grpc-prometheus expect in grpc_code.
std::string GrpcCodeName(grpc::StatusCode code);

// The VM's group path for the "group" label of vmscan_scans_total.
using GroupOf = std::function<std::string(const v1::VmIdentity& vm)>;

// The interceptor creators to give grpc::ServerBuilder (one factory).
std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
MetricsInterceptors(GrpcServerMetrics* grpc_metrics, ScanMetrics* scans, GroupOf group_of);

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_METRICS_GRPC_METRICS_H_
