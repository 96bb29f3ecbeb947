// vmscan-agent: the guest agent of a protected VM. Thin dispatch over the agent's commands
// (guest_agent/commands/): only the process's streams, signals and allocator settings live here.
#include <malloc.h>
#include <signal.h>

#include <iostream>
#include <string>
#include <vector>

#include "guest_agent/commands/backup_command.h"
#include "guest_agent/commands/run_command.h"
#include "guest_agent/commands/scan_command.h"
#include "guest_agent/commands/settings_command.h"
#include "guest_agent/commands/status_command.h"

namespace {

constexpr char kUsage[] = R"(Usage: vmscan-agent COMMAND [options]

The vmscan guest agent: hands this VM's mail to the SVM of its host for scanning.

Commands:
  scan [FILE|-]   scan one message and print the verdict and action (see 'scan --help')
  run             run the SMTP proxy and/or milter of the config until SIGTERM, registered with
                  the SVM and following its settings (see 'run --help')
  settings show|set
                  this VM's Mail Anti-Virus settings: effective values and where they come from;
                  change the local ones (see 'settings --help')
  status          which SVM this VM's mail goes to, and why (see 'status --help')
  backup list|restore ID
                  this VM's Backup records on its SVMs; bring an original back (see
                  'backup --help')
  --help, --version
)";

// The commands, each given the words after its name and the process's streams.
struct Command {
  const char* name;
  int (*run)(const std::vector<std::string>& args);
};
constexpr Command kCommands[] = {
    {"scan",
     [](const std::vector<std::string>& args) {
       return vmscan::RunScanCommand(args, std::cin, std::cout, std::cerr);
     }},
    {"run",
     [](const std::vector<std::string>& args) {
       return vmscan::RunAgentCommand(args, std::cout, std::cerr);
     }},
    {"settings",
     [](const std::vector<std::string>& args) {
       return vmscan::RunSettingsCommand(args, std::cout, std::cerr);
     }},
    {"status",
     [](const std::vector<std::string>& args) {
       return vmscan::RunStatusCommand(args, std::cout, std::cerr);
     }},
    {"backup",
     [](const std::vector<std::string>& args) {
       return vmscan::RunBackupCommand(args, std::cout, std::cerr);
     }},
};

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  // Message buffers (up to max_message_bytes) always come from mmap and go back to the kernel
  // when freed. With glibc's default the threshold grows to the largest buffer freed, after
  // which every later message lands in the heap and stays resident: a proxy that had relayed
  // two 10 MB messages kept 42 MiB.
  mallopt(M_MMAP_THRESHOLD, 256 << 10);
  if (argc < 2) {
    std::cerr << kUsage;
    return vmscan::kExitUsage;
  }
  const std::string word = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  for (const Command& command : kCommands) {
    if (word == command.name) return command.run(args);
  }
  if (word == "--help" || word == "-h" || word == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (word == "--version") {
    std::cout << "vmscan-agent " << VMSCAN_VERSION << "\n";
    return 0;
  }
  std::cerr << "vmscan-agent: unknown command '" << word << "'\n\n" << kUsage;
  return vmscan::kExitUsage;
}
