#include "tests/benchmarks/agent_memory.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/benchmarks/process.h"

namespace vmscan::bench {
namespace {

std::vector<std::string> ScanArgs(const AgentMemoryOptions& o, const std::string& file, int id) {
  std::vector<std::string> args = {
      o.agent_binary,   "scan",  "--server",
      o.server_address, "--set", absl::StrCat("state_dir=", o.work_dir, "/agent-state")};
  if (!o.vm_id_from_certificate) {
    args.push_back("--set");
    args.push_back(absl::StrCat("vm.id=bench-agent-", id));
  }
  for (const std::string& set : o.extra_sets) {
    args.push_back("--set");
    args.push_back(set);
  }
  args.push_back(file);
  return args;
}

// The first child of `pid` (the agent under the rusage trampoline), or 0.
pid_t ChildOf(pid_t pid) {
  const absl::Time deadline = absl::Now() + absl::Seconds(2);
  while (absl::Now() < deadline) {
    std::ifstream in(absl::StrCat("/proc/", pid, "/task/", pid, "/children"));
    pid_t child = 0;
    if (in >> child && child > 0) return child;
    absl::SleepFor(absl::Microseconds(200));
  }
  return 0;
}

// Runs the commands of `argvs` at once, each under the rusage trampoline; returns the highest
// ru_maxrss and fills `sample` with the highest /proc sample.
int64_t RunAll(const AgentMemoryOptions& o, const std::vector<std::vector<std::string>>& argvs,
               const std::string& log, ProcessMemory* sample, AgentMemory* memory) {
  MemorySampler sampler(absl::Milliseconds(10));
  std::vector<std::unique_ptr<ChildProcess>> children;
  std::vector<std::string> outputs;
  for (const auto& argv : argvs) {
    std::vector<std::string> wrapped = {o.rusage_binary,
                                        absl::StrCat(o.work_dir, "/rusage-", outputs.size())};
    wrapped.insert(wrapped.end(), argv.begin(), argv.end());
    absl::StatusOr<std::unique_ptr<ChildProcess>> child = ChildProcess::Spawn(wrapped, log);
    if (!child.ok()) {
      ++memory->failures;
      if (memory->first_failure.empty()) memory->first_failure = child.status().ToString();
      continue;
    }
    if (pid_t agent = ChildOf((*child)->pid()); agent > 0) sampler.Watch(agent);
    outputs.push_back(wrapped[1]);
    children.push_back(std::move(*child));
  }
  int64_t peak = 0;
  for (size_t i = 0; i < children.size(); ++i) {
    if (!children[i]->Wait(absl::Minutes(5))) children[i]->Stop();
    ++memory->runs;
    int64_t max_rss_kb = 0;
    int exit_code = -1;
    std::ifstream in(outputs[i]);
    in >> max_rss_kb >> exit_code;
    peak = std::max(peak, max_rss_kb);
    // Every message here is clean: anything but 0 is a failure.
    if (exit_code != 0) {
      ++memory->failures;
      if (memory->first_failure.empty()) {
        memory->first_failure = absl::StrCat("exit code ", exit_code, "; see ", log);
      }
    }
  }
  if (sample != nullptr) *sample = sampler.Peak();
  return peak;
}

}  // namespace

AgentMemory MeasureAgentMemory(const AgentMemoryOptions& o) {
  AgentMemory memory;
  std::filesystem::create_directories(o.work_dir);
  const std::string small = o.work_dir + "/small.eml";
  const std::string large = o.work_dir + "/large.eml";
  std::ofstream(small, std::ios::binary) << o.small_message;
  std::ofstream(large, std::ios::binary) << o.large_message;
  const std::string log = o.work_dir + "/agents.log";
  memory.large_bytes = o.large_message.size();
  memory.concurrent = o.concurrent;

  memory.version_kb = RunAll(o, {{o.agent_binary, "--version"}}, log, nullptr, &memory);
  for (int i = 0; i < 3; ++i) {
    ProcessMemory sample;
    memory.idle_kb =
        std::max(memory.idle_kb, RunAll(o, {ScanArgs(o, small, i)}, log, &sample, &memory));
    if (sample.rss_kb > memory.idle_sample.rss_kb) memory.idle_sample = sample;
  }
  for (int round = 0; round < o.rounds; ++round) {
    std::vector<std::vector<std::string>> argvs;
    for (int i = 0; i < o.concurrent; ++i) argvs.push_back(ScanArgs(o, large, 100 + i));
    ProcessMemory sample;
    memory.loaded_kb = std::max(memory.loaded_kb, RunAll(o, argvs, log, &sample, &memory));
    if (sample.rss_kb > memory.loaded_sample.rss_kb) memory.loaded_sample = sample;
  }
  return memory;
}

}  // namespace vmscan::bench
