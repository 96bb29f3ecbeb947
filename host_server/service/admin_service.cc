#include "host_server/service/admin_service.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/grpc_status.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "host_server/backup/backup_id.h"

namespace vmscan {
namespace {

constexpr uint32_t kDefaultListLimit = 1000;  // what BackupStore::List uses for limit 0.

absl::Status NoRecord(absl::string_view id) {
  return absl::NotFoundError(absl::StrCat("no backup record ", id));
}

// The record `id` if `scope` reaches it. For a VM-scoped caller, someone else's record and a
// record whose owner cannot be read (damaged metadata) both look exactly like a missing one.
absl::StatusOr<v1::BackupRecord> ReachableRecord(BackupStore& store, const AdminScope& scope,
                                                 absl::string_view id) {
  VMSCAN_RETURN_IF_ERROR(ParseBackupId(id).status());
  absl::StatusOr<v1::BackupRecord> record = store.Get(id);
  if (scope.is_admin()) return record;
  if (!record.ok()) {
    if (absl::IsNotFound(record.status()) || absl::IsDataLoss(record.status())) {
      return NoRecord(id);
    }
    return record.status();
  }
  if (record->vm().id() != scope.vm_id) return NoRecord(id);
  return record;
}

absl::Status RequireAdministrator(const AdminScope& scope, absl::string_view what) {
  if (scope.is_admin()) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(what, " is for administrators only; VM ",
                                                  scope.vm_id,
                                                  " may list, show and export its own records"));
}

absl::Status ListRecords(BackupStore& store, const AdminScope& scope, uint32_t max_limit,
                         const v1::ListBackupsRequest& request, v1::ListBackupsResponse& response) {
  v1::BackupFilter filter = request.filter();
  if (filter.limit() > max_limit) {
    return absl::InvalidArgumentError(absl::StrCat("filter.limit ", filter.limit(),
                                                   " is above the maximum of ", max_limit,
                                                   "; page with filter.until_unix_micros"));
  }
  if (filter.since_unix_micros() < 0 || filter.until_unix_micros() < 0) {
    return absl::InvalidArgumentError(
        "filter.since_unix_micros and until_unix_micros must be >= 0");
  }
  if (!scope.is_admin()) {
    if (!filter.vm_id().empty() && filter.vm_id() != scope.vm_id) return absl::OkStatus();
    filter.set_vm_id(scope.vm_id);
  }
  const uint32_t limit = filter.limit() == 0 ? kDefaultListLimit : filter.limit();
  filter.set_limit(limit + 1);  // one more, to know whether the list was cut short.
  VMSCAN_ASSIGN_OR_RETURN(std::vector<v1::BackupRecord> records, store.List(filter));
  if (records.size() > limit) {
    records.resize(limit);
    response.set_next_until_unix_micros(records.back().created_unix_micros());
  }
  for (v1::BackupRecord& record : records) *response.add_records() = std::move(record);
  return absl::OkStatus();
}

absl::Status PurgeRecords(BackupStore& store, const AdminScope& scope, absl::string_view peer,
                          const v1::PurgeBackupsRequest& request,
                          v1::PurgeBackupsResponse& response) {
  VMSCAN_RETURN_IF_ERROR(RequireAdministrator(scope, "purging backups"));
  absl::Duration older_than;
  if (request.all()) {
    if (request.older_than_seconds() != 0) {
      return absl::InvalidArgumentError("purge: set either all or older_than_seconds, not both");
    }
    older_than = absl::ZeroDuration();  // BackupStore::Purge: zero removes every record.
  } else {
    if (request.older_than_seconds() <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("purge: older_than_seconds must be > 0 (got ", request.older_than_seconds(),
                       "); to remove every record, set all explicitly"));
    }
    older_than = absl::Seconds(request.older_than_seconds());
  }
  VMSCAN_ASSIGN_OR_RETURN(uint64_t removed, store.Purge(older_than));
  response.set_removed(removed);
  VMSCAN_LOG(INFO) << peer << " purged " << removed << " backup record(s) "
                   << (request.all()
                           ? std::string("(all)")
                           : absl::StrCat("older than ", request.older_than_seconds(), " s"));
  return absl::OkStatus();
}

// ExportBackup: loads the verified original on a pool thread, then writes the record and the
// chunks from gRPC's reactions. Only one thing touches the reactor at a time: the pool thread
// until its StartWrite or Finish, gRPC's OnWriteDone after that.
class ExportReactor final : public grpc::ServerWriteReactor<v1::ExportBackupResponse> {
 public:
  // Counts itself in `*in_flight` until OnDone.
  ExportReactor(grpc::CallbackServerContext* context, BackupStore* store, std::string id,
                size_t chunk_bytes, std::atomic<int>* in_flight)
      : context_(context),
        store_(store),
        id_(std::move(id)),
        chunk_bytes_(chunk_bytes),
        in_flight_(in_flight),
        others_in_flight_(in_flight->fetch_add(1)) {}

  // How many other exports were alive when this one was created.
  int others_in_flight() const { return others_in_flight_; }

  // Runs on a pool thread; must not touch the reactor after StartWrite or Finish.
  void Load(const AdminScope& scope) {
    if (context_->IsCancelled()) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "client went away before the export"));
      return;
    }
    absl::Status status = [&]() -> absl::Status {
      VMSCAN_ASSIGN_OR_RETURN(v1::BackupRecord record, ReachableRecord(*store_, scope, id_));
      VMSCAN_ASSIGN_OR_RETURN(original_, store_->GetOriginal(id_));
      *response_.mutable_record() = std::move(record);
      return absl::OkStatus();
    }();
    if (!status.ok()) {
      if (absl::IsDataLoss(status) || absl::IsInternal(status)) {
        VMSCAN_LOG(WARNING) << scope.who << ": export of backup " << id_ << " failed: " << status;
      }
      Finish(ToGrpcStatus(status));
      return;
    }
    VMSCAN_LOG(INFO) << scope.who << " exports backup " << id_ << " (" << original_.size()
                     << " bytes)";
    StartWrite(&response_);
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "client went away during the export"));
      return;
    }
    if (offset_ >= original_.size()) {
      Finish(grpc::Status::OK);
      return;
    }
    const size_t n = std::min(chunk_bytes_, original_.size() - offset_);
    response_.Clear();
    response_.set_chunk(original_.substr(offset_, n));
    offset_ += n;
    StartWrite(&response_);
  }

  void OnDone() override {
    in_flight_->fetch_sub(1);
    delete this;
  }

 private:
  grpc::CallbackServerContext* const context_;
  BackupStore* const store_;
  const std::string id_;
  const size_t chunk_bytes_;
  std::atomic<int>* const in_flight_;
  const int others_in_flight_;

  std::string original_;
  size_t offset_ = 0;
  v1::ExportBackupResponse response_;
};

}  // namespace

AdminScope AdminScope::Of(const Caller& caller) {
  AdminScope scope;
  if (!caller.administrator()) scope.vm_id = caller.name;
  scope.who = caller.Describe();
  return scope;
}

BackupAdminService::BackupAdminService(BackupStore* store, const Authorizer* authorizer,
                                       Options options)
    : store_(store),
      authorizer_(authorizer),
      options_(options),
      pool_(options.threads, options.queue_depth, "admin") {}

// Finishes the calls already queued (their reactors belong to a server that is shutting down
// and waits for them), then joins the threads.
BackupAdminService::~BackupAdminService() { pool_.Shutdown(); }

template <typename Body>
grpc::ServerUnaryReactor* BackupAdminService::RunUnary(grpc::CallbackServerContext* context,
                                                       absl::string_view method, Body body) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller = authorizer_->Authorize(*context, method);  // logs refusals
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  const bool queued = pool_.TrySubmit(
      [context, reactor, scope = AdminScope::Of(*caller), body = std::move(body)]() mutable {
        if (context->IsCancelled()) {
          reactor->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "client went away"));
          return;
        }
        reactor->Finish(ToGrpcStatus(body(scope)));
      });
  if (!queued) {
    reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "too many admin calls queued on this SVM; retry later"));
  }
  return reactor;
}

grpc::ServerUnaryReactor* BackupAdminService::ListBackups(grpc::CallbackServerContext* context,
                                                          const v1::ListBackupsRequest* request,
                                                          v1::ListBackupsResponse* response) {
  return RunUnary(context, "/vmscan.v1.BackupAdmin/ListBackups",
                  [this, request, response](const AdminScope& scope) {
                    return ListRecords(*store_, scope, options_.max_list_limit, *request,
                                       *response);
                  });
}

grpc::ServerUnaryReactor* BackupAdminService::GetBackup(grpc::CallbackServerContext* context,
                                                        const v1::GetBackupRequest* request,
                                                        v1::BackupRecord* response) {
  return RunUnary(context, "/vmscan.v1.BackupAdmin/GetBackup",
                  [this, request, response](const AdminScope& scope) -> absl::Status {
                    VMSCAN_ASSIGN_OR_RETURN(*response,
                                            ReachableRecord(*store_, scope, request->id()));
                    return absl::OkStatus();
                  });
}

grpc::ServerWriteReactor<v1::ExportBackupResponse>* BackupAdminService::ExportBackup(
    grpc::CallbackServerContext* context, const v1::ExportBackupRequest* request) {
  auto* reactor = new ExportReactor(context, store_, request->id(), options_.export_chunk_bytes,
                                    &exports_in_flight_);
  absl::StatusOr<Caller> caller =
      authorizer_->Authorize(*context, "/vmscan.v1.BackupAdmin/ExportBackup");
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
  } else if (reactor->others_in_flight() >= options_.max_concurrent_exports) {
    reactor->Finish(grpc::Status(
        grpc::StatusCode::RESOURCE_EXHAUSTED,
        absl::StrCat(reactor->others_in_flight(), " exports are already running on this SVM",
                     "; retry when one has finished")));
  } else if (!pool_.TrySubmit(
                 [reactor, scope = AdminScope::Of(*caller)] { reactor->Load(scope); })) {
    reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "too many admin calls queued on this SVM; retry later"));
  }
  return reactor;
}

grpc::ServerUnaryReactor* BackupAdminService::DeleteBackup(grpc::CallbackServerContext* context,
                                                           const v1::DeleteBackupRequest* request,
                                                           v1::DeleteBackupResponse* response) {
  (void)response;  // empty
  return RunUnary(
      context, "/vmscan.v1.BackupAdmin/DeleteBackup", [this, request](const AdminScope& scope) {
        const std::string& id = request->id();
        absl::Status status = [&]() -> absl::Status {
          // An administrator may delete a record whose metadata is damaged; a VM may not, since
          // nobody can tell whether it is the VM's own.
          if (!scope.is_admin())
            VMSCAN_RETURN_IF_ERROR(ReachableRecord(*store_, scope, id).status());
          return store_->Delete(id);  // InvalidArgument for a malformed id, NotFound for none.
        }();
        if (status.ok()) {
          VMSCAN_LOG(INFO) << scope.who << " deleted backup " << id;
        }
        return status;
      });
}

grpc::ServerUnaryReactor* BackupAdminService::PurgeBackups(grpc::CallbackServerContext* context,
                                                           const v1::PurgeBackupsRequest* request,
                                                           v1::PurgeBackupsResponse* response) {
  return RunUnary(context, "/vmscan.v1.BackupAdmin/PurgeBackups",
                  [this, request, response](const AdminScope& scope) {
                    return PurgeRecords(*store_, scope, scope.who, *request, *response);
                  });
}

grpc::ServerUnaryReactor* BackupAdminService::GetBackupStats(
    grpc::CallbackServerContext* context, const v1::GetBackupStatsRequest* request,
    v1::BackupStats* response) {
  (void)request;  // no parameters
  return RunUnary(
      context, "/vmscan.v1.BackupAdmin/GetBackupStats",
      [this, response](const AdminScope& scope) -> absl::Status {
        VMSCAN_RETURN_IF_ERROR(RequireAdministrator(scope, "reading the store's totals"));
        VMSCAN_ASSIGN_OR_RETURN(*response, store_->Stats());
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* BackupAdminService::RestoreBackup(grpc::CallbackServerContext* context,
                                                            const v1::RestoreBackupRequest* request,
                                                            v1::RestoreBackupResponse* response) {
  return RunUnary(
      context, "/vmscan.v1.BackupAdmin/RestoreBackup",
      [this, request, response](const AdminScope& scope) -> absl::Status {
        VMSCAN_RETURN_IF_ERROR(RequireAdministrator(scope, "sending a restore to a VM"));
        absl::StatusOr<v1::BackupRecord> record = ReachableRecord(*store_, scope, request->id());
        if (absl::IsDataLoss(record.status())) {
          return absl::FailedPreconditionError(
              absl::StrCat("backup ", request->id(),
                           " is damaged and cannot be restored: ", record.status().message()));
        }
        VMSCAN_RETURN_IF_ERROR(record.status());
        const int64_t now = absl::ToUnixMicros(absl::Now());
        VMSCAN_ASSIGN_OR_RETURN(
            *response->mutable_record(),
            store_->UpdateRestores(
                request->id(), [&](google::protobuf::RepeatedPtrField<v1::RestoreEvent>* restores) {
                  v1::RestoreEvent* event = restores->Add();
                  event->set_requested_by(scope.who);
                  event->set_requested_unix_micros(now);
                  return absl::OkStatus();
                }));
        VMSCAN_LOG(INFO) << scope.who << " sent backup " << request->id() << " back to VM "
                         << record->vm().id() << " (pending until its agent confirms)";
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* BackupAdminService::ConfirmRestore(
    grpc::CallbackServerContext* context, const v1::ConfirmRestoreRequest* request,
    v1::BackupRecord* response) {
  return RunUnary(
      context, "/vmscan.v1.BackupAdmin/ConfirmRestore",
      [this, request, response](const AdminScope& scope) -> absl::Status {
        VMSCAN_ASSIGN_OR_RETURN(v1::BackupRecord record,
                                ReachableRecord(*store_, scope, request->id()));
        if (request->sha256() != record.sha256()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "restore of ", request->id(), " not confirmed: SHA-256 ", request->sha256(),
              " of what was written is not the original's ", record.sha256()));
        }
        const int64_t now = absl::ToUnixMicros(absl::Now());
        VMSCAN_ASSIGN_OR_RETURN(
            *response,
            store_->UpdateRestores(
                request->id(), [&](google::protobuf::RepeatedPtrField<v1::RestoreEvent>* restores) {
                  v1::RestoreEvent* pending = nullptr;
                  for (v1::RestoreEvent& e : *restores) {
                    if (e.delivered_unix_micros() == 0) {
                      pending = &e;
                      break;
                    }
                  }
                  if (pending == nullptr) {  // the VM restored on its own initiative
                    pending = restores->Add();
                    pending->set_requested_by(scope.who);
                    pending->set_requested_unix_micros(now);
                  }
                  pending->set_delivered_unix_micros(now);
                  pending->set_delivered_to(request->written_to());
                  return absl::OkStatus();
                }));
        VMSCAN_LOG(INFO) << scope.who << " restored backup " << request->id() << " to "
                         << request->written_to();
        return absl::OkStatus();
      });
}

}  // namespace vmscan
