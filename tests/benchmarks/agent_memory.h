// Measures the memory of the real `vmscan-agent` binary: the bare process (--version), an idle
// scan (a 2 KB message) and scans of a large message by several agents at once against a busy
// vmscan-server. Peaks are ru_maxrss, taken through vmscan-bench-rusage (see rusage_main.cc for
// why not directly); the anon/file breakdown comes from /proc samples every 10 ms.
//
//   AgentMemory memory = MeasureAgentMemory({.agent_binary = ..., .server_address = ..., ...});
#ifndef VMSCAN_TESTS_BENCHMARKS_AGENT_MEMORY_H_
#define VMSCAN_TESTS_BENCHMARKS_AGENT_MEMORY_H_

#include <string>
#include <vector>

#include "tests/benchmarks/results.h"

namespace vmscan::bench {

struct AgentMemoryOptions {
  std::string agent_binary;
  std::string rusage_binary;  // vmscan-bench-rusage
  std::string server_address;
  std::string work_dir;
  std::string small_message;  // about 2 KB
  std::string large_message;  // the largest size class
  // More --set KEY=VALUE for every agent (mutual TLS: tls.*); with a certificate the VM's id
  // comes from it, so `vm_id_from_certificate` leaves vm.id unset.
  std::vector<std::string> extra_sets;
  bool vm_id_from_certificate = false;
  int concurrent = 8;
  int rounds = 2;
};

AgentMemory MeasureAgentMemory(const AgentMemoryOptions& options);

}  // namespace vmscan::bench

#endif  // VMSCAN_TESTS_BENCHMARKS_AGENT_MEMORY_H_
