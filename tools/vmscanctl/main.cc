// vmscanctl: the administrator's CLI of vmscan. Everything but the process's streams and
// signals lives in vmscanctl_lib (tools/vmscanctl/vmscanctl.h), which the tests share.
#include <signal.h>

#include <iostream>
#include <string>
#include <vector>

#include "tools/vmscanctl/vmscanctl.h"

int main(int argc, char** argv) {
  // A closed standard output (`vmscanctl backup list | head -1`) becomes exit code 74 with a
  // message, instead of a silent death by SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  std::ios::sync_with_stdio(false);
  std::vector<std::string> args(argv + 1, argv + argc);
  return vmscan::RunVmscanctl(args, std::cout, std::cerr);
}
