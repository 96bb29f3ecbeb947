// BackupAdminService: the administrator's face of the BackupStore (vmscan.v1.BackupAdmin in
// protos/vmscan/v1/admin.proto; callback API), used by `vmscanctl backup ...`.
//
//   auto service = std::make_unique<BackupAdminService>(store, &authorizer,
//                                                       BackupAdminService::Options());
//   builder.RegisterService(service.get());
//
// Threading: store calls block on disk (a delete or purge waits for an fsync'ed LMDB commit, an
// export decompresses and hashes up to a whole 50 MiB message), and gRPC's callback threads are
// shared with the ScanService reactions, so no store call runs on a gRPC thread. Each call is
// handed to the service's own small WorkerPool, whose thread calls Finish (unary) or starts the
// writes (export). A separate pool, rather than the scan pool, so that admin work never takes a
// scan worker and a scan backlog never locks the administrator out. Its queue is bounded: beyond
// it a call fails with RESOURCE_EXHAUSTED.
//
// Authorization: every call first goes through the Authorizer (host_server/auth: who may call
// which RPC, the caller from its certificate); the caller's AdminScope then limits what it
// reaches, enforced here: a VM lists, shows and exports only its own records and gets NOT_FOUND
// for anyone else's (existence does not leak), and confirms restores of its own records only.
// Restore: an administrator's RestoreBackup adds a pending RestoreEvent; the VM's agent sees it
// in its heartbeat (AgentControl), exports the original and calls ConfirmRestore.
//
// Thread-safe. The store must outlive the service; the service must outlive the grpc::Server it
// is registered with (the server's Shutdown waits for the calls in flight, which this service's
// threads finish). The destructor finishes the calls already accepted, then joins its threads.
#ifndef VMSCAN_HOST_SERVER_SERVICE_ADMIN_SERVICE_H_
#define VMSCAN_HOST_SERVER_SERVICE_ADMIN_SERVICE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "host_server/auth/authorizer.h"
#include "host_server/backup/backup_store.h"
#include "host_server/scan/worker_pool.h"
#include "vmscan/v1/admin.grpc.pb.h"

namespace vmscan {

// What one caller of the admin API may reach.
struct AdminScope {
  // Empty: an administrator, who reaches every record and the whole-store methods. Otherwise the
  // VmIdentity.id of the only VM whose records the caller reaches.
  std::string vm_id;
  std::string who;  // the caller, for logs and RestoreEvent.requested_by

  bool is_admin() const { return vm_id.empty(); }
  static AdminScope Of(const Caller& caller);
};

class BackupAdminService final : public v1::BackupAdmin::CallbackService {
 public:
  struct Options {
    int threads = 2;       // admin calls running at once.
    int queue_depth = 32;  // admin calls waiting for a thread; beyond: RESOURCE_EXHAUSTED.
    size_t export_chunk_bytes = size_t{1} << 20;  // bytes per ExportBackupResponse.chunk.
    uint32_t max_list_limit = 10000;              // largest BackupFilter.limit accepted.
    // Exports streaming at once. Each holds its whole original (up to max_message_bytes) in
    // memory until the client has read it; beyond the limit: RESOURCE_EXHAUSTED.
    int max_concurrent_exports = 8;
  };

  // `store` and `authorizer` must outlive the service.
  BackupAdminService(BackupStore* store, const Authorizer* authorizer, Options options);
  ~BackupAdminService() override;
  BackupAdminService(const BackupAdminService&) = delete;
  BackupAdminService& operator=(const BackupAdminService&) = delete;

  grpc::ServerUnaryReactor* ListBackups(grpc::CallbackServerContext* context,
                                        const v1::ListBackupsRequest* request,
                                        v1::ListBackupsResponse* response) override;
  grpc::ServerUnaryReactor* GetBackup(grpc::CallbackServerContext* context,
                                      const v1::GetBackupRequest* request,
                                      v1::BackupRecord* response) override;
  grpc::ServerWriteReactor<v1::ExportBackupResponse>* ExportBackup(
      grpc::CallbackServerContext* context, const v1::ExportBackupRequest* request) override;
  grpc::ServerUnaryReactor* DeleteBackup(grpc::CallbackServerContext* context,
                                         const v1::DeleteBackupRequest* request,
                                         v1::DeleteBackupResponse* response) override;
  grpc::ServerUnaryReactor* PurgeBackups(grpc::CallbackServerContext* context,
                                         const v1::PurgeBackupsRequest* request,
                                         v1::PurgeBackupsResponse* response) override;
  grpc::ServerUnaryReactor* GetBackupStats(grpc::CallbackServerContext* context,
                                           const v1::GetBackupStatsRequest* request,
                                           v1::BackupStats* response) override;
  grpc::ServerUnaryReactor* RestoreBackup(grpc::CallbackServerContext* context,
                                          const v1::RestoreBackupRequest* request,
                                          v1::RestoreBackupResponse* response) override;
  grpc::ServerUnaryReactor* ConfirmRestore(grpc::CallbackServerContext* context,
                                           const v1::ConfirmRestoreRequest* request,
                                           v1::BackupRecord* response) override;

 private:
  // Authorizes the call, then runs `body` with the caller's scope on the pool and finishes the
  // call with its status. `body` may use the request and response until it returns.
  template <typename Body>
  grpc::ServerUnaryReactor* RunUnary(grpc::CallbackServerContext* context, absl::string_view method,
                                     Body body);

  BackupStore* const store_;
  const Authorizer* const authorizer_;
  const Options options_;
  std::atomic<int> exports_in_flight_{0};  // ExportReactors alive; each decrements in OnDone.
  WorkerPool pool_;
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_SERVICE_ADMIN_SERVICE_H_
