// RunLoad: a closed-loop load generator. `concurrency` threads, each with its own Stream (one
// agent, one connection), take the corpus's messages in order and scan them one at a time until
// every message was scanned once or `max_time` ran out — bounded in count and in time.
//
//   RunStats stats = RunLoad(target, messages, {.concurrency = 8, .max_time = absl::Seconds(60)});
//
// The streams are opened (and connected) before the clock starts. Each reply is checked against
// what the corpus planted: a threat missed or a clean message flagged is counted, never hidden.
#ifndef VMSCAN_TESTS_BENCHMARKS_LOAD_RUNNER_H_
#define VMSCAN_TESTS_BENCHMARKS_LOAD_RUNNER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tests/benchmarks/corpus.h"
#include "tests/benchmarks/process.h"
#include "tests/benchmarks/target.h"

namespace vmscan::bench {

struct RunOptions {
  int concurrency = 1;
  absl::Duration max_time = absl::Seconds(120);
  MemorySampler* sampler = nullptr;  // watches the target's server process during the run
};

struct RunStats {
  int messages = 0;  // scanned (replied to, errors included)
  uint64_t bytes = 0;
  uint64_t uploaded_bytes = 0;  // of `bytes`, what the streams sent to the server
  double seconds = 0;
  bool truncated = false;  // max_time ran out before the corpus did
  std::vector<double> latency_ms;
  int clean = 0, infected = 0, unscannable = 0, errors = 0;
  int missed = 0;        // a planted threat not reported as infected
  int false_alarms = 0;  // a clean message reported infected or unscannable
  std::string first_problem;
  double client_cpu_s = 0;  // this process (load generator, or the scans themselves in-process)
  double server_cpu_s = 0;  // the target's server process
  ProcessMemory server_peak;

  double messages_per_s() const { return seconds > 0 ? messages / seconds : 0; }
  double mb_per_s() const { return seconds > 0 ? bytes / 1e6 / seconds : 0; }
};

RunStats RunLoad(Target& target, const std::vector<Message>& messages, const RunOptions& options);

// Percentile `p` (0..100) of `values`, nearest-rank; 0 when empty.
double Percentile(std::vector<double> values, double p);
double Median(std::vector<double> values);

}  // namespace vmscan::bench

#endif  // VMSCAN_TESTS_BENCHMARKS_LOAD_RUNNER_H_
