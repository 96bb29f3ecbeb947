// MetricsServer: the agent's own Prometheus endpoint (GET /metrics), plain HTTP/1.0 on one
// thread, loopback only: it tells what this VM's mail did, for a scraper on the VM itself or a
// node exporter's textfile-style relay (docs/design.md §7, "Metrics"). One request per
// connection, 8 KiB of request at most, 5 s to send it.
//
//   VMSCAN_ASSIGN_OR_RETURN(auto server, MetricsServer::Start("127.0.0.1:9351", render));
//
// Thread-safe; `render` runs on the server's thread.
#ifndef VMSCAN_GUEST_AGENT_METRICS_METRICS_SERVER_H_
#define VMSCAN_GUEST_AGENT_METRICS_METRICS_SERVER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace vmscan {

class MetricsServer {
 public:
  using Render = std::function<std::string()>;

  // `listen` is "127.0.0.1:PORT" (or another loopback address; port 0: any).
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(const std::string& listen,
                                                              Render render);
  ~MetricsServer();

  const std::string& address() const { return address_; }

 private:
  MetricsServer() = default;
  void Serve();
  void Answer(int fd);

  Render render_;
  int listen_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::string address_;
};

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_METRICS_METRICS_SERVER_H_
