// VmBackupClient: the VM's own view of its Backup records on its SVMs (vmscan.v1.BackupAdmin,
// which answers a VM's certificate with that VM's records only), and restoring one of them to
// disk: `vmscan-agent backup list|restore`, and restores an administrator sends
// (HeartbeatResponse.pending_restores, handled by ControlLoop).
//
//   std::unique_ptr<VmBackupClient> client = VmBackupClient::Create(agent_config);
//   absl::StatusOr<RestoredFile> file = client->Restore(id, "/var/lib/vmscan/agent/restored");
//
// Backups stay on the SVM that made them: List asks every configured SVM, Restore tries them in
// order until one has the record. Restore writes <dir>/<id>.eml (mode 0600, the directory 0700)
// through a temporary file that is checked against the record's size and SHA-256 and synced
// before it is renamed into place, then reports it written (ConfirmRestore), which the record
// keeps. Thread-safe.
#ifndef VMSCAN_GUEST_AGENT_BACKUP_VM_BACKUP_CLIENT_H_
#define VMSCAN_GUEST_AGENT_BACKUP_VM_BACKUP_CLIENT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "vmscan/v1/admin.grpc.pb.h"
#include "vmscan/v1/config.pb.h"

namespace vmscan {

struct RestoredFile {
  std::string path;
  std::string server;  // the SVM that held the record
  v1::BackupRecord record;
};

class VmBackupClient {
 public:
  static std::unique_ptr<VmBackupClient> Create(const v1::AgentConfig& config);

  // This VM's records on every SVM, newest first; `servers_failed` names the SVMs that did not
  // answer (their records are missing from the list). Unavailable when none answered.
  absl::StatusOr<std::vector<v1::BackupRecord>> List(std::vector<std::string>* servers_failed);

  absl::StatusOr<RestoredFile> Restore(const std::string& id, const std::string& dir);

  // `restore_dir`, else <state_dir>/restored.
  static std::string RestoreDir(const v1::AgentConfig& config);

 private:
  struct Server {
    std::string address;
    std::unique_ptr<v1::BackupAdmin::Stub> stub;
  };
  VmBackupClient() = default;
  absl::StatusOr<RestoredFile> RestoreFrom(const Server& server, const std::string& id,
                                           const std::string& dir) const;

  absl::Status setup_error_;
  std::vector<Server> servers_;
  absl::Duration timeout_ = absl::Minutes(5);
};

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_BACKUP_VM_BACKUP_CLIENT_H_
