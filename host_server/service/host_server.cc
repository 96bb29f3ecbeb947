#include "host_server/service/host_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "host_server/backup/lmdb_backup_store.h"
#include "host_server/control/store/lmdb_control_store.h"
#include "host_server/engine/clamav_engine.h"
#include "host_server/engine/engine_temp_dir.h"
#include "host_server/engine/signatures.h"
#include "host_server/service/policy_retention.h"
#include "host_server/service/server_config.h"

namespace vmscan {
namespace {

constexpr char kOfficialSignaturesDir[] = "/var/lib/clamav";
constexpr absl::Duration kRetentionInterval = absl::Minutes(10);

absl::Status MakePrivateDir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create directory ", dir.string(), ": ", ec.message()));
  }
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  return absl::OkStatus();
}

// libclamav leaves per-scan directories behind when a process dies mid-scan; they hold decoded
// attachments, so they are removed at start-up. The directory itself stays: on a shared tmpfs
// its path must not be free for someone else to take, even for a moment.
absl::Status EmptyTempDir(const std::filesystem::path& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::filesystem::remove_all(entry.path(), ec);
  }
  return absl::OkStatus();
}

// Zeroes each limit of a VM that is not below the engine's (the engine enforces those itself,
// with its own exact semantics); what remains is applied per scan.
void OnlyTighterLimits(const v1::ScanLimits& engine, v1::PolicyLimits* vm) {
  auto keep_if_tighter = [](uint64_t engine_value, uint64_t vm_value) {
    return engine_value == 0 || vm_value < engine_value ? vm_value : 0;
  };
  vm->set_max_message_bytes(keep_if_tighter(engine.max_message_bytes(), vm->max_message_bytes()));
  vm->set_max_scan_bytes(keep_if_tighter(engine.max_scan_bytes(), vm->max_scan_bytes()));
  vm->set_max_file_bytes(keep_if_tighter(engine.max_file_bytes(), vm->max_file_bytes()));
  vm->set_max_recursion(keep_if_tighter(engine.max_recursion(), vm->max_recursion()));
  vm->set_max_files(keep_if_tighter(engine.max_files(), vm->max_files()));
  vm->set_max_scan_time_ms(keep_if_tighter(engine.max_scan_time_ms(), vm->max_scan_time_ms()));
}

std::string HostOf(const std::string& listen) {
  size_t colon = listen.rfind(':');
  return colon == std::string::npos ? listen : listen.substr(0, colon);
}

}  // namespace

absl::StatusOr<std::unique_ptr<HostServer>> HostServer::Start(const v1::ServerConfig& config) {
  VMSCAN_RETURN_IF_ERROR(ValidateServerConfig(config));
  std::unique_ptr<HostServer> server(new HostServer());
  const std::filesystem::path state_dir(config.state_dir());
  VMSCAN_RETURN_IF_ERROR(MakePrivateDir(state_dir));
  VMSCAN_ASSIGN_OR_RETURN(EngineTempDirChoice engine_tmp,
                          ChooseEngineTempDir(config.engine_temp_dir(), state_dir.string()));
  VMSCAN_RETURN_IF_ERROR(MakePrivateDir(engine_tmp.dir));
  VMSCAN_RETURN_IF_ERROR(EmptyTempDir(engine_tmp.dir));
  // A directory of ours in memory goes when the server stops; one on disk stays for the next.
  if (config.engine_temp_dir().empty() &&
      engine_tmp.dir !=
          (std::filesystem::absolute(state_dir) / "tmp").lexically_normal().string()) {
    server->memory_temp_dir_ = engine_tmp.dir;
  }

  VMSCAN_ASSIGN_OR_RETURN(SignatureSource signatures,
                          ChooseSignatures(config.signatures_dir(), kOfficialSignaturesDir,
                                           DefaultBundledSignaturesDir()));
  ClamavEngineOptions engine_options;
  engine_options.signatures_dir = signatures.dir;
  engine_options.temp_dir = engine_tmp.dir;
  engine_options.limits = config.limits();
  const absl::Time load_start = absl::Now();
  VMSCAN_ASSIGN_OR_RETURN(std::unique_ptr<ClamavEngine> engine, ClamavEngine::Load(engine_options));
  VMSCAN_LOG(INFO) << "loaded " << engine->signature_count() << " signatures from the "
                   << signatures.kind << " set in " << signatures.dir << " ("
                   << absl::ToInt64Milliseconds(absl::Now() - load_start) << " ms, version "
                   << engine->version() << "); scan temp files in " << engine_tmp.dir << " ("
                   << engine_tmp.why << ")";
  server->engines_ = std::make_unique<EngineSlot>(std::move(engine));

  LmdbBackupOptions backup_options;
  backup_options.dir = (state_dir / "backup").string();
  backup_options.max_age = absl::Hours(24) * config.backup().max_age_days();
  backup_options.max_total_bytes = config.backup().max_total_bytes();
  VMSCAN_ASSIGN_OR_RETURN(server->backup_, LmdbBackupStore::Open(backup_options));

  LmdbControlStoreOptions control_store_options;
  control_store_options.dir = (state_dir / "control").string();
  VMSCAN_ASSIGN_OR_RETURN(server->control_store_, LmdbControlStore::Open(control_store_options));
  ControlPlane::Options control_options;
  control_options.default_group = config.control().default_group();
  control_options.heartbeat_timeout = absl::Milliseconds(config.control().heartbeat_timeout_ms());
  control_options.defaults = DefaultVmSettings(config);
  VMSCAN_ASSIGN_OR_RETURN(server->control_,
                          ControlPlane::Create(server->control_store_.get(), control_options));

  ControlPlane* control = server->control_.get();
  server->scanner_ = std::make_unique<Scanner>(
      server->engines_.get(), server->backup_.get(), config.mail_antivirus(),
      [control, engine_limits = config.limits()](
          const v1::VmIdentity& vm) -> absl::StatusOr<v1::MailAntivirusSettings> {
        absl::StatusOr<v1::MailAntivirusSettings> settings = control->ScanSettings(vm);
        if (settings.ok()) OnlyTighterLimits(engine_limits, settings->mutable_limits());
        return settings;
      });
  server->pool_ = std::make_unique<WorkerPool>(static_cast<int>(config.workers()),
                                               static_cast<int>(config.queue_depth()), "scan");
  ScanServiceImpl::Options service_options;
  service_options.max_message_bytes = config.limits().max_message_bytes();
  service_options.request_deadline = absl::Milliseconds(config.scan_deadline_ms());
  service_options.max_inflight_bytes = config.max_inflight_bytes();
  server->scan_service_ = std::make_unique<ScanServiceImpl>(server->scanner_.get(),
                                                            server->pool_.get(), service_options);
  // Plaintext for now: the admin API answers loopback callers only (see admin_service.h).
  server->backup_admin_ = std::make_unique<BackupAdminService>(
      server->backup_.get(), std::make_unique<LoopbackAdminAuthorizer>(),
      BackupAdminService::Options());

  server->control_authorizer_ = std::make_unique<LoopbackAdminAuthorizer>();
  server->control_pool_ = std::make_unique<WorkerPool>(2, 1024, "control");
  server->inventory_admin_ = std::make_unique<InventoryAdminService>(
      control, server->control_authorizer_.get(), server->control_pool_.get());
  server->policy_admin_ = std::make_unique<PolicyAdminService>(
      control, server->control_authorizer_.get(), server->control_pool_.get());
  server->agent_control_ =
      std::make_unique<AgentControlService>(control, server->control_pool_.get());

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.listen(), grpc::InsecureServerCredentials(), &server->port_);
  builder.RegisterService(server->scan_service_.get());
  builder.RegisterService(server->backup_admin_.get());
  builder.RegisterService(server->inventory_admin_.get());
  builder.RegisterService(server->policy_admin_.get());
  builder.RegisterService(server->agent_control_.get());
  // Chunks are small; this bounds what one ScanRequest may make the server allocate.
  builder.SetMaxReceiveMessageSize(8 << 20);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", config.listen(), " (address in use or invalid?)"));
  }
  server->address_ = absl::StrCat(HostOf(config.listen()), ":", server->port_);
  server->server_->GetHealthCheckService()->SetServingStatus(true);
  server->retention_thread_ = std::thread([s = server.get()] {
    while (!s->stop_retention_.WaitForNotificationWithTimeout(kRetentionInterval)) {
      absl::StatusOr<uint64_t> removed = s->backup_->EnforceRetention();
      if (!removed.ok()) {
        VMSCAN_LOG(WARNING) << "backup retention failed: " << removed.status();
      } else if (*removed > 0) {
        VMSCAN_LOG(INFO) << "backup retention removed " << *removed << " records";
      }
      absl::StatusOr<uint64_t> by_policy =
          EnforcePolicyRetention(*s->backup_, *s->control_, absl::Now());
      if (!by_policy.ok()) {
        VMSCAN_LOG(WARNING) << "backup retention by policy failed: " << by_policy.status();
      }
    }
  });
  VMSCAN_LOG(INFO) << "vmscan-server listening on " << server->address_ << " with "
                   << config.workers() << " workers, queue " << config.queue_depth();
  return server;
}

void HostServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  // Agents keep WatchSettings streams open; end them so that Shutdown need not wait for them.
  if (agent_control_ != nullptr) agent_control_->Shutdown();
  if (server_ != nullptr) {
    server_->GetHealthCheckService()->SetServingStatus(false);
    server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  }
  if (pool_ != nullptr) pool_->Shutdown();
  if (server_ != nullptr) server_->Wait();
  if (control_pool_ != nullptr) control_pool_->Shutdown();
  stop_retention_.Notify();
  if (retention_thread_.joinable()) retention_thread_.join();
  if (!memory_temp_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(memory_temp_dir_, ec);
  }
}

HostServer::~HostServer() { Shutdown(); }

}  // namespace vmscan
