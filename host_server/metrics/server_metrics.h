// ServerMetrics: every metric vmscan-server exposes, in one registry (docs/design.md §7,
// "Metrics"): the gRPC server's (GrpcServerMetrics), the scans' (ScanMetrics), and what is read
// at scrape time (StateCollector). HostServer owns one, gives its interceptors to the gRPC
// server builder and serves Render() on the MetricsEndpoint.
//
// Thread-safe after set-up (state() callbacks are added before the first Render).
#ifndef VMSCAN_HOST_SERVER_METRICS_SERVER_METRICS_H_
#define VMSCAN_HOST_SERVER_METRICS_SERVER_METRICS_H_

#include <prometheus/registry.h>

#include <memory>
#include <string>

#include "host_server/metrics/grpc_metrics.h"
#include "host_server/metrics/scan_metrics.h"
#include "host_server/metrics/state_collector.h"

namespace vmscan {

class ServerMetrics {
 public:
  ServerMetrics();

  GrpcServerMetrics& grpc() { return grpc_; }
  ScanMetrics& scans() { return scans_; }
  StateCollector& state() { return state_; }

  // The text exposition format (0.0.4) of every metric now.
  std::string Render() const;

 private:
  prometheus::Registry registry_;
  GrpcServerMetrics grpc_;
  ScanMetrics scans_;
  StateCollector state_;
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_METRICS_SERVER_METRICS_H_
