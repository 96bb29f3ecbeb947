// `vmscan-agent backup list|restore ID`: the VM's own Backup records, through its certificate
// (docs/security.md): list them, or bring one original back as <restore_dir>/<ID>.eml (mode
// 0600), which the SVM records in the record. Streams are injected so that tests can run it
// in-process.
#ifndef VMSCAN_GUEST_AGENT_COMMANDS_BACKUP_COMMAND_H_
#define VMSCAN_GUEST_AGENT_COMMANDS_BACKUP_COMMAND_H_

#include <iosfwd>
#include <string>
#include <vector>

namespace vmscan {

enum BackupExitCode {
  kBackupExitOk = 0,
  kBackupExitNotFound = 1,      // no such record of this VM on any SVM
  kBackupExitNoScanner = 3,     // no SVM reachable
  kBackupExitFailed = 4,        // an SVM refused or failed, or the copy arrived damaged
  kBackupExitUsage = 64,        // bad command line or config
  kBackupExitCannotWrite = 74,  // the restore directory cannot be written
};

extern const char kBackupUsage[];

// `args` are the words after "backup".
int RunBackupCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_COMMANDS_BACKUP_COMMAND_H_
