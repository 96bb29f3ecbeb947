// MetricsEndpoint: the HTTP(S) server Prometheus scrapes (GET /metrics, text exposition format
// 0.0.4), on its own address and thread, apart from the gRPC listener (docs/design.md §7,
// "Metrics"). Its transport follows metrics.tls the way the gRPC listener follows tls: HTTPS
// with a client certificate of the deployment's CA required, the scraper an administrator
// (urn:vmscan:admin:NAME), certificates the CRL lists refused; or plaintext on loopback only.
//
//   VMSCAN_ASSIGN_OR_RETURN(std::unique_ptr<MetricsEndpoint> endpoint,
//                           MetricsEndpoint::Start(config.metrics(), [&] { return Render(); }));
//   LOG << "metrics on " << endpoint->address();
//
// Thread-safe; `render` is called from the endpoint's threads, one scrape at a time or more.
#ifndef VMSCAN_HOST_SERVER_METRICS_METRICS_ENDPOINT_H_
#define VMSCAN_HOST_SERVER_METRICS_METRICS_ENDPOINT_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "vmscan/v1/config.pb.h"

namespace httplib {
class Server;
}

namespace vmscan {

class MetricsEndpoint {
 public:
  using Render = std::function<std::string()>;

  // Binds metrics.listen (validated by ValidateServerConfig) and starts serving.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(const v1::MetricsConfig& config,
                                                                Render render);
  ~MetricsEndpoint();  // stops serving; scrapes in progress finish

  const std::string& address() const { return address_; }  // "HOST:PORT", the port bound
  int port() const { return port_; }

 private:
  MetricsEndpoint() = default;

  std::unique_ptr<httplib::Server> http_;
  std::atomic<bool> ended_{false};  // the serving thread's listen loop returned
  std::thread thread_;
  std::string address_;
  int port_ = 0;
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_METRICS_METRICS_ENDPOINT_H_
