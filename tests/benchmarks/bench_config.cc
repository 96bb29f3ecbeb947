#include "tests/benchmarks/bench_config.h"

#include <algorithm>
#include <type_traits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/command_line.h"

namespace vmscan::bench {

const char kBenchUsage[] = R"(Usage: vmscan-bench [options]

Runs, side by side on the same corpus and signatures: libclamav in-process (the ceiling),
vmscan-server over gRPC and clamd over INSTREAM; prints Markdown tables and writes JSON.

  --quick                 every phase, small (about 2 minutes)
  --reps N                repetitions per measurement (default 3; medians are reported)
  --reps-single N         repetitions of the concurrency-1 round (default 2: it runs on one core)
  --seed N                corpus and signature seed
  --hashes N --bodies N   main signature set (default 1000000 hash + 100000 body signatures)
  --no-extra-signatures   skip the smaller signature sets (load time / throughput vs count)
  --only P1,P2,...        run only these phases: mixed1, mixed8, mixed64 (the mixed corpus at
                          concurrency 1, 8, 64), sizes, vdi, sigs, agent, tls (mixed at 8
                          streams, plaintext vs mutual TLS, and the agent's memory with TLS)
  --sizes L1,L2,...       only these size classes (2KB, 20KB, 200KB, 2MB, 10MB)
  --mixed N               messages of the mixed corpus per repetition (default 64)
  --threat-share F        share of infected messages in the mixed corpus (default 0.05)
  --workers N             vmscan-server workers = clamd MaxThreads (default 2)
  --run-limit-s N         time bound of one load run (default 90)
  --json FILE --markdown FILE   outputs (default bench-results.json / bench-results.md)
  --work-dir DIR --keep   where peers, corpus files and signatures go; keep them afterwards
  --temp-dir DIR          where every peer's scan temp dir goes (default: a fresh dir on
                          /dev/shm if writable, else in the work dir); one filesystem for all
  --server-bin, --agent-bin, --clamd-bin, --ctl-bin PATH
  --server-env K=V, --clamd-env K=V   extra environment of a peer (experiments; repeatable)
  --write-corpus DIR      only write the mixed corpus (variant 1) as .eml files
  --write-signatures DIR  only write the main signature set
  --explain-pipeline      only profile vmscan's pipeline in-process (raw scan, SHA-256, GMime,
                          part scans warm and cold) on the mixed corpus; prints Markdown
)";

bool BenchConfig::Runs(const std::string& phase) const {
  return std::find(phases.begin(), phases.end(), phase) != phases.end();
}

std::map<std::string, std::string> BenchConfig::Describe() const {
  std::vector<std::string> sizes;
  for (const SizeClass& s : this->sizes) sizes.push_back(absl::StrCat(s.label, "×", s.count));
  std::vector<std::string> points;
  for (const SignaturePoint& p : extra_signatures) points.push_back(p.label);
  return {
      {"mode", quick ? "quick" : "full"},
      {"phases", absl::StrJoin(phases, ",")},
      {"seed", absl::StrCat(seed)},
      {"repetitions", absl::StrCat(reps, " (", reps_single_stream, " at concurrency 1)")},
      {"workers", absl::StrCat(workers, " (vmscan workers = clamd MaxThreads)")},
      {"signatures", absl::StrCat(main_signatures.hashes, " hash + ", main_signatures.bodies,
                                  " body + 7 bundled")},
      {"mixed corpus", absl::StrCat(mixed_count, " messages, ", threat_share * 100, "% infected")},
      {"size classes", absl::StrJoin(sizes, ", ")},
      {"vdi", absl::StrCat(vdi_unique, " unique × ", vdi_copies, " VMs")},
      {"extra signature sets", absl::StrJoin(points, ", ")},
      {"run limit", absl::FormatDuration(run_limit)},
      {"peer environment", absl::StrCat("vmscan-server [", absl::StrJoin(server_env, " "),
                                        "], clamd [", absl::StrJoin(clamd_env, " "), "]")},
  };
}

absl::StatusOr<BenchConfig> ParseBenchFlags(int argc, char** argv, bool* help) {
  BenchConfig config;
#ifdef VMSCAN_SERVER_BIN
  config.server_binary = VMSCAN_SERVER_BIN;
  config.agent_binary = VMSCAN_AGENT_BIN;
  config.rusage_binary = VMSCAN_RUSAGE_BIN;
  config.ctl_binary = VMSCANCTL_BIN;
#endif
  config.source_dir = VMSCAN_SOURCE_DIR;
  *help = false;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (const std::string& a : args) {
    if (a == "--quick") config.quick = true;
  }
  if (config.quick) {
    config.reps = 2;
    config.reps_single_stream = 1;
    config.main_signatures = {"110k", 100000, 10000};
    config.extra_signatures = {{"7 (bundled)", 0, 0}};
    config.mixed_count = 24;
    config.sizes = {{"2KB", 2 << 10, 100},
                    {"20KB", 20 << 10, 100},
                    {"200KB", 200 << 10, 16},
                    {"2MB", 2 << 20, 4},
                    {"10MB", 10 << 20, 2}};
    config.vdi_unique = 8;
    config.vdi_copies = 20;
    config.signature_corpus_count = 16;
    config.agent_concurrent = 2;
    config.run_limit = absl::Seconds(30);
  }

  CommandLine cl(argc, argv, 1);
  std::string value;
  bool bad_number = false;
  auto number = [&](const char* flag, auto* out) -> bool {
    if (!cl.Flag(flag, &value)) return false;
    if constexpr (std::is_same_v<std::remove_pointer_t<decltype(out)>, double>) {
      bad_number = !absl::SimpleAtod(value, out);
    } else {
      bad_number = !absl::SimpleAtoi(value, out);
    }
    return true;
  };
  int run_limit_s = 0;
  std::string only;
  std::string sizes;
  const int64_t main_hashes = config.main_signatures.hashes;
  const int64_t main_bodies = config.main_signatures.bodies;
  while (!cl.done()) {
    if (cl.Switch("--quick")) continue;
    if (cl.Switch("--help") || cl.Switch("-h")) {
      *help = true;
      return config;
    }
    if (cl.Switch("--keep")) {
      config.keep_work_dir = true;
      continue;
    }
    if (cl.Switch("--explain-pipeline")) {
      config.explain_pipeline = true;
      continue;
    }
    if (cl.Switch("--no-extra-signatures")) {
      config.extra_signatures.clear();
      continue;
    }
    if (number("--reps", &config.reps) || number("--reps-single", &config.reps_single_stream) ||
        number("--seed", &config.seed) || number("--hashes", &config.main_signatures.hashes) ||
        number("--bodies", &config.main_signatures.bodies) ||
        number("--mixed", &config.mixed_count) || number("--threat-share", &config.threat_share) ||
        number("--workers", &config.workers) || number("--run-limit-s", &run_limit_s)) {
      if (bad_number) return absl::InvalidArgumentError("bad number: " + value);
      continue;
    }
    if (cl.Flag("--json", &config.json_out) || cl.Flag("--markdown", &config.markdown_out) ||
        cl.Flag("--work-dir", &config.work_dir) || cl.Flag("--temp-dir", &config.temp_root) ||
        cl.Flag("--server-bin", &config.server_binary) ||
        cl.Flag("--agent-bin", &config.agent_binary) || cl.Flag("--ctl-bin", &config.ctl_binary) ||
        cl.Flag("--clamd-bin", &config.clamd_binary) ||
        cl.Flag("--write-corpus", &config.corpus_out) ||
        cl.Flag("--write-signatures", &config.signatures_out) || cl.Flag("--only", &only) ||
        cl.Flag("--sizes", &sizes) || cl.RepeatedFlag("--server-env", &config.server_env) ||
        cl.RepeatedFlag("--clamd-env", &config.clamd_env)) {
      continue;
    }
    if (!cl.error().ok()) return cl.error();
    return absl::InvalidArgumentError(absl::StrCat("unknown argument '", cl.current(), "'"));
  }
  if (run_limit_s > 0) config.run_limit = absl::Seconds(run_limit_s);
  if (!sizes.empty()) {
    std::vector<std::string> labels = absl::StrSplit(sizes, ',', absl::SkipEmpty());
    std::vector<SizeClass> kept;
    for (const SizeClass& size : config.sizes) {
      if (std::find(labels.begin(), labels.end(), size.label) != labels.end()) kept.push_back(size);
    }
    if (kept.size() != labels.size()) return absl::InvalidArgumentError("unknown size in --sizes");
    config.sizes = kept;
  }
  if (!only.empty()) {
    std::vector<std::string> phases = absl::StrSplit(only, ',', absl::SkipEmpty());
    for (const std::string& phase : phases) {
      if (!config.Runs(phase)) return absl::InvalidArgumentError("unknown phase " + phase);
    }
    config.phases = phases;
  }
  config.reps_single_stream = std::clamp(config.reps_single_stream, 1, config.reps);
  if (config.main_signatures.hashes != main_hashes ||
      config.main_signatures.bodies != main_bodies) {
    config.main_signatures.label =
        absl::StrCat(config.main_signatures.hashes + config.main_signatures.bodies);
  }
  if (config.reps < 1 || config.workers < 1 || config.mixed_count < 1) {
    return absl::InvalidArgumentError("--reps, --workers and --mixed must be at least 1");
  }
  return config;
}

}  // namespace vmscan::bench
