// The benchmark's results: every measured cell (one system, one concurrency, one workload, over
// repetitions), engine loads, memory, the machine — rendered as Markdown tables (ratios to the
// in-process ceiling and to clamd, target checks) and as JSON for tracking.
//
//   Results results;
//   results.Add("mixed", "vmscan", 8, stats);
//   std::cout << RenderTables(results);
//   WriteFile(out, RenderJson(results));
#ifndef VMSCAN_TESTS_BENCHMARKS_RESULTS_H_
#define VMSCAN_TESTS_BENCHMARKS_RESULTS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "tests/benchmarks/load_runner.h"
#include "tests/benchmarks/process.h"

namespace vmscan::bench {

struct Cell {
  std::string workload;  // "mixed", "2KB", ..., "vdi", "sigs:<label>"
  std::string system;    // "ceiling", "pipeline", "vmscan", "clamd"
  int concurrency = 1;   // threads (in-process) or streams
  std::vector<RunStats> reps;

  double MsgsPerS() const;  // median over repetitions
  double MbPerS() const;
  double Latency(double percentile) const;  // over the latencies of all repetitions
  double CpuMsPerMsg() const;  // server process, or this process for the in-process systems
  double ClientCores() const;  // average cores the load generator used (remote systems)
  int Messages() const;        // per repetition (first)
  int Problems() const;        // errors + missed threats + false alarms
  std::string FirstProblem() const;
  bool Truncated() const;
  int64_t PeakRssKb() const;
  // Bytes the streams sent to the server ÷ the corpus bytes, over all repetitions; NaN for
  // in-process systems.
  double UploadedShare() const;
};

struct PeerLoad {
  std::string system;  // "ceiling" (in-process), "vmscan", "clamd"
  std::string signatures_label;
  int64_t signatures = 0;
  double ready_s = 0;          // process start → serving (in-process: ClamavEngine::Load)
  double engine_load_ms = -1;  // vmscan-server's own log line
  ProcessMemory after_load;    // in-process: the growth of this process
  int64_t peak_rss_kb = 0;     // VmHWM when the peer was stopped
};

struct AgentMemory {
  int64_t version_kb = 0;     // `vmscan-agent --version`: the binary and its libraries
  int64_t idle_kb = 0;        // `vmscan-agent scan` of a 2 KB message
  int64_t loaded_kb = 0;      // max over the agents scanning large messages concurrently
  ProcessMemory idle_sample;  // the breakdown at the highest sample
  ProcessMemory loaded_sample;
  size_t large_bytes = 0;
  int concurrent = 0;
  int runs = 0;
  int failures = 0;
  std::string first_failure;
};

struct Results {
  std::map<std::string, std::string> machine;  // ordered keys for stable output
  std::map<std::string, std::string> config;
  std::vector<Cell> cells;
  std::vector<PeerLoad> loads;
  AgentMemory agent;
  AgentMemory agent_mtls;  // the same with mutual TLS towards the SVM (phase tls)
  std::vector<std::string> notes;

  void Add(const std::string& workload, const std::string& system, int concurrency, RunStats stats);
  const Cell* Find(const std::string& workload, const std::string& system, int concurrency) const;
  // The cell's median msg/s; NaN when it was not measured.
  double Throughput(const std::string& workload, const std::string& system, int concurrency) const;
  // Workloads whose name starts with `prefix`, in the order they were first measured.
  std::vector<std::string> WorkloadsWithPrefix(absl::string_view prefix) const;
};

struct TargetCheck {
  std::string name;
  std::string measured;
  bool met = false;
  bool measured_ok = true;  // false: the cells needed were not measured
};
std::vector<TargetCheck> CheckTargets(const Results& results);

// a ÷ b; NaN when b is not positive or a is negative.
double Ratio(double a, double b);
// The ceiling a run at `concurrency` streams is compared with: as many engine threads as it can
// keep busy, at most the number of workers the service has (2).
int CeilingThreads(int concurrency);

std::string RenderTables(const Results& results);  // results_tables.cc
std::string RenderJson(const Results& results);

}  // namespace vmscan::bench

#endif  // VMSCAN_TESTS_BENCHMARKS_RESULTS_H_
