#include "tests/benchmarks/bench.h"

#include <clamav.h>
#include <stdlib.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "tests/benchmarks/agent_memory.h"
#include "tests/benchmarks/load_runner.h"
#include "tests/benchmarks/signature_set.h"

namespace vmscan::bench {
namespace {

std::string Shell(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[256];
  while (fgets(buffer, sizeof(buffer), pipe) != nullptr) out += buffer;
  pclose(pipe);
  return std::string(absl::StripAsciiWhitespace(out));
}

std::string FirstMatch(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      return std::string(absl::StripAsciiWhitespace(line.substr(line.find(':') + 1)));
    }
  }
  return "";
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return absl::StrCat(a, " ", b, " ", c);
}

}  // namespace

void Bench::Log(const std::string& text) {
  std::cerr << absl::StrFormat("[%6.1fs] ", absl::ToDoubleSeconds(absl::Now() - start_)) << text
            << std::endl;
}

std::vector<Message> Bench::Build(const std::vector<MessageSpec>& plan) {
  return BuildCorpus(plan, next_variant_++, 2);
}

void Bench::Describe() {
  auto& m = results_.machine;
  m["cpus (nproc)"] = absl::StrCat(sysconf(_SC_NPROCESSORS_ONLN));
  m["cpu model"] = FirstMatch("/proc/cpuinfo", "model name");
  m["memory"] = FirstMatch("/proc/meminfo", "MemTotal");
  utsname u{};
  uname(&u);
  m["kernel"] = absl::StrCat(u.sysname, " ", u.release);
  m["date (UTC)"] = absl::FormatTime("%Y-%m-%d %H:%M", absl::Now(), absl::UTCTimeZone());
  m["load average at start"] = LoadAverage();
  m["libclamav"] = cl_retver();
  m["clamd"] = Shell(config_.clamd_binary + " --version 2>/dev/null");
  m["git"] = Shell(
      absl::StrCat("git -C '", config_.source_dir, "' describe --always --dirty 2>/dev/null"));
  results_.config = config_.Describe();
  if (ClamExe().empty()) {
    results_.notes.push_back(
        "clamav-testfiles is not installed: the clam.exe threats are EICAR instead");
  }
}

absl::StatusOr<std::string> Bench::WriteSignatures(const SignaturePoint& point) {
  const std::string dir = absl::StrCat(work_, "/signatures-", next_variant_++);
  SignatureSetOptions options;
  options.seed = config_.seed;
  options.hashes = point.hashes;
  options.bodies = point.bodies;
  options.bundled_dir = config_.source_dir + "/deploy/signatures";
  const absl::Time t0 = absl::Now();
  absl::StatusOr<SignatureSetInfo> info = WriteSignatureSet(dir, options);
  if (!info.ok()) return info.status();
  Log(absl::StrFormat("signature set %s: %d signatures, %.1f MB, written in %.1f s", point.label,
                      info->signatures, info->bytes / 1e6,
                      absl::ToDoubleSeconds(absl::Now() - t0)));
  return dir;
}

VmscanServerOptions Bench::ServerOptions(const std::string& signatures_dir,
                                         const std::string& name) {
  VmscanServerOptions vm;
  vm.binary = config_.server_binary;
  vm.work_dir = absl::StrCat(work_, "/", name, "-", next_variant_++);
  vm.signatures_dir = signatures_dir;
  vm.workers = config_.workers;
  vm.extra_sets.push_back(
      absl::StrCat("engine_temp_dir=", temp_root_, "/vmscan-", next_variant_++));
  vm.env = config_.server_env;
  return vm;
}

absl::Status Bench::StartPeers(const SignaturePoint& point, const std::string& dir) {
  // One at a time, so that each load has the machine to itself.
  const ProcessMemory before = ReadMemory(getpid());
  const absl::Time t0 = absl::Now();
  absl::StatusOr<std::shared_ptr<const ClamavEngine>> engine =
      LoadBenchEngine(dir, absl::StrCat(temp_root_, "/ceiling-", next_variant_++));
  if (!engine.ok()) return engine.status();
  engine_ = *engine;
  PeerLoad in;
  in.system = "ceiling";
  in.signatures_label = point.label;
  in.signatures = static_cast<int64_t>(engine_->signature_count());
  in.ready_s = absl::ToDoubleSeconds(absl::Now() - t0);
  const ProcessMemory after = ReadMemory(getpid());
  in.after_load.rss_kb = after.rss_kb - before.rss_kb;
  in.after_load.anon_kb = after.anon_kb - before.anon_kb;
  results_.loads.push_back(in);
  ceiling_ = std::make_unique<CeilingTarget>(engine_);
  // The pipeline runs in the same rounds as the ceiling: an engine of its own, so that neither
  // answers from a cache the other filled.
  absl::StatusOr<std::shared_ptr<const ClamavEngine>> pipeline_engine =
      LoadBenchEngine(dir, absl::StrCat(temp_root_, "/pipeline-", next_variant_++));
  if (!pipeline_engine.ok()) return pipeline_engine.status();
  pipeline_ = std::make_unique<PipelineTarget>(*pipeline_engine);
  Log(absl::StrFormat("in-process engine: %d signatures loaded in %.2f s", in.signatures,
                      in.ready_s));

  absl::StatusOr<std::unique_ptr<VmscanTarget>> vmscan =
      VmscanTarget::Start(ServerOptions(dir, "vmscan"));
  if (!vmscan.ok()) return vmscan.status();
  vmscan_ = std::move(*vmscan);
  results_.loads.push_back({"vmscan", point.label, vmscan_->signatures(), vmscan_->ready_seconds(),
                            vmscan_->engine_load_ms(), vmscan_->memory_after_load()});
  Log(absl::StrFormat("vmscan-server ready in %.2f s (engine %.0f ms), RSS %.1f MiB",
                      vmscan_->ready_seconds(), vmscan_->engine_load_ms(),
                      vmscan_->memory_after_load().rss_kb / 1024.0));

  ClamdOptions cd;
  cd.binary = config_.clamd_binary;
  cd.work_dir = absl::StrCat(work_, "/clamd-", next_variant_++);
  cd.signatures_dir = dir;
  cd.threads = config_.workers;
  cd.temp_dir = absl::StrCat(temp_root_, "/clamd-", next_variant_++);
  cd.env = config_.clamd_env;
  absl::StatusOr<std::unique_ptr<ClamdTarget>> clamd = ClamdTarget::Start(cd);
  if (!clamd.ok()) return clamd.status();
  clamd_ = std::move(*clamd);
  results_.loads.push_back({"clamd", point.label, in.signatures, clamd_->ready_seconds(), -1,
                            clamd_->memory_after_load()});
  Log(absl::StrFormat("clamd ready in %.2f s, RSS %.1f MiB", clamd_->ready_seconds(),
                      clamd_->memory_after_load().rss_kb / 1024.0));

  warm_ = false;
  vmscan_sampler_ = std::make_unique<MemorySampler>();
  vmscan_sampler_->Watch(vmscan_->server_pid());
  clamd_sampler_ = std::make_unique<MemorySampler>();
  clamd_sampler_->Watch(clamd_->server_pid());
  return absl::OkStatus();
}

void Bench::StopPeers(const SignaturePoint& point) {
  for (PeerLoad& l : results_.loads) {
    if (l.signatures_label != point.label) continue;
    if (l.system == "vmscan") l.peak_rss_kb = ReadMemory(vmscan_->server_pid()).hwm_kb;
    if (l.system == "clamd") l.peak_rss_kb = ReadMemory(clamd_->server_pid()).hwm_kb;
  }
  vmscan_sampler_.reset();
  clamd_sampler_.reset();
  vmscan_->Stop();
  clamd_->Stop();
  vmscan_.reset();
  clamd_.reset();
  ceiling_.reset();
  pipeline_.reset();
  engine_.reset();
}

void Bench::Round(const std::string& workload, const std::vector<MessageSpec>& plan,
                  const std::vector<Entry>& entries, int reps, bool largest_first) {
  if (!warm_) {
    // Warm-up on bytes of their own: page in the engines, start pools and connections.
    std::vector<MessageSpec> warm;
    size_t bytes = 0;
    for (const MessageSpec& spec : plan) {
      if (warm.size() >= 4 || (!warm.empty() && bytes + spec.target_bytes > (4u << 20))) break;
      warm.push_back(spec);
      bytes += spec.target_bytes;
    }
    std::vector<Message> warm_messages = Build(warm);
    for (const Entry& e : entries) {
      RunLoad(*e.target, warm_messages, {e.concurrency, config_.run_limit, nullptr});
    }
    warm_ = true;
  }
  for (int rep = 0; rep < reps; ++rep) {
    const absl::Time t0 = absl::Now();
    std::vector<Message> messages = Build(plan);
    if (largest_first) {
      std::stable_sort(messages.begin(), messages.end(), [](const Message& a, const Message& b) {
        return a.data.size() > b.data.size();
      });
    }
    uint64_t bytes = 0;
    for (const Message& m : messages) bytes += m.data.size();
    Log(absl::StrFormat("%s rep %d/%d: %d messages, %.1f MB built in %.1f s", workload, rep + 1,
                        reps, messages.size(), bytes / 1e6,
                        absl::ToDoubleSeconds(absl::Now() - t0)));
    // Rotate the order so that no system always runs first or last.
    for (size_t k = 0; k < entries.size(); ++k) {
      const Entry& e = entries[(k + static_cast<size_t>(rep)) % entries.size()];
      RunStats stats = RunLoad(*e.target, messages, {e.concurrency, config_.run_limit, e.sampler});
      Log(absl::StrFormat("  %-8s x%-3d %8.1f msg/s %7.1f MB/s  p50 %7.1f ms  p99 %7.1f ms%s%s",
                          e.target->name(), e.concurrency, stats.messages_per_s(), stats.mb_per_s(),
                          Percentile(stats.latency_ms, 50), Percentile(stats.latency_ms, 99),
                          stats.truncated ? "  TRUNCATED" : "",
                          stats.first_problem.empty() ? "" : "  " + stats.first_problem));
      results_.Add(workload, e.target->name(), e.concurrency, std::move(stats));
    }
  }
}

CorpusOptions Bench::MixedOptions() const {
  CorpusOptions options;
  options.seed = config_.seed;
  options.count = config_.mixed_count;
  options.threat_share = config_.threat_share;
  return options;
}

void Bench::MixedPhases() {
  // Each round pairs the systems that are compared at one concurrency; rounds have bytes of
  // their own, so no process meets a message it has scanned before.
  const std::vector<MessageSpec> mixed = PlanCorpus(MixedOptions());
  const std::vector<int>& n = config_.concurrency;
  auto round = [](int concurrency) { return absl::StrCat("mixed@", concurrency); };
  if (config_.Runs("mixed1")) {
    Round(round(n[0]), mixed,
          {{ceiling_.get(), 1, nullptr},
           {vmscan_.get(), n[0], vmscan_sampler_.get()},
           {clamd_.get(), n[0], clamd_sampler_.get()}},
          config_.reps_single_stream, true);
  }
  if (config_.Runs("mixed8")) {
    Round(round(n[1]), mixed,
          {{ceiling_.get(), 2, nullptr},
           {vmscan_.get(), n[1], vmscan_sampler_.get()},
           {clamd_.get(), n[1], clamd_sampler_.get()}},
          config_.reps, true);
  }
  if (config_.Runs("mixed64")) {
    Round(round(n[2]), mixed,
          {{ceiling_.get(), 2, nullptr},
           {pipeline_.get(), 2, nullptr},
           {vmscan_.get(), n[2], vmscan_sampler_.get()},
           {clamd_.get(), n[2], clamd_sampler_.get()}},
          config_.reps, true);
  }
}

void Bench::SizePhases() {
  for (const SizeClass& size : config_.sizes) {
    CorpusOptions options;
    options.seed = config_.seed + 1;
    options.count = size.count;
    options.threat_share = 0;  // clean: the size alone varies (threats are in the mixed corpus)
    options.fixed_bytes = size.bytes;
    const std::vector<MessageSpec> plan = PlanCorpus(options);
    const int c = config_.size_concurrency;
    if (config_.Runs("sizes")) {
      Round("size:" + size.label, plan,
            {{ceiling_.get(), 2, nullptr},
             {vmscan_.get(), c, vmscan_sampler_.get()},
             {clamd_.get(), c, clamd_sampler_.get()}},
            config_.reps, false);
    }
    // The smallest and the largest class feed the agent's memory measurement.
    if (small_message_.empty()) small_message_ = BuildMessage(plan[0], next_variant_++);
    large_message_ = BuildMessage(plan[0], next_variant_++);
  }
}

void Bench::VdiPhase() {
  CorpusOptions options = MixedOptions();
  options.count = config_.vdi_unique * config_.vdi_copies;
  options.vdi_copies = config_.vdi_copies;
  options.max_bytes = 400 << 10;  // newsletters and notices, not the big attachments
  const int top = config_.concurrency.back();
  Round("vdi", PlanCorpus(options),
        {{ceiling_.get(), 2, nullptr},
         {vmscan_.get(), top, vmscan_sampler_.get()},
         {clamd_.get(), top, clamd_sampler_.get()}},
        config_.reps, false);
}

void Bench::SignaturePhase(const SignaturePoint& point) {
  CorpusOptions options = MixedOptions();
  options.count = config_.signature_corpus_count;
  options.max_bytes = 2 << 20;
  Round("sigs:" + point.label, PlanCorpus(options),
        {{ceiling_.get(), 2, nullptr},
         {vmscan_.get(), 8, vmscan_sampler_.get()},
         {clamd_.get(), 8, clamd_sampler_.get()}},
        config_.reps, true);
}

void Bench::AgentPhase() {
  Log("agent memory");
  AgentMemoryOptions agent;
  agent.agent_binary = config_.agent_binary;
  agent.rusage_binary = config_.rusage_binary;
  agent.server_address = vmscan_->address();
  agent.work_dir = work_ + "/agents";
  agent.small_message = small_message_;
  agent.large_message = large_message_;
  agent.concurrent = config_.agent_concurrent;
  agent.rounds = config_.agent_rounds;
  results_.agent = MeasureAgentMemory(agent);
  Log(absl::StrFormat("agent: --version %.1f MiB, idle %.1f MiB, under load %.1f MiB",
                      results_.agent.version_kb / 1024.0, results_.agent.idle_kb / 1024.0,
                      results_.agent.loaded_kb / 1024.0));
}

absl::Status Bench::TlsPhase(const std::string& signatures_dir) {
  const std::string pki = absl::StrCat(work_, "/pki-", next_variant_++);
  constexpr int kVms = 8;
  std::vector<std::string> commands = {absl::StrCat(config_.ctl_binary, " pki init ", pki)};
  for (int i = 0; i < kVms; ++i) {
    commands.push_back(absl::StrCat(config_.ctl_binary, " pki issue-vm --id bench-vm-", i,
                                    " --name desk-", i, " ", pki));
  }
  for (const std::string& command : commands) {
    if (std::system((command + " >/dev/null").c_str()) != 0) {
      return absl::InternalError("failed: " + command);
    }
  }
  VmscanServerOptions vm = ServerOptions(signatures_dir, "vmscan-mtls");
  vm.tls_dir = pki;
  vm.tls_vms = kVms;
  absl::StatusOr<std::unique_ptr<VmscanTarget>> tls = VmscanTarget::Start(vm);
  if (!tls.ok()) return tls.status();
  Log(absl::StrFormat("vmscan-server with mutual TLS ready in %.2f s", (*tls)->ready_seconds()));
  MemorySampler sampler;
  sampler.Watch((*tls)->server_pid());
  warm_ = false;  // the new server warms up like the others did
  Round("tls@8", PlanCorpus(MixedOptions()),
        {{vmscan_.get(), 8, vmscan_sampler_.get()},
         {tls->get(), 8, &sampler},
         {clamd_.get(), 8, clamd_sampler_.get()}},
        config_.reps, true);

  Log("agent memory with mutual TLS");
  AgentMemoryOptions agent;
  agent.agent_binary = config_.agent_binary;
  agent.rusage_binary = config_.rusage_binary;
  agent.server_address = (*tls)->address();
  agent.work_dir = work_ + "/agents-mtls";
  agent.small_message = small_message_;
  agent.large_message = large_message_;
  agent.concurrent = config_.agent_concurrent;
  agent.rounds = config_.agent_rounds;
  agent.vm_id_from_certificate = true;
  agent.extra_sets = {"tls.insecure_loopback=false", "tls.cert_file=" + pki + "/vm/bench-vm-0.pem",
                      "tls.key_file=" + pki + "/vm/bench-vm-0.key",
                      "tls.ca_file=" + pki + "/ca.pem"};
  results_.agent_mtls = MeasureAgentMemory(agent);
  Log(absl::StrFormat("agent (mTLS): --version %.1f MiB, idle %.1f MiB, under load %.1f MiB",
                      results_.agent_mtls.version_kb / 1024.0, results_.agent_mtls.idle_kb / 1024.0,
                      results_.agent_mtls.loaded_kb / 1024.0));
  (*tls)->Stop();
  return absl::OkStatus();
}

absl::Status Bench::Run() {
  Describe();
  if (config_.work_dir.empty()) {
    char templ[] = "/tmp/vmscan-bench.XXXXXX";
    if (mkdtemp(templ) == nullptr) return absl::InternalError("mkdtemp failed");
    work_ = templ;
  } else {
    work_ = config_.work_dir;
    std::filesystem::create_directories(work_);
  }
  Log("work dir " + work_);
  if (absl::Status s = MakeTempRoot(); !s.ok()) return s;
  Log("scan temp dirs of all peers below " + temp_root_);
  results_.machine["scan temp dirs (all peers)"] = temp_root_;

  absl::StatusOr<std::string> sig_dir = WriteSignatures(config_.main_signatures);
  if (!sig_dir.ok()) return sig_dir.status();
  if (absl::Status s = StartPeers(config_.main_signatures, *sig_dir); !s.ok()) return s;
  MixedPhases();
  SizePhases();
  if (config_.Runs("vdi")) VdiPhase();
  if (config_.Runs("sigs")) SignaturePhase(config_.main_signatures);
  if (config_.Runs("agent")) AgentPhase();
  if (config_.Runs("tls")) {
    if (absl::Status s = TlsPhase(*sig_dir); !s.ok()) return s;
  }
  StopPeers(config_.main_signatures);
  std::filesystem::remove_all(*sig_dir);

  // Load time, memory and throughput at other signature counts.
  for (const SignaturePoint& point : config_.extra_signatures) {
    if (!config_.Runs("sigs")) break;
    absl::StatusOr<std::string> dir = WriteSignatures(point);
    if (!dir.ok()) return dir.status();
    if (absl::Status s = StartPeers(point, *dir); !s.ok()) return s;
    SignaturePhase(point);
    StopPeers(point);
    std::filesystem::remove_all(*dir);
  }

  results_.machine["load average at end"] = LoadAverage();
  results_.machine["bench duration"] =
      absl::StrFormat("%.0f s", absl::ToDoubleSeconds(absl::Now() - start_));
  const std::string tables = RenderTables(results_);
  std::cout << tables;
  std::ofstream(config_.markdown_out) << tables;
  std::ofstream(config_.json_out) << RenderJson(results_);
  Log("wrote " + config_.json_out + " and " + config_.markdown_out);
  if (!config_.keep_work_dir && config_.work_dir.empty()) std::filesystem::remove_all(work_);
  if (own_temp_root_) std::filesystem::remove_all(temp_root_);
  return absl::OkStatus();
}

absl::Status Bench::MakeTempRoot() {
  if (!config_.temp_root.empty()) {
    temp_root_ = config_.temp_root;
    std::error_code ec;
    std::filesystem::create_directories(temp_root_, ec);
    if (ec) return absl::InternalError("cannot create " + temp_root_ + ": " + ec.message());
    return absl::OkStatus();
  }
  char templ[] = "/dev/shm/vmscan-bench-tmp.XXXXXX";
  if (mkdtemp(templ) != nullptr) {
    temp_root_ = templ;
    own_temp_root_ = true;
    return absl::OkStatus();
  }
  temp_root_ = work_ + "/scan-tmp";
  std::filesystem::create_directories(temp_root_);
  return absl::OkStatus();
}

}  // namespace vmscan::bench
