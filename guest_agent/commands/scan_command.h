// `vmscan-agent scan FILE|-`: one message to the SVM, the verdict to the user, the message to
// deliver (original or disinfected) to --output. Streams are injected so tests run it in-process.
#ifndef VMSCAN_GUEST_AGENT_COMMANDS_SCAN_COMMAND_H_
#define VMSCAN_GUEST_AGENT_COMMANDS_SCAN_COMMAND_H_

#include <iosfwd>
#include <string>
#include <vector>

namespace vmscan {

// Exit codes of `vmscan-agent scan`, documented in its --help.
enum ScanExitCode {
  kExitClean = 0,         // clean: deliver
  kExitInfected = 1,      // a threat was found (see the action)
  kExitUnscannable = 2,   // could not be scanned completely
  kExitNoScanner = 3,     // no SVM reachable: hold the message, try again later
  kExitScanFailed = 4,    // the SVM refused or failed the scan (too large, busy, error)
  kExitUsage = 64,        // bad command line or config
  kExitBadInput = 65,     // the input cannot be read or is empty
  kExitCannotWrite = 74,  // --output could not be written
};

extern const char kScanUsage[];

// `args` are the words after "scan".
int RunScanCommand(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
                   std::ostream& err);

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_COMMANDS_SCAN_COMMAND_H_
