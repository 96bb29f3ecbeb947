#include "tests/benchmarks/results.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tests/benchmarks/json_writer.h"

namespace vmscan::bench {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string Fmt(double v, int decimals = 1) {
  if (!std::isfinite(v)) return "–";
  return absl::StrFormat("%.*f", decimals, v);
}

}  // namespace

double Ratio(double a, double b) { return b > 0 && a >= 0 ? a / b : kNaN; }

int CeilingThreads(int concurrency) { return std::min(concurrency, 2); }

double Cell::MsgsPerS() const {
  std::vector<double> v;
  for (const RunStats& s : reps) v.push_back(s.messages_per_s());
  return Median(v);
}

double Cell::MbPerS() const {
  std::vector<double> v;
  for (const RunStats& s : reps) v.push_back(s.mb_per_s());
  return Median(v);
}

double Cell::Latency(double percentile) const {
  std::vector<double> all;
  for (const RunStats& s : reps) all.insert(all.end(), s.latency_ms.begin(), s.latency_ms.end());
  return Percentile(std::move(all), percentile);
}

double Cell::CpuMsPerMsg() const {
  double cpu = 0;
  int messages = 0;
  for (const RunStats& s : reps) {
    cpu += (system == "vmscan" || system == "clamd") ? s.server_cpu_s : s.client_cpu_s;
    messages += s.messages;
  }
  return messages > 0 ? cpu * 1000 / messages : kNaN;
}

double Cell::ClientCores() const {
  double cpu = 0, seconds = 0;
  for (const RunStats& s : reps) {
    cpu += s.client_cpu_s;
    seconds += s.seconds;
  }
  return seconds > 0 ? cpu / seconds : kNaN;
}

int Cell::Messages() const { return reps.empty() ? 0 : reps[0].messages; }

int Cell::Problems() const {
  int n = 0;
  for (const RunStats& s : reps) n += s.errors + s.missed + s.false_alarms;
  return n;
}

std::string Cell::FirstProblem() const {
  for (const RunStats& s : reps) {
    if (!s.first_problem.empty()) return s.first_problem;
  }
  return "";
}

bool Cell::Truncated() const {
  return std::any_of(reps.begin(), reps.end(), [](const RunStats& s) { return s.truncated; });
}

int64_t Cell::PeakRssKb() const {
  int64_t peak = 0;
  for (const RunStats& s : reps) peak = std::max(peak, s.server_peak.rss_kb);
  return peak;
}

double Cell::UploadedShare() const {
  uint64_t uploaded = 0, bytes = 0;
  for (const RunStats& s : reps) {
    uploaded += s.uploaded_bytes;
    bytes += s.bytes;
  }
  if (system == "ceiling" || system == "pipeline" || bytes == 0) return kNaN;
  return static_cast<double>(uploaded) / static_cast<double>(bytes);
}

void Results::Add(const std::string& workload, const std::string& system, int concurrency,
                  RunStats stats) {
  for (Cell& c : cells) {
    if (c.workload == workload && c.system == system && c.concurrency == concurrency) {
      c.reps.push_back(std::move(stats));
      return;
    }
  }
  cells.push_back(Cell{workload, system, concurrency, {}});
  cells.back().reps.push_back(std::move(stats));
}

const Cell* Results::Find(const std::string& workload, const std::string& system,
                          int concurrency) const {
  for (const Cell& c : cells) {
    if (c.workload == workload && c.system == system && c.concurrency == concurrency) return &c;
  }
  return nullptr;
}

double Results::Throughput(const std::string& workload, const std::string& system,
                           int concurrency) const {
  const Cell* c = Find(workload, system, concurrency);
  return c == nullptr ? kNaN : c->MsgsPerS();
}

std::vector<std::string> Results::WorkloadsWithPrefix(absl::string_view prefix) const {
  std::vector<std::string> out;
  for (const Cell& c : cells) {
    if (absl::StartsWith(c.workload, prefix) &&
        std::find(out.begin(), out.end(), c.workload) == out.end()) {
      out.push_back(c.workload);
    }
  }
  return out;
}

std::vector<TargetCheck> CheckTargets(const Results& r) {
  std::vector<TargetCheck> checks;
  {
    TargetCheck t;
    t.name = "vmscan throughput ≥ 0.85 × in-process ceiling at 2 threads (mixed corpus)";
    std::vector<std::string> parts;
    double worst = kNaN;
    for (int n : {8, 64}) {
      const std::string round = absl::StrCat("mixed@", n);
      const double ratio =
          Ratio(r.Throughput(round, "vmscan", n), r.Throughput(round, "ceiling", 2));
      if (!std::isfinite(ratio)) continue;
      parts.push_back(absl::StrFormat("N=%d: %.2f", n, ratio));
      worst = std::isfinite(worst) ? std::min(worst, ratio) : ratio;
    }
    t.measured = absl::StrJoin(parts, ", ");
    t.measured_ok = std::isfinite(worst);
    t.met = t.measured_ok && worst >= 0.85;
    checks.push_back(t);
  }
  {
    TargetCheck t;
    t.name = "vmscan throughput ≥ 1.0 × clamd INSTREAM, same concurrency, every size";
    std::vector<std::string> parts;
    double worst = kNaN;
    std::vector<std::pair<std::string, int>> cells;
    for (int n : {1, 8, 64}) cells.push_back({absl::StrCat("mixed@", n), n});
    for (const std::string& w : r.WorkloadsWithPrefix("size:")) cells.push_back({w, 8});
    for (const auto& [w, n] : cells) {
      const double ratio = Ratio(r.Throughput(w, "vmscan", n), r.Throughput(w, "clamd", n));
      if (!std::isfinite(ratio)) continue;
      parts.push_back(absl::StrFormat("%s: %.2f", w, ratio));
      worst = std::isfinite(worst) ? std::min(worst, ratio) : ratio;
    }
    t.measured = absl::StrCat("worst ", Fmt(worst, 2), " (", absl::StrJoin(parts, ", "), ")");
    t.measured_ok = std::isfinite(worst);
    t.met = t.measured_ok && worst >= 1.0;
    checks.push_back(t);
  }
  {
    // docs/verdict-cache.md: copies of one message to many VMs, hash-first agents.
    TargetCheck t;
    t.name = "VDI: vmscan ≥ 10 × clamd msg/s, ≤ 0.1 × its CPU ms/msg, uploads ≤ 10 % of bytes";
    const Cell* v = nullptr;
    for (const Cell& cell : r.cells)
      if (cell.workload == "vdi" && cell.system == "vmscan") v = &cell;
    const Cell* c = v == nullptr ? nullptr : r.Find("vdi", "clamd", v->concurrency);
    t.measured_ok = v != nullptr && c != nullptr;
    if (t.measured_ok) {
      const double speed = Ratio(v->MsgsPerS(), c->MsgsPerS());
      const double cpu = Ratio(v->CpuMsPerMsg(), c->CpuMsPerMsg());
      const double uploaded = v->UploadedShare();
      t.measured = absl::StrFormat("%.1f × msg/s, %.3f × CPU ms/msg, %.1f %% of bytes uploaded",
                                   speed, cpu, 100 * uploaded);
      t.met = speed >= 10 && cpu <= 0.1 && uploaded <= 0.10;
    }
    checks.push_back(t);
  }
  {
    TargetCheck t;
    t.name = "vmscan-agent RSS under load < 10 MiB";
    t.measured_ok = r.agent.loaded_kb > 0;
    t.measured = absl::StrFormat("%.1f MiB peak (idle %.1f MiB, --version %.1f MiB)",
                                 r.agent.loaded_kb / 1024.0, r.agent.idle_kb / 1024.0,
                                 r.agent.version_kb / 1024.0);
    t.met = t.measured_ok && r.agent.loaded_kb < 10 * 1024;
    checks.push_back(t);
  }
  {
    TargetCheck t;
    t.name = "vmscan-agent RSS under load ≤ 12 MiB with mutual TLS";
    t.measured_ok = r.agent_mtls.loaded_kb > 0;
    t.measured = absl::StrFormat("%.1f MiB peak (idle %.1f MiB, --version %.1f MiB)",
                                 r.agent_mtls.loaded_kb / 1024.0, r.agent_mtls.idle_kb / 1024.0,
                                 r.agent_mtls.version_kb / 1024.0);
    t.met = t.measured_ok && r.agent_mtls.loaded_kb <= 12 * 1024;
    checks.push_back(t);
  }
  {
    // The same corpus, streams and server settings, plaintext and mutual TLS in one round.
    TargetCheck t;
    t.name = "vmscan with mutual TLS ≥ 0.95 × vmscan plaintext msg/s (÷ clamd in the same round)";
    const double tls = r.Throughput("tls@8", "vmscan-mtls", 8);
    const double plain = r.Throughput("tls@8", "vmscan", 8);
    const double clamd = r.Throughput("tls@8", "clamd", 8);
    t.measured_ok = std::isfinite(Ratio(tls, plain));
    t.measured = absl::StrFormat("%.2f × (mTLS %.2f × clamd, plaintext %.2f × clamd)",
                                 Ratio(tls, plain), Ratio(tls, clamd), Ratio(plain, clamd));
    t.met = t.measured_ok && Ratio(tls, plain) >= 0.95;
    checks.push_back(t);
  }
  {
    TargetCheck t;
    t.name = "p99 ≤ 2 × p50, 20 KB messages through vmscan at 8 streams";
    const Cell* c = r.Find("size:20KB", "vmscan", 8);
    t.measured_ok = c != nullptr;
    if (c != nullptr) {
      t.measured = absl::StrFormat("p50 %.1f ms, p99 %.1f ms: %.2f ×", c->Latency(50),
                                   c->Latency(99), Ratio(c->Latency(99), c->Latency(50)));
      t.met = c->Latency(99) <= 2 * c->Latency(50);
    }
    checks.push_back(t);
  }
  return checks;
}

std::string RenderJson(const Results& r) {
  JsonWriter j;
  j.BeginObject();
  j.Key("machine").BeginObject();
  for (const auto& [k, v] : r.machine) j.Key(k).String(v);
  j.EndObject();
  j.Key("config").BeginObject();
  for (const auto& [k, v] : r.config) j.Key(k).String(v);
  j.EndObject();
  j.Key("targets").BeginArray();
  for (const TargetCheck& t : CheckTargets(r)) {
    j.BeginObject().Key("target").String(t.name).Key("measured").String(t.measured);
    j.Key("met").Bool(t.met).Key("measured_ok").Bool(t.measured_ok).EndObject();
  }
  j.EndArray();
  j.Key("cells").BeginArray();
  for (const Cell& c : r.cells) {
    const double ceiling = r.Throughput(c.workload, "ceiling", CeilingThreads(c.concurrency));
    const double clamd = r.Throughput(c.workload, "clamd", c.concurrency);
    j.BeginObject();
    j.Key("workload").String(c.workload).Key("system").String(c.system);
    j.Key("concurrency")
        .Int(c.concurrency)
        .Key("repetitions")
        .Int(static_cast<int64_t>(c.reps.size()));
    j.Key("messages_per_rep").Int(c.Messages());
    j.Key("msgs_per_s").Number(c.MsgsPerS()).Key("mb_per_s").Number(c.MbPerS());
    j.Key("ratio_to_ceiling").Number(Ratio(c.MsgsPerS(), ceiling));
    j.Key("ratio_to_clamd").Number(Ratio(c.MsgsPerS(), clamd));
    j.Key("p50_ms").Number(c.Latency(50)).Key("p90_ms").Number(c.Latency(90));
    j.Key("p99_ms").Number(c.Latency(99)).Key("max_ms").Number(c.Latency(100));
    j.Key("cpu_ms_per_msg").Number(c.CpuMsPerMsg()).Key("client_cores").Number(c.ClientCores());
    j.Key("server_peak_rss_kb").Int(c.PeakRssKb());
    j.Key("problems").Int(c.Problems()).Key("first_problem").String(c.FirstProblem());
    j.Key("truncated").Bool(c.Truncated());
    j.Key("reps").BeginArray();
    for (const RunStats& s : c.reps) {
      j.BeginObject().Key("msgs_per_s").Number(s.messages_per_s()).Key("seconds").Number(s.seconds);
      j.Key("messages").Int(s.messages).Key("bytes").Int(static_cast<int64_t>(s.bytes));
      j.Key("uploaded_bytes").Int(static_cast<int64_t>(s.uploaded_bytes));
      j.Key("clean").Int(s.clean).Key("infected").Int(s.infected);
      j.Key("unscannable").Int(s.unscannable).Key("errors").Int(s.errors);
      j.Key("missed").Int(s.missed).Key("false_alarms").Int(s.false_alarms);
      j.Key("client_cpu_s").Number(s.client_cpu_s).Key("server_cpu_s").Number(s.server_cpu_s);
      j.EndObject();
    }
    j.EndArray();
    j.EndObject();
  }
  j.EndArray();
  j.Key("loads").BeginArray();
  for (const PeerLoad& l : r.loads) {
    j.BeginObject().Key("system").String(l.system).Key("signature_set").String(l.signatures_label);
    j.Key("signatures").Int(l.signatures).Key("ready_s").Number(l.ready_s);
    j.Key("engine_load_ms").Number(l.engine_load_ms);
    j.Key("rss_after_load_kb").Int(l.after_load.rss_kb);
    j.Key("anon_after_load_kb").Int(l.after_load.anon_kb);
    j.Key("peak_rss_kb").Int(l.peak_rss_kb).EndObject();
  }
  j.EndArray();
  const AgentMemory& a = r.agent;
  j.Key("agent").BeginObject();
  j.Key("version_rss_kb").Int(a.version_kb).Key("idle_rss_kb").Int(a.idle_kb);
  j.Key("idle_anon_kb").Int(a.idle_sample.anon_kb).Key("idle_file_kb").Int(a.idle_sample.file_kb);
  j.Key("loaded_rss_kb").Int(a.loaded_kb);
  j.Key("loaded_anon_kb").Int(a.loaded_sample.anon_kb);
  j.Key("loaded_file_kb").Int(a.loaded_sample.file_kb);
  j.Key("large_message_bytes").Int(static_cast<int64_t>(a.large_bytes));
  j.Key("concurrent").Int(a.concurrent).Key("runs").Int(a.runs).Key("failures").Int(a.failures);
  j.EndObject();
  const AgentMemory& m = r.agent_mtls;
  j.Key("agent_mtls").BeginObject();
  j.Key("version_rss_kb").Int(m.version_kb).Key("idle_rss_kb").Int(m.idle_kb);
  j.Key("loaded_rss_kb").Int(m.loaded_kb);
  j.Key("concurrent").Int(m.concurrent).Key("runs").Int(m.runs).Key("failures").Int(m.failures);
  j.EndObject();
  j.Key("notes").BeginArray();
  for (const std::string& n : r.notes) j.String(n);
  j.EndArray();
  j.EndObject();
  return j.str() + "\n";
}

}  // namespace vmscan::bench
