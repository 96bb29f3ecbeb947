// BenchConfig: what one `vmscan-bench` run measures, from its command line. The defaults are the
// full run (about 10-15 minutes on 2 cores); --quick is a smoke run of every phase (~2 minutes).
#ifndef VMSCAN_TESTS_BENCHMARKS_BENCH_CONFIG_H_
#define VMSCAN_TESTS_BENCHMARKS_BENCH_CONFIG_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace vmscan::bench {

struct SizeClass {
  std::string label;  // "20KB"
  size_t bytes = 0;
  int count = 0;  // messages per repetition
};

struct SignaturePoint {
  std::string label;  // "1.1M"
  int64_t hashes = 0;
  int64_t bodies = 0;
};

struct BenchConfig {
  bool quick = false;
  uint64_t seed = 20240611;
  int reps = 3;
  int reps_single_stream = 2;  // the concurrency-1 round runs on one core: the slowest one
  int workers = 2;             // vmscan-server workers = clamd MaxThreads
  std::vector<int> concurrency = {1, 8, 64};
  int size_concurrency = 8;
  SignaturePoint main_signatures = {"1.1M", 1000000, 100000};
  std::vector<SignaturePoint> extra_signatures = {{"7 (bundled)", 0, 0}, {"110k", 100000, 10000}};
  int mixed_count = 64;
  double threat_share = 0.05;
  std::vector<SizeClass> sizes = {{"2KB", 2 << 10, 300},
                                  {"20KB", 20 << 10, 300},
                                  {"200KB", 200 << 10, 48},
                                  {"2MB", 2 << 20, 8},
                                  {"10MB", 10 << 20, 2}};
  int vdi_unique = 20;
  int vdi_copies = 50;
  int signature_corpus_count = 32;  // mixed messages up to 2 MB, for the signature points
  int agent_concurrent = 4;
  int agent_rounds = 1;
  absl::Duration run_limit = absl::Seconds(90);  // per run: the loop stops when it runs out

  std::string source_dir;
  std::string server_binary;
  std::string agent_binary;
  std::string rusage_binary;  // vmscan-bench-rusage, beside vmscan-bench
  std::string ctl_binary;     // vmscanctl, for the PKI of phase tls
  std::string clamd_binary = "/usr/sbin/clamd";
  std::vector<std::string> server_env;  // experiments: extra environment of vmscan-server
  std::vector<std::string> clamd_env;   // ... and of clamd
  std::string work_dir;  // empty: a fresh temp dir, removed at the end unless keep_work_dir
  bool keep_work_dir = false;
  // Where every peer's scan temp dir goes (the ceiling's, vmscan-server's engine_temp_dir,
  // clamd's TemporaryDirectory), so that all of them are on one filesystem. Empty: a fresh dir
  // on /dev/shm (tmpfs, vmscan-server's own default) when it is writable, else below the work dir.
  std::string temp_root;
  std::string json_out = "bench-results.json";
  std::string markdown_out = "bench-results.md";

  // Generator-only modes: write the corpus (one variant) or a signature set, then exit.
  std::string corpus_out;
  std::string signatures_out;
  // Diagnostic mode: where the pipeline's time goes beyond the raw scan (pipeline_profile.h).
  bool explain_pipeline = false;

  // Phases to run (--only): "mixed1", "mixed8", "mixed64", "sizes", "vdi", "sigs", "agent",
  // "tls".
  std::vector<std::string> phases = {"mixed1", "mixed8", "mixed64", "sizes",
                                     "vdi",    "sigs",   "agent",   "tls"};
  bool Runs(const std::string& phase) const;

  std::map<std::string, std::string> Describe() const;
};

// Returns the config, or an error (with the usage text) for a bad command line. `help` is set
// when --help was asked for.
absl::StatusOr<BenchConfig> ParseBenchFlags(int argc, char** argv, bool* help);
extern const char kBenchUsage[];

}  // namespace vmscan::bench

#endif  // VMSCAN_TESTS_BENCHMARKS_BENCH_CONFIG_H_
