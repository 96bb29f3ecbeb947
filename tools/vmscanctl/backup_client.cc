#include "tools/vmscanctl/backup_client.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/sha256.h"
#include "common/status_macros.h"

namespace vmscan {

std::unique_ptr<BackupClient> BackupClient::Create(const ServerTarget& target) {
  return std::unique_ptr<BackupClient>(new BackupClient(target));
}

BackupClient::BackupClient(const ServerTarget& target)
    : channel_(target), stub_(v1::BackupAdmin::NewStub(channel_.channel())) {}

absl::StatusOr<v1::ListBackupsResponse> BackupClient::List(const v1::BackupFilter& filter) {
  grpc::ClientContext context;
  VMSCAN_RETURN_IF_ERROR(Prepare(context));
  v1::ListBackupsRequest request;
  *request.mutable_filter() = filter;
  v1::ListBackupsResponse response;
  VMSCAN_RETURN_IF_ERROR(FromGrpcStatus(stub_->ListBackups(&context, request, &response)));
  return response;
}

absl::StatusOr<v1::BackupRecord> BackupClient::Get(const std::string& id) {
  grpc::ClientContext context;
  VMSCAN_RETURN_IF_ERROR(Prepare(context));
  v1::GetBackupRequest request;
  request.set_id(id);
  v1::BackupRecord record;
  VMSCAN_RETURN_IF_ERROR(FromGrpcStatus(stub_->GetBackup(&context, request, &record)));
  return record;
}

absl::StatusOr<v1::BackupRecord> BackupClient::Export(
    const std::string& id, absl::FunctionRef<absl::Status(absl::string_view)> sink) {
  grpc::ClientContext context;
  VMSCAN_RETURN_IF_ERROR(Prepare(context));
  v1::ExportBackupRequest request;
  request.set_id(id);
  std::unique_ptr<grpc::ClientReader<v1::ExportBackupResponse>> reader =
      stub_->ExportBackup(&context, request);

  // The first local problem (a sink failure, a stream that breaks its contract) wins over the
  // CANCELLED status that cancelling the call then produces.
  absl::Status local;
  bool have_record = false;
  v1::BackupRecord record;
  uint64_t received = 0;
  Sha256 hash;
  v1::ExportBackupResponse message;
  while (local.ok() && reader->Read(&message)) {
    if (!have_record) {
      if (!message.has_record()) {
        local = absl::DataLossError(
            absl::StrCat("export of backup ", id, ": the server sent data before the record"));
        break;
      }
      record = std::move(*message.mutable_record());
      have_record = true;
    }
    const std::string& chunk = message.chunk();
    if (chunk.empty()) continue;
    received += chunk.size();
    if (received > record.size()) {
      local = absl::DataLossError(absl::StrCat("export of backup ", id, ": received more than the ",
                                               record.size(), " bytes the record announces"));
      break;
    }
    hash.Update(chunk);
    local = sink(chunk);
  }
  if (!local.ok()) {
    context.TryCancel();
    (void)reader->Finish();
    return local;
  }
  VMSCAN_RETURN_IF_ERROR(FromGrpcStatus(reader->Finish()));
  if (!have_record) {
    return absl::DataLossError(absl::StrCat("export of backup ", id, ": the server sent nothing"));
  }
  const std::string sha256 = hash.FinishHex();
  if (received != record.size() || sha256 != record.sha256()) {
    return absl::DataLossError(absl::StrCat(
        "export of backup ", id, ": received ", received, " bytes with SHA-256 ", sha256,
        ", the record says ", record.size(), " bytes with SHA-256 ", record.sha256()));
  }
  return record;
}

absl::StatusOr<v1::BackupRecord> BackupClient::Restore(const std::string& id) {
  grpc::ClientContext context;
  VMSCAN_RETURN_IF_ERROR(Prepare(context));
  v1::RestoreBackupRequest request;
  request.set_id(id);
  v1::RestoreBackupResponse response;
  VMSCAN_RETURN_IF_ERROR(FromGrpcStatus(stub_->RestoreBackup(&context, request, &response)));
  return std::move(*response.mutable_record());
}

absl::Status BackupClient::Delete(const std::string& id) {
  grpc::ClientContext context;
  VMSCAN_RETURN_IF_ERROR(Prepare(context));
  v1::DeleteBackupRequest request;
  request.set_id(id);
  v1::DeleteBackupResponse response;
  return FromGrpcStatus(stub_->DeleteBackup(&context, request, &response));
}

absl::StatusOr<uint64_t> BackupClient::Purge(const v1::PurgeBackupsRequest& request) {
  grpc::ClientContext context;
  VMSCAN_RETURN_IF_ERROR(Prepare(context));
  v1::PurgeBackupsResponse response;
  VMSCAN_RETURN_IF_ERROR(FromGrpcStatus(stub_->PurgeBackups(&context, request, &response)));
  return response.removed();
}

absl::StatusOr<v1::BackupStats> BackupClient::Stats() {
  grpc::ClientContext context;
  VMSCAN_RETURN_IF_ERROR(Prepare(context));
  v1::BackupStats stats;
  VMSCAN_RETURN_IF_ERROR(
      FromGrpcStatus(stub_->GetBackupStats(&context, v1::GetBackupStatsRequest(), &stats)));
  return stats;
}

}  // namespace vmscan
