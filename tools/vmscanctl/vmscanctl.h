// vmscanctl: the administrator's command line for an SVM's host server (docs/design.md §4-§7):
// Backup (`vmscanctl backup ...`) over vmscan.v1.BackupAdmin; groups, VMs, policies and assignment
// rules (`vmscanctl groups|vms|policy|rules ...`) over vmscan.v1.InventoryAdmin and PolicyAdmin.
// Each area's commands live in its *_commands.cc (cli.h). Streams are injected so that tests
// can run it in-process; main.cc only passes the process's own.
#ifndef VMSCAN_TOOLS_VMSCANCTL_VMSCANCTL_H_
#define VMSCAN_TOOLS_VMSCANCTL_VMSCANCTL_H_

#include <iosfwd>
#include <string>
#include <vector>

namespace vmscan {

// Exit codes of vmscanctl, documented in kVmscanctlUsage.
enum CtlExitCode {
  kCtlOk = 0,
  kCtlNotFound = 1,      // no such backup record, group, VM or rule
  kCtlServerError = 2,   // the server failed or refused, or the record is damaged (data loss)
  kCtlUnreachable = 3,   // the server cannot be reached: nothing was done
  kCtlUsage = 64,        // bad command line, or a request the server calls malformed
  kCtlCannotWrite = 74,  // the output (-o FILE or standard output) cannot be written
};

extern const char kVmscanctlUsage[];

// `args` are the words after the program name.
int RunVmscanctl(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace vmscan

#endif  // VMSCAN_TOOLS_VMSCANCTL_VMSCANCTL_H_
