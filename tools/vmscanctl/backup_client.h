// BackupClient: vmscanctl's side of vmscan.v1.BackupAdmin (protos/vmscan/v1/admin.proto).
//
//   std::unique_ptr<BackupClient> client =
//       BackupClient::Create(ServerTarget());
//   absl::StatusOr<v1::BackupRecord> record = client->Get(id);
//   if (absl::IsUnavailable(record.status())) ...  // the server cannot be reached
//
// Every call has a deadline of `timeout` from its start, connecting included. A server that
// cannot be reached (refused, no route, not connected within the timeout) is reported as
// Unavailable naming the address, before any request is sent; every other error is the server's
// status, unchanged. Thread-safe: calls share one channel and hold no other state.
#ifndef VMSCAN_TOOLS_VMSCANCTL_BACKUP_CLIENT_H_
#define VMSCAN_TOOLS_VMSCANCTL_BACKUP_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tools/vmscanctl/server_channel.h"
#include "vmscan/v1/admin.grpc.pb.h"

namespace vmscan {

class BackupClient {
 public:
  static std::unique_ptr<BackupClient> Create(const ServerTarget& target);

  absl::StatusOr<v1::ListBackupsResponse> List(const v1::BackupFilter& filter);
  absl::StatusOr<v1::BackupRecord> Get(const std::string& id);

  // Streams the original of `id` into `sink`, chunk by chunk, and returns its record once the
  // bytes received are verified against the record's size and SHA-256 (DataLoss naming the id
  // if they do not match). An error returned by `sink` stops the export (the call is cancelled)
  // and is returned as is, so that the caller can tell a local write failure from the server's.
  // On any error the sink may already have received part of the message.
  absl::StatusOr<v1::BackupRecord> Export(const std::string& id,
                                          absl::FunctionRef<absl::Status(absl::string_view)> sink);

  // Sends the original of `id` back to its VM (BackupAdmin.RestoreBackup): the record with the
  // new pending RestoreEvent last.
  absl::StatusOr<v1::BackupRecord> Restore(const std::string& id);
  absl::Status Delete(const std::string& id);
  // Returns how many records were removed.
  absl::StatusOr<uint64_t> Purge(const v1::PurgeBackupsRequest& request);
  absl::StatusOr<v1::BackupStats> Stats();

  const std::string& server() const { return channel_.server(); }

 private:
  explicit BackupClient(const ServerTarget& target);

  absl::Status Prepare(grpc::ClientContext& context) { return channel_.Prepare(context); }

  ServerChannel channel_;
  std::unique_ptr<v1::BackupAdmin::Stub> stub_;
};

}  // namespace vmscan

#endif  // VMSCAN_TOOLS_VMSCANCTL_BACKUP_CLIENT_H_
