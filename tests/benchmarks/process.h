// Child processes and /proc readings for the benchmark: the peers (vmscan-server, clamd) and the
// agents run as real processes, started by the benchmark and stopped by their own pid.
//
//   VMSCAN_ASSIGN_OR_RETURN(std::unique_ptr<ChildProcess> server,
//                           ChildProcess::Spawn({"vmscan-server", "--set", ...}, "server.log"));
//   ProcessMemory memory = ReadMemory(server->pid());
//   server->Stop();  // SIGTERM, then SIGKILL after the grace period
//
// Thread-compatible: one thread owns a ChildProcess; the free functions are thread-safe.
#ifndef VMSCAN_TESTS_BENCHMARKS_PROCESS_H_
#define VMSCAN_TESTS_BENCHMARKS_PROCESS_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace vmscan::bench {

// From /proc/PID/status, in KiB. Zero when the process is gone.
struct ProcessMemory {
  int64_t rss_kb = 0;   // VmRSS
  int64_t hwm_kb = 0;   // VmHWM: peak RSS since start
  int64_t anon_kb = 0;  // RssAnon: heap, stacks, relocated library data
  int64_t file_kb = 0;  // RssFile: mapped files (shared libraries' code)
  int threads = 0;
};
ProcessMemory ReadMemory(pid_t pid);

// User + system CPU seconds of all threads of `pid` so far (/proc/PID/stat); -1 when gone.
double CpuSeconds(pid_t pid);
// Of this process (getrusage).
double SelfCpuSeconds();

class ChildProcess {
 public:
  // Starts argv[0] (a path) with stdout and stderr appended to `log_path`, with this process's
  // environment plus `extra_env` ("KEY=VALUE").
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Spawn(
      const std::vector<std::string>& argv, const std::string& log_path,
      const std::vector<std::string>& extra_env = {});
  ~ChildProcess();  // Stop()s a running child
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  // Waits for the child to exit on its own, up to `timeout`; false on timeout.
  bool Wait(absl::Duration timeout);
  // SIGTERM, up to `grace` to exit, then SIGKILL.
  void Stop(absl::Duration grace = absl::Seconds(15));

  // Valid once the child has been reaped.
  int exit_code() const { return exit_code_; }
  int64_t max_rss_kb() const { return max_rss_kb_; }  // ru_maxrss from wait4

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  bool Reap(bool block);

  pid_t pid_;
  bool reaped_ = false;
  int exit_code_ = -1;
  int64_t max_rss_kb_ = 0;
};

// Samples ReadMemory() of a set of processes every `period` on a thread of its own and keeps
// the sample with the highest VmRSS, per label.
class MemorySampler {
 public:
  explicit MemorySampler(absl::Duration period = absl::Milliseconds(50));
  ~MemorySampler();
  void Watch(pid_t pid);
  void Unwatch(pid_t pid);
  ProcessMemory Peak() const;  // over every process watched
  void Reset();

 private:
  void Run();
  const absl::Duration period_;
  mutable absl::Mutex mu_;
  std::vector<pid_t> pids_ ABSL_GUARDED_BY(mu_);
  ProcessMemory peak_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace vmscan::bench

#endif  // VMSCAN_TESTS_BENCHMARKS_PROCESS_H_
