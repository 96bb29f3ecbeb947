#include "tests/benchmarks/load_runner.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace vmscan::bench {

RunStats RunLoad(Target& target, const std::vector<Message>& messages, const RunOptions& options) {
  const int concurrency = std::max(1, options.concurrency);
  std::vector<std::unique_ptr<Stream>> streams;
  for (int i = 0; i < concurrency; ++i) streams.push_back(target.NewStream(i));

  RunStats stats;
  absl::Mutex mu;
  std::atomic<size_t> next{0};
  const pid_t server = target.server_pid();
  if (options.sampler != nullptr) options.sampler->Reset();
  const double server_cpu_before = server > 0 ? CpuSeconds(server) : 0;
  const double client_cpu_before = SelfCpuSeconds();
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + options.max_time;
  std::atomic<bool> out_of_time{false};

  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      Stream& stream = *streams[t];
      while (true) {
        if (absl::Now() > deadline) {
          out_of_time = true;
          return;
        }
        const size_t i = next.fetch_add(1);
        if (i >= messages.size()) return;
        const Message& message = messages[i];
        const absl::Time sent = absl::Now();
        ScanReply reply = stream.Scan(message);
        const double ms = absl::ToDoubleMilliseconds(absl::Now() - sent);
        const bool planted = message.spec != nullptr && message.spec->threat != Threat::kNone;
        absl::MutexLock lock(&mu);
        ++stats.messages;
        stats.bytes += message.data.size();
        stats.uploaded_bytes += reply.uploaded_bytes;
        stats.latency_ms.push_back(ms);
        std::string problem;
        switch (reply.outcome) {
          case Outcome::kClean:
            ++stats.clean;
            break;
          case Outcome::kInfected:
            ++stats.infected;
            break;
          case Outcome::kUnscannable:
            ++stats.unscannable;
            problem = "unscannable: " + reply.detail;
            break;
          case Outcome::kError:
            ++stats.errors;
            problem = "error: " + reply.detail;
            break;
        }
        if (planted && reply.outcome != Outcome::kInfected) {
          ++stats.missed;
          if (problem.empty()) problem = "threat missed";
        }
        if (!planted && reply.outcome == Outcome::kInfected) {
          ++stats.false_alarms;
          problem = "false alarm: " + reply.detail;
        }
        if (!planted && reply.outcome == Outcome::kUnscannable) ++stats.false_alarms;
        if (!problem.empty() && stats.first_problem.empty()) {
          stats.first_problem = problem + " (message " + std::to_string(i) + ")";
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  stats.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  stats.truncated = out_of_time && stats.messages < static_cast<int>(messages.size());
  stats.client_cpu_s = SelfCpuSeconds() - client_cpu_before;
  if (server > 0) stats.server_cpu_s = CpuSeconds(server) - server_cpu_before;
  if (options.sampler != nullptr) stats.server_peak = options.sampler->Peak();
  return stats;
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double rank = std::ceil(p / 100.0 * static_cast<double>(values.size()));
  const size_t index =
      static_cast<size_t>(std::clamp(rank, 1.0, static_cast<double>(values.size())));
  return values[index - 1];
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace vmscan::bench
