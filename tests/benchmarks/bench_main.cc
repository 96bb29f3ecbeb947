// vmscan-bench: vmscan against the raw engine and clamd, in one run (bench.h), plus the
// generator-only and diagnostic modes. See BENCHMARKS.md at the top of the repository for what is
// measured and how to read the tables; scripts/bench.sh builds and runs it.
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "absl/strings/str_format.h"
#include "common/logging.h"
#include "tests/benchmarks/bench.h"
#include "tests/benchmarks/bench_config.h"
#include "tests/benchmarks/corpus.h"
#include "tests/benchmarks/pipeline_profile.h"
#include "tests/benchmarks/signature_set.h"

namespace vmscan::bench {
namespace {

int WriteCorpus(const BenchConfig& config) {
  CorpusOptions options;
  options.seed = config.seed;
  options.count = config.mixed_count;
  options.threat_share = config.threat_share;
  const std::vector<MessageSpec> plan = PlanCorpus(options);
  std::vector<Message> messages = BuildCorpus(plan, 1);
  std::filesystem::create_directories(config.corpus_out);
  for (const Message& m : messages) {
    const std::string name =
        absl::StrFormat("%s/msg-%04d-%dKB-%s.eml", config.corpus_out, m.spec->index,
                        m.data.size() / 1024, ThreatName(m.spec->threat));
    std::ofstream(name, std::ios::binary) << m.data;
  }
  std::cerr << "wrote " << messages.size() << " messages to " << config.corpus_out << "\n";
  return 0;
}

int Explain(const BenchConfig& config) {
  char templ[] = "/tmp/vmscan-explain.XXXXXX";
  if (mkdtemp(templ) == nullptr) return 1;
  const std::string work = templ;
  SignatureSetOptions sig_options;
  sig_options.seed = config.seed;
  sig_options.hashes = config.main_signatures.hashes;
  sig_options.bodies = config.main_signatures.bodies;
  sig_options.bundled_dir = config.source_dir + "/deploy/signatures";
  absl::StatusOr<SignatureSetInfo> info = WriteSignatureSet(work + "/signatures", sig_options);
  if (!info.ok()) {
    std::cerr << "vmscan-bench: " << info.status() << "\n";
    return 1;
  }
  std::cout << "## Pipeline cost beyond the raw scan (" << info->signatures << " signatures)\n\n";
  // The mixed corpus, then each size class (at most 100 messages each).
  std::vector<std::pair<std::string, CorpusOptions>> corpora;
  CorpusOptions mixed;
  mixed.seed = config.seed;
  mixed.count = config.mixed_count;
  mixed.threat_share = config.threat_share;
  corpora.push_back({"mixed", mixed});
  for (const SizeClass& size : config.sizes) {
    CorpusOptions options;
    options.seed = config.seed + 1;
    options.count = std::min(size.count, 100);
    options.threat_share = 0;
    options.fixed_bytes = size.bytes;
    corpora.push_back({size.label, options});
  }
  for (const auto& [title, options] : corpora) {
    const std::vector<MessageSpec> plan = PlanCorpus(options);
    absl::StatusOr<std::string> report =
        ExplainPipeline(info->dir, work, BuildCorpus(plan, 1), title);
    if (!report.ok()) {
      std::cerr << "vmscan-bench: " << report.status() << "\n";
      std::filesystem::remove_all(work);
      return 1;
    }
    std::cout << *report << std::flush;
  }
  std::filesystem::remove_all(work);
  return 0;
}

int WriteSignaturesOnly(const BenchConfig& config) {
  SignatureSetOptions options;
  options.seed = config.seed;
  options.hashes = config.main_signatures.hashes;
  options.bodies = config.main_signatures.bodies;
  options.bundled_dir = config.source_dir + "/deploy/signatures";
  absl::StatusOr<SignatureSetInfo> info = WriteSignatureSet(config.signatures_out, options);
  if (!info.ok()) {
    std::cerr << "vmscan-bench: " << info.status() << "\n";
    return 1;
  }
  std::cerr << "wrote " << info->signatures << " signatures (" << info->bytes << " bytes) to "
            << info->dir << "\n";
  return 0;
}

}  // namespace
}  // namespace vmscan::bench

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  // The in-process ceiling must not be handicapped by this process's allocator: libclamav
  // calloc()s its per-scan matcher state (megabytes with 100k body signatures) and, with glibc's
  // defaults, hands it back to the kernel after each scan and faults it in again for the next;
  // measured, that made the ceiling erratic and up to 2x slower per small message than clamd.
  // Keeping a pad at the top of the heap removes it (see BENCHMARKS.md). The peers keep their
  // own defaults (--server-env/--clamd-env GLIBC_TUNABLES=... to experiment).
  mallopt(M_TOP_PAD, 128 << 20);
  bool help = false;
  absl::StatusOr<vmscan::bench::BenchConfig> config =
      vmscan::bench::ParseBenchFlags(argc, argv, &help);
  if (help) {
    std::cout << vmscan::bench::kBenchUsage;
    return 0;
  }
  if (!config.ok()) {
    std::cerr << "vmscan-bench: " << config.status().message() << "\n\n"
              << vmscan::bench::kBenchUsage;
    return 64;
  }
  vmscan::SetLogLevel(vmscan::LogLevel::kWARNING);  // libclamav's chatter, through vmscan's log
  if (!config->corpus_out.empty()) return vmscan::bench::WriteCorpus(*config);
  if (!config->signatures_out.empty()) return vmscan::bench::WriteSignaturesOnly(*config);
  if (config->explain_pipeline) return vmscan::bench::Explain(*config);
  vmscan::bench::Bench bench(*config);
  absl::Status status = bench.Run();
  if (!status.ok()) {
    std::cerr << "vmscan-bench: " << status << "\n";
    return 1;
  }
  return 0;
}
