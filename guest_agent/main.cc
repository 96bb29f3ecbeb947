// vmscan-agent: the guest agent of a protected VM. Thin dispatch over the agent libraries.
#include <malloc.h>
#include <signal.h>

#include <iostream>
#include <string>
#include <vector>

#include "guest_agent/cli/scan_command.h"
#include "guest_agent/control/settings_command.h"
#include "guest_agent/runner/run_command.h"

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
  --help, --version
)";

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
  std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "scan") return vmscan::RunScanCommand(args, std::cin, std::cout, std::cerr);
  if (command == "run") return vmscan::RunAgentCommand(args, std::cout, std::cerr);
  if (command == "settings") return vmscan::RunSettingsCommand(args, std::cout, std::cerr);
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (command == "--version") {
    std::cout << "vmscan-agent " << VMSCAN_VERSION << "\n";
    return 0;
  }
  std::cerr << "vmscan-agent: unknown command '" << command << "'\n\n" << kUsage;
  return vmscan::kExitUsage;
}
