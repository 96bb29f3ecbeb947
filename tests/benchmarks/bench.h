// Bench: one run of the benchmark suite — generates the signature set and the corpora, starts
// the peers (in-process engines, vmscan-server, clamd), runs the rounds that compare them, measures
// memory, and writes the Markdown tables and the JSON (results.h). See BENCHMARKS.md.
//
//   Bench bench(config);
//   absl::Status status = bench.Run();
//
// Not thread-safe: one Run() at a time. The peers are stopped, by their own pid, before Run()
// returns, also on errors (their owners' destructors).
#ifndef VMSCAN_TESTS_BENCHMARKS_BENCH_H_
#define VMSCAN_TESTS_BENCHMARKS_BENCH_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/benchmarks/bench_config.h"
#include "tests/benchmarks/clamd_target.h"
#include "tests/benchmarks/corpus.h"
#include "tests/benchmarks/inprocess_target.h"
#include "tests/benchmarks/process.h"
#include "tests/benchmarks/results.h"
#include "tests/benchmarks/vmscan_target.h"

namespace vmscan::bench {

class Bench {
 public:
  explicit Bench(BenchConfig config) : config_(std::move(config)) {}
  absl::Status Run();

 private:
  struct Entry {
    Target* target;
    int concurrency;
    MemorySampler* sampler;
  };

  void Log(const std::string& text);
  // A fresh variant of `plan`: bytes no peer has seen.
  std::vector<Message> Build(const std::vector<MessageSpec>& plan);
  absl::StatusOr<std::string> WriteSignatures(const SignaturePoint& point);
  absl::Status MakeTempRoot();
  absl::Status StartPeers(const SignaturePoint& point, const std::string& dir);
  void StopPeers(const SignaturePoint& point);
  // Runs every entry on the same messages, `reps` times with fresh bytes each time. With
  // `largest_first`, messages are sent in decreasing size, so that a run does not end with one
  // large message on one worker while the other idles (an artifact of a finite run).
  void Round(const std::string& workload, const std::vector<MessageSpec>& plan,
             const std::vector<Entry>& entries, int reps, bool largest_first);
  void Describe();
  CorpusOptions MixedOptions() const;
  void MixedPhases();
  void SizePhases();
  void VdiPhase();
  void SignaturePhase(const SignaturePoint& point);
  void AgentPhase();
  // A vmscan-server as every phase starts it: this run's binary, workers, env, a fresh work dir
  // (`name`-N) and scan temp dir.
  VmscanServerOptions ServerOptions(const std::string& signatures_dir, const std::string& name);
  // Mutual TLS: a PKI from vmscanctl, a second vmscan-server with it; the mixed corpus at 8
  // streams through both servers and clamd in one round; the agent's memory with TLS.
  absl::Status TlsPhase(const std::string& signatures_dir);

  BenchConfig config_;
  Results results_;
  absl::Time start_ = absl::Now();
  uint64_t next_variant_ = 1;
  std::string work_;
  std::string temp_root_;  // every peer's scan temp dir is below it (BenchConfig::temp_root)
  bool own_temp_root_ = false;
  std::shared_ptr<const ClamavEngine> engine_;
  std::unique_ptr<CeilingTarget> ceiling_;
  std::unique_ptr<PipelineTarget> pipeline_;
  std::unique_ptr<VmscanTarget> vmscan_;
  std::unique_ptr<ClamdTarget> clamd_;
  std::unique_ptr<MemorySampler> vmscan_sampler_;
  std::unique_ptr<MemorySampler> clamd_sampler_;
  bool warm_ = false;          // the peers have scanned something since they started
  std::string small_message_;  // for the agent's memory
  std::string large_message_;
};

}  // namespace vmscan::bench

#endif  // VMSCAN_TESTS_BENCHMARKS_BENCH_H_
