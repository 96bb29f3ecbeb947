#include "host_server/service/host_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/mail/verdict_key.h"
#include "common/status_macros.h"
#include "common/tls/credentials.h"
#include "host_server/backup/lmdb_backup_store.h"
#include "host_server/control/store/lmdb_control_store.h"
#include "host_server/engine/clamav_engine.h"
#include "host_server/engine/engine_temp_dir.h"
#include "host_server/engine/signatures.h"
#include "host_server/metrics/grpc_metrics.h"
#include "host_server/metrics/server_state.h"
#include "host_server/policy/scan_limits.h"
#include "host_server/service/loading_engine.h"
#include "host_server/service/server_config.h"
#include "host_server/storage/private_dir.h"
#include "vmscan/v1/admin.grpc.pb.h"
#include "vmscan/v1/control.grpc.pb.h"
#include "vmscan/v1/scan.grpc.pb.h"

namespace vmscan {
namespace {

constexpr char kOfficialSignaturesDir[] = "/var/lib/clamav";

// Every vmscan service the server registers, as the health service names them.
constexpr const char* kServedServices[] = {
    v1::ScanService::service_full_name(),    v1::BackupAdmin::service_full_name(),
    v1::InventoryAdmin::service_full_name(), v1::PolicyAdmin::service_full_name(),
    v1::AgentControl::service_full_name(),   v1::EngineAdmin::service_full_name(),
    v1::SvmDirectory::service_full_name(),
};

std::string HostOf(const std::string& listen) {
  size_t colon = listen.rfind(':');
  return colon == std::string::npos ? listen : listen.substr(0, colon);
}

}  // namespace

absl::StatusOr<std::unique_ptr<HostServer>> HostServer::Start(const v1::ServerConfig& config) {
  VMSCAN_RETURN_IF_ERROR(ValidateServerConfig(config));
  std::unique_ptr<HostServer> server(new HostServer());
  // Listening comes before the signature database, which can take a while to load: probes get
  // NOT_SERVING and scans UNAVAILABLE meanwhile, not a refused connection (docs/design.md §7).
  server->engines_ = std::make_unique<EngineSlot>(std::make_shared<LoadingEngine>());
  VMSCAN_RETURN_IF_ERROR(server->OpenStores(config));
  VMSCAN_RETURN_IF_ERROR(server->StartTrust(config));
  VMSCAN_RETURN_IF_ERROR(server->PrepareEngine(config));
  server->StartScanning(config);
  server->StartAdminServices();
  server->StartDirectory(config);
  VMSCAN_RETURN_IF_ERROR(server->StartMetrics(config));
  VMSCAN_RETURN_IF_ERROR(server->StartGrpc(config));
  VMSCAN_RETURN_IF_ERROR(server->StartEngine());
  server->ReportServing(true);
  server->StartRetention();
  server->reloader_->Start();
  VMSCAN_LOG(INFO) << "vmscan-server listening on " << server->address_
                   << (UsesTls(config.tls()) ? " (mutual TLS)" : " (plaintext, loopback only)")
                   << " with " << config.workers() << " workers, queue " << config.queue_depth()
                   << " (per VM: " << MaxVmQueuedScans(config) << " waiting, "
                   << MaxVmInflightBytes(config) << " bytes held; 0 = no bound)";
  return server;
}

absl::Status HostServer::PrepareEngine(const v1::ServerConfig& config) {
  const std::filesystem::path state_dir(config.state_dir());
  VMSCAN_RETURN_IF_ERROR(MakePrivateDir(state_dir.string()));
  VMSCAN_ASSIGN_OR_RETURN(EngineTempDirChoice engine_tmp,
                          ChooseEngineTempDir(config.engine_temp_dir(), state_dir.string()));
  VMSCAN_RETURN_IF_ERROR(MakePrivateDir(engine_tmp.dir));
  EmptyEngineTempDir(engine_tmp.dir);  // what cannot be removed is logged
  // A directory of ours in memory goes when the server stops; one on disk stays for the next.
  if (config.engine_temp_dir().empty() &&
      engine_tmp.dir !=
          (std::filesystem::absolute(state_dir) / "tmp").lexically_normal().string()) {
    memory_temp_dir_ = engine_tmp.dir;
  }

  VMSCAN_ASSIGN_OR_RETURN(SignatureSource signatures,
                          ChooseSignatures(config.signatures_dir(), kOfficialSignaturesDir,
                                           DefaultBundledSignaturesDir()));
  engine_options_.signatures_dir = signatures.dir;
  engine_options_.temp_dir = engine_tmp.dir;
  engine_options_.limits = config.limits();
  engine_source_ = absl::StrCat(signatures.kind, " set in ", signatures.dir);
  engine_temp_ = absl::StrCat(engine_tmp.dir, " (", engine_tmp.why, ")");

  // Reloads load the same directory with the same options (docs/design.md §6).
  EngineReloader::Options reload_options;
  reload_options.signatures_dir = signatures.dir;
  reload_options.watch_interval = absl::Milliseconds(config.engine().watch_interval_ms());
  reload_options.nice = static_cast<int>(config.engine().reload_nice());
  reload_options.on_swap = [this](const ScanEngine&) {
    // Entries of the old version can no longer be hit (the version is in the key); free them.
    if (verdict_cache_ != nullptr) verdict_cache_->Clear();
  };
  reloader_ = std::make_unique<EngineReloader>(
      engines_.get(),
      [options = engine_options_]() -> absl::StatusOr<std::unique_ptr<ScanEngine>> {
        VMSCAN_ASSIGN_OR_RETURN(std::unique_ptr<ClamavEngine> loaded, ClamavEngine::Load(options));
        return std::unique_ptr<ScanEngine>(std::move(loaded));
      },
      [dir = signatures.dir] { return DatabaseFilesFingerprint(dir); }, std::move(reload_options),
      absl::ZeroDuration());
  return absl::OkStatus();
}

absl::Status HostServer::StartEngine() {
  const absl::Time load_start = absl::Now();
  VMSCAN_ASSIGN_OR_RETURN(std::unique_ptr<ClamavEngine> engine,
                          ClamavEngine::Load(engine_options_));
  const absl::Duration load_time = absl::Now() - load_start;
  VMSCAN_LOG(INFO) << "loaded " << engine->signature_count() << " signatures from the "
                   << engine_source_ << " (" << absl::ToInt64Milliseconds(load_time)
                   << " ms, version " << engine->version() << "); scan temp files in "
                   << engine_temp_;
  engine_load_seconds_.store(absl::ToDoubleSeconds(load_time));
  engines_->Swap(std::move(engine));
  reloader_->Loaded(load_time);
  return absl::OkStatus();
}

absl::Status HostServer::OpenStores(const v1::ServerConfig& config) {
  const std::filesystem::path state_dir(config.state_dir());
  VMSCAN_RETURN_IF_ERROR(MakePrivateDir(state_dir.string()));
  LmdbBackupOptions backup_options;
  backup_options.dir = (state_dir / "backup").string();
  backup_options.max_age = absl::Hours(24) * config.backup().max_age_days();
  backup_options.max_total_bytes = config.backup().max_total_bytes();
  VMSCAN_ASSIGN_OR_RETURN(backup_, LmdbBackupStore::Open(backup_options));

  LmdbControlStoreOptions control_store_options;
  control_store_options.dir = (state_dir / "control").string();
  VMSCAN_ASSIGN_OR_RETURN(control_store_, LmdbControlStore::Open(control_store_options));
  ControlPlane::Options control_options;
  control_options.default_group = config.control().default_group();
  control_options.heartbeat_timeout = absl::Milliseconds(config.control().heartbeat_timeout_ms());
  control_options.defaults = DefaultVmSettings(config);
  VMSCAN_ASSIGN_OR_RETURN(control_, ControlPlane::Create(control_store_.get(), control_options));
  return absl::OkStatus();
}

absl::Status HostServer::StartTrust(const v1::ServerConfig& config) {
  std::shared_ptr<RevocationList> revocations;
  VMSCAN_ASSIGN_OR_RETURN(credentials_,
                          MakeServerCredentials(config.tls(), config.listen(), &revocations));
  authorizer_ = std::make_unique<Authorizer>(UsesTls(config.tls()), std::move(revocations));
  return absl::OkStatus();
}

void HostServer::StartScanning(const v1::ServerConfig& config) {
  ControlPlane* control = control_.get();
  scanner_ = std::make_unique<Scanner>(
      engines_.get(), backup_.get(), config.mail_antivirus(),
      [control, engine_limits =
                    config.limits()](const v1::VmIdentity& vm) -> absl::StatusOr<VmScanSettings> {
        VmScanSettings found;
        VMSCAN_ASSIGN_OR_RETURN(found.settings, control->ScanSettings(vm, &found.group));
        *found.settings.mutable_limits() =
            OnlyTighterLimits(found.settings.limits(), engine_limits);
        return found;
      });
  verdict_cache_ = std::make_unique<VerdictCache>(config.verdict_cache_bytes());
  // Every limit and option that changes a verdict goes into the key (docs/verdict-cache.md).
  const uint64_t engine_cap =
      std::min(config.limits().max_scan_bytes(), config.limits().max_file_bytes());
  scanner_->UseCache(verdict_cache_.get(),
                     absl::StrCat("clamav-options/1 ", config.limits().SerializeAsString()),
                     engine_cap > kMaxHeaderBytes ? engine_cap - kMaxHeaderBytes : 0);
  WorkerPool::Fairness fairness;  // between VMs (docs/design.md §6)
  fairness.quantum = config.scheduler().quantum_bytes();
  fairness.tenant_queue_depth = MaxVmQueuedScans(config);
  pool_ = std::make_unique<WorkerPool>(static_cast<int>(config.workers()),
                                       static_cast<int>(config.queue_depth()), "scan", fairness);
  ScanServiceImpl::Options service_options;
  service_options.max_message_bytes = config.limits().max_message_bytes();
  service_options.request_deadline = absl::Milliseconds(config.scan_deadline_ms());
  service_options.max_inflight_bytes = config.max_inflight_bytes();
  service_options.max_vm_inflight_bytes = MaxVmInflightBytes(config);
  service_options.scan_overhead_bytes = config.scheduler().scan_overhead_bytes();
  scan_service_ = std::make_unique<ScanServiceImpl>(scanner_.get(), pool_.get(), authorizer_.get(),
                                                    service_options);
}

void HostServer::StartAdminServices() {
  backup_admin_ = std::make_unique<BackupAdminService>(backup_.get(), authorizer_.get(),
                                                       BackupAdminService::Options());
  control_pool_ = std::make_unique<WorkerPool>(2, 1024, "control");
  inventory_admin_ = std::make_unique<InventoryAdminService>(control_.get(), authorizer_.get(),
                                                             control_pool_.get());
  policy_admin_ =
      std::make_unique<PolicyAdminService>(control_.get(), authorizer_.get(), control_pool_.get());
  agent_control_ = std::make_unique<AgentControlService>(control_.get(), authorizer_.get(),
                                                         control_pool_.get(), backup_.get());
  engine_admin_ = std::make_unique<EngineAdminService>(reloader_.get(), authorizer_.get());
}

void HostServer::StartDirectory(const v1::ServerConfig& config) {
  const WorkerPool* pool = pool_.get();
  svm_directory_ = std::make_unique<SvmDirectoryService>(
      config.svm_directory(), authorizer_.get(), [pool, depth = config.queue_depth()] {
        return PoolLoad(pool->busy(), pool->queued(), pool->threads(), depth);
      });
}

absl::Status HostServer::StartGrpc(const v1::ServerConfig& config) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.listen(), credentials_, &port_);
  builder.RegisterService(scan_service_.get());
  builder.RegisterService(backup_admin_.get());
  builder.RegisterService(inventory_admin_.get());
  builder.RegisterService(policy_admin_.get());
  builder.RegisterService(agent_control_.get());
  builder.RegisterService(svm_directory_.get());
  // Agents ping during long scans to notice an SVM that stopped answering (docs/design.md §6.1);
  // accept those pings however often they come while a call is open.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 1000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  builder.RegisterService(engine_admin_.get());
  if (metrics_ != nullptr) {
    ControlPlane* control = control_.get();
    builder.experimental().SetInterceptorCreators(MetricsInterceptors(
        &metrics_->grpc(), &metrics_->scans(),
        [control, default_group = config.control().default_group()](const v1::VmIdentity& vm) {
          if (vm.id().empty()) return default_group;  // scanned with the default group's settings
          absl::StatusOr<v1::VmRecord> record = control->GetVm(vm.id());
          return record.ok() ? record->group() : std::string("unknown");
        }));
  }
  // Chunks are small; this bounds what one ScanRequest may make the server allocate.
  builder.SetMaxReceiveMessageSize(8 << 20);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", config.listen(), " (address in use or invalid?)"));
  }
  address_ = absl::StrCat(HostOf(config.listen()), ":", port_);
  svm_directory_->SetSelfAddress(AdvertisedAddress(config.svm_directory(), config.listen(), port_));
  ReportServing(false);  // until the engine is loaded
  return absl::OkStatus();
}

absl::Status HostServer::StartMetrics(const v1::ServerConfig& config) {
  if (config.metrics().listen().empty()) return absl::OkStatus();
  metrics_ = std::make_unique<ServerMetrics>();
  AddServerState({engines_.get(), pool_.get(), verdict_cache_.get(), backup_.get(), &serving_,
                  &engine_load_seconds_},
                 &metrics_->state());
  ServerMetrics* metrics = metrics_.get();
  VMSCAN_ASSIGN_OR_RETURN(metrics_endpoint_, MetricsEndpoint::Start(config.metrics(), [metrics] {
                            return metrics->Render();
                          }));
  VMSCAN_LOG(INFO) << "metrics on " << (UsesTls(config.metrics().tls()) ? "https://" : "http://")
                   << metrics_endpoint_->address() << "/metrics";
  return absl::OkStatus();
}

void HostServer::ReportServing(bool serving) {
  serving_.store(serving);
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  // Each service by name too, so that a probe may ask for the one it depends on.
  for (const char* service : kServedServices) health->SetServingStatus(service, serving);
  health->SetServingStatus(serving);
}

void HostServer::StartRetention() {
  ControlPlane* control = control_.get();
  retention_ =
      std::make_unique<RetentionLoop>(backup_.get(), [control] { return control->ListSettings(); });
  retention_->Start();
}

void HostServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  // Agents keep WatchSettings streams open; end them so that Shutdown need not wait for them.
  if (agent_control_ != nullptr) agent_control_->Shutdown();
  // A reload under way is finished (its outcome kept); waiting ReloadEngine calls end.
  if (reloader_ != nullptr) reloader_->Stop();
  if (server_ != nullptr) {
    // NOT_SERVING for good (watchers are told at once), while scans in flight drain.
    serving_.store(false);
    server_->GetHealthCheckService()->Shutdown();
    server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  }
  if (pool_ != nullptr) pool_->Shutdown();
  if (scan_service_ != nullptr) scan_service_->Shutdown();
  if (server_ != nullptr) server_->Wait();
  if (control_pool_ != nullptr) control_pool_->Shutdown();
  if (engine_admin_ != nullptr) engine_admin_->Shutdown();
  if (retention_ != nullptr) retention_->Stop();
  metrics_endpoint_.reset();  // its callbacks read the parts below
  if (!memory_temp_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(memory_temp_dir_, ec);
  }
}

HostServer::~HostServer() { Shutdown(); }

}  // namespace vmscan
