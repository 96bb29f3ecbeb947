// HostServer: one running SVM host server — engine, backup store, control plane, scanner, worker
// pool, the engine reloader, the gRPC server (ScanService, BackupAdmin, EngineAdmin,
// InventoryAdmin, PolicyAdmin, AgentControl, SvmDirectory, health checking, reflection) and the
// Prometheus endpoint — assembled from a validated ServerConfig. Start listens before the
// signature database is loaded: meanwhile the health service says NOT_SERVING and scans fail
// UNAVAILABLE (docs/design.md §7).
//
//   VMSCAN_ASSIGN_OR_RETURN(std::unique_ptr<HostServer> server, HostServer::Start(config));
//   std::cout << "listening on " << server->address();
//   ...
//   server->Shutdown();  // finishes or cancels scans in flight, then frees the engine
//
// Start only assembles: each subsystem is set up by one helper below, in the order they depend on
// each other; the rules they apply live in the subsystems.
//
// Used by vmscan-server's main and, in-process, by the integration tests.
#ifndef VMSCAN_HOST_SERVER_SERVICE_HOST_SERVER_H_
#define VMSCAN_HOST_SERVER_SERVICE_HOST_SERVER_H_

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "host_server/auth/authorizer.h"
#include "host_server/backup/backup_store.h"
#include "host_server/backup/retention_loop.h"
#include "host_server/control/control_plane.h"
#include "host_server/control/store/control_store.h"
#include "host_server/engine/clamav_engine.h"
#include "host_server/metrics/metrics_endpoint.h"
#include "host_server/metrics/server_metrics.h"
#include "host_server/scan/engine_reloader.h"
#include "host_server/scan/engine_slot.h"
#include "host_server/scan/scanner.h"
#include "host_server/scan/worker_pool.h"
#include "host_server/service/admin_service.h"
#include "host_server/service/control_services.h"
#include "host_server/service/engine_admin_service.h"
#include "host_server/service/scan_service.h"
#include "host_server/service/svm_directory_service.h"
#include "vmscan/v1/config.pb.h"

namespace vmscan {

class HostServer {
 public:
  static absl::StatusOr<std::unique_ptr<HostServer>> Start(const v1::ServerConfig& config);
  ~HostServer();

  // "127.0.0.1:PORT" with the port actually bound (listen may ask for port 0).
  const std::string& address() const { return address_; }
  int port() const { return port_; }

  // Stops accepting calls, lets running scans finish (up to `grace`), cancels the rest.
  void Shutdown(absl::Duration grace = absl::Seconds(10));

  BackupStore* backup() { return backup_.get(); }
  ControlPlane* control() { return control_.get(); }
  VerdictCache* verdict_cache() { return verdict_cache_.get(); }
  // The engine serving now (a reload may replace it: hold the pointer only for a while).
  std::shared_ptr<const ScanEngine> engine() const { return engines_->Get(); }
  EngineReloader* reloader() { return reloader_.get(); }

 private:
  HostServer() = default;

  // The steps of Start, in order.
  // The state dir, the Backup store and the control plane on its store.
  absl::Status OpenStores(const v1::ServerConfig& config);
  // The listener's credentials (mutual TLS, or plaintext on loopback) and the Authorizer every
  // service asks.
  absl::Status StartTrust(const v1::ServerConfig& config);
  // Engine temp dir and signature set chosen; the EngineReloader (EngineAdmin needs it).
  absl::Status PrepareEngine(const v1::ServerConfig& config);
  // The Scanner with each VM's settings, its worker pool and the ScanService.
  void StartScanning(const v1::ServerConfig& config);
  // BackupAdmin, InventoryAdmin, PolicyAdmin and AgentControl with their pool.
  void StartAdminServices();
  // SvmDirectory: this SVM's host, load and peers, for the agents' choice of SVM.
  void StartDirectory(const v1::ServerConfig& config);
  // With metrics.listen: the metrics (an interceptor for StartGrpc) and their HTTP endpoint.
  absl::Status StartMetrics(const v1::ServerConfig& config);
  // Listening, every service registered, health checking (NOT_SERVING) and reflection.
  absl::Status StartGrpc(const v1::ServerConfig& config);
  // The compiled engine, swapped in for the LoadingEngine; the reloader told how long it took.
  absl::Status StartEngine();
  // What the health service answers for the server and each of its services.
  void ReportServing(bool serving);
  // The periodic Backup retention pass, store-wide and per VM.
  void StartRetention();

  std::unique_ptr<EngineSlot> engines_;
  std::unique_ptr<EngineReloader> reloader_;  // its thread starts last, stops first
  std::unique_ptr<BackupStore> backup_;
  std::unique_ptr<ControlStore> control_store_;
  std::unique_ptr<ControlPlane> control_;
  std::unique_ptr<VerdictCache> verdict_cache_;  // shared by every VM's scans
  std::unique_ptr<Scanner> scanner_;
  std::unique_ptr<WorkerPool> pool_;
  std::unique_ptr<ScanServiceImpl> scan_service_;
  std::unique_ptr<BackupAdminService> backup_admin_;  // vmscanctl's Backup API
  std::shared_ptr<grpc::ServerCredentials> credentials_;
  std::unique_ptr<Authorizer> authorizer_;
  std::unique_ptr<WorkerPool> control_pool_;  // control calls block on store commits
  std::unique_ptr<InventoryAdminService> inventory_admin_;
  std::unique_ptr<PolicyAdminService> policy_admin_;
  std::unique_ptr<AgentControlService> agent_control_;
  std::unique_ptr<SvmDirectoryService> svm_directory_;
  std::unique_ptr<EngineAdminService> engine_admin_;  // vmscanctl engine ...
  std::unique_ptr<ServerMetrics> metrics_;  // null without metrics.listen; outlives server_
  std::unique_ptr<MetricsEndpoint> metrics_endpoint_;
  std::atomic<bool> serving_{false};            // what the health service says
  std::atomic<double> engine_load_seconds_{0};  // of the engine in use
  ClamavEngineOptions engine_options_;          // PrepareEngine → StartEngine and every reload
  std::string engine_source_;                   // for the log: which set, where
  std::string engine_temp_;                     // for the log: the scan temp dir and why
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<RetentionLoop> retention_;  // periodic; Put applies retention too
  std::string memory_temp_dir_;               // engine temp dir on tmpfs, removed by Shutdown
  std::string address_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_SERVICE_HOST_SERVER_H_
