#include "tests/benchmarks/process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

extern char** environ;

namespace vmscan::bench {

ProcessMemory ReadMemory(pid_t pid) {
  ProcessMemory memory;
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    auto value = [&](absl::string_view key, int64_t* out) {
      if (!absl::StartsWith(line, key)) return;
      std::vector<absl::string_view> fields =
          absl::StrSplit(line.substr(key.size()), ' ', absl::SkipWhitespace());
      if (!fields.empty()) (void)absl::SimpleAtoi(fields[0], out);
    };
    value("VmRSS:", &memory.rss_kb);
    value("VmHWM:", &memory.hwm_kb);
    value("RssAnon:", &memory.anon_kb);
    value("RssFile:", &memory.file_kb);
    int64_t threads = 0;
    value("Threads:", &threads);
    if (threads > 0) memory.threads = static_cast<int>(threads);
  }
  return memory;
}

double CpuSeconds(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat;
  if (!std::getline(in, stat)) return -1;
  // The command name may hold spaces: fields are counted after its closing parenthesis.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(stat).substr(close + 2), ' ');
  // Fields 14 (utime) and 15 (stime) of proc(5), counted from field 3 (state) here.
  int64_t utime = 0, stime = 0;
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime)) {
    return -1;
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double SelfCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Spawn(
    const std::vector<std::string>& argv, const std::string& log_path,
    const std::vector<std::string>& extra_env) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) env.push_back(*e);
  for (const std::string& e : extra_env) env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("cannot start ", argv[0], ": ", strerror(rc)));
  }
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid));
}

ChildProcess::~ChildProcess() {
  if (!reaped_) Stop();
}

bool ChildProcess::Reap(bool block) {
  if (reaped_) return true;
  int status = 0;
  rusage usage{};
  const pid_t rc = wait4(pid_, &status, block ? 0 : WNOHANG, &usage);
  if (rc != pid_) return false;
  reaped_ = true;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  max_rss_kb_ = usage.ru_maxrss;
  return true;
}

bool ChildProcess::running() { return !Reap(false); }

bool ChildProcess::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!Reap(false)) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

void ChildProcess::Stop(absl::Duration grace) {
  if (reaped_ || Reap(false)) return;
  kill(pid_, SIGTERM);
  if (Wait(grace)) return;
  kill(pid_, SIGKILL);
  Reap(true);
}

MemorySampler::MemorySampler(absl::Duration period) : period_(period), thread_([this] { Run(); }) {}

MemorySampler::~MemorySampler() {
  stop_ = true;
  thread_.join();
}

void MemorySampler::Watch(pid_t pid) {
  absl::MutexLock lock(&mu_);
  pids_.push_back(pid);
}

void MemorySampler::Unwatch(pid_t pid) {
  absl::MutexLock lock(&mu_);
  pids_.erase(std::remove(pids_.begin(), pids_.end(), pid), pids_.end());
}

ProcessMemory MemorySampler::Peak() const {
  absl::MutexLock lock(&mu_);
  return peak_;
}

void MemorySampler::Reset() {
  absl::MutexLock lock(&mu_);
  peak_ = ProcessMemory();
}

void MemorySampler::Run() {
  while (!stop_) {
    std::vector<pid_t> pids;
    {
      absl::MutexLock lock(&mu_);
      pids = pids_;
    }
    for (pid_t pid : pids) {
      ProcessMemory m = ReadMemory(pid);
      absl::MutexLock lock(&mu_);
      if (m.rss_kb > peak_.rss_kb) peak_ = m;
    }
    absl::SleepFor(period_);
  }
}

}  // namespace vmscan::bench
