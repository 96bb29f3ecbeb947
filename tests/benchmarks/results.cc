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

double Ratio(double a, double b) { return b > 0 && a >= 0 ? a / b : kNaN; }

std::string Fmt(double v, int decimals = 1) {
  if (!std::isfinite(v)) return "–";
  return absl::StrFormat("%.*f", decimals, v);
}

std::string Mib(int64_t kb) { return kb > 0 ? absl::StrFormat("%.1f", kb / 1024.0) : "–"; }

// The ceiling a run at `concurrency` is compared with: as many engine threads as it can keep
// busy, at most the number the service has (2 here).
int CeilingThreads(int concurrency) { return std::min(concurrency, 2); }

std::vector<std::string> Workloads(const Results& r, absl::string_view prefix) {
  std::vector<std::string> out;
  for (const Cell& c : r.cells) {
    if (absl::StartsWith(c.workload, prefix) &&
        std::find(out.begin(), out.end(), c.workload) == out.end()) {
      out.push_back(c.workload);
    }
  }
  return out;
}

std::string Row(const std::vector<std::string>& fields) {
  return absl::StrCat("| ", absl::StrJoin(fields, " | "), " |\n");
}

std::string Header(const std::vector<std::string>& fields) {
  std::string sep;
  for (size_t i = 0; i < fields.size(); ++i) sep += i == 0 ? "|---|" : "---:|";
  return Row(fields) + sep + "\n";
}

double Throughput(const Results& r, const std::string& workload, const std::string& system,
                  int concurrency) {
  const Cell* c = r.Find(workload, system, concurrency);
  return c == nullptr ? kNaN : c->MsgsPerS();
}

std::string Flags(const Cell& c) {
  std::vector<std::string> flags;
  if (c.Truncated()) flags.push_back("time limit hit");
  if (c.Problems() > 0)
    flags.push_back(absl::StrCat(c.Problems(), " problems: ", c.FirstProblem()));
  return absl::StrJoin(flags, "; ");
}

// One table for the rounds whose workload starts with `prefix` ("mixed@1", "mixed@8", ...):
// each row is compared with the ceiling and clamd of its own round only, because rounds run at
// different times and the machine's background load may differ between them.
std::string RoundTable(const Results& r, const std::string& prefix, const std::string& title) {
  std::vector<std::string> rounds = Workloads(r, prefix);
  if (rounds.empty()) return "";
  const Cell* any = nullptr;
  for (const Cell& c : r.cells) {
    if (c.workload == rounds[0]) {
      any = &c;
      break;
    }
  }
  std::string out = absl::StrFormat(
      "\n### %s: %d messages, %.1f MB per repetition (throughput: median of the repetitions; "
      "latency: over all of them)\n\n",
      title, any->Messages(), any->reps.empty() ? 0 : any->reps[0].bytes / 1e6);
  out += Header({"round", "system", "threads/streams", "reps", "msg/s", "MB/s", "× ceiling",
                 "× clamd", "p50 ms", "p99 ms", "CPU ms/msg", "client cores", "notes"});
  for (const std::string& round : rounds) {
    for (const char* system : {"ceiling", "pipeline", "vmscan", "clamd"}) {
      for (const Cell& c : r.cells) {
        if (c.workload != round || c.system != system) continue;
        const double ceiling = Throughput(r, round, "ceiling", CeilingThreads(c.concurrency));
        const double clamd = Throughput(r, round, "clamd", c.concurrency);
        const bool remote = c.system == "vmscan" || c.system == "clamd";
        out += Row({round, c.system, absl::StrCat(c.concurrency), absl::StrCat(c.reps.size()),
                    Fmt(c.MsgsPerS()), Fmt(c.MbPerS()), Fmt(Ratio(c.MsgsPerS(), ceiling), 2),
                    remote ? Fmt(Ratio(c.MsgsPerS(), clamd), 2) : "–", Fmt(c.Latency(50)),
                    Fmt(c.Latency(99)), Fmt(c.CpuMsPerMsg(), 2),
                    remote ? Fmt(c.ClientCores(), 2) : "–", Flags(c)});
      }
    }
  }
  return out;
}

std::string SizeTable(const Results& r) {
  std::vector<std::string> sizes = Workloads(r, "size:");
  if (sizes.empty()) return "";
  int conc = 8;
  for (const Cell& c : r.cells) {
    if (absl::StartsWith(c.workload, "size:") && c.system == "vmscan") conc = c.concurrency;
  }
  std::string out = absl::StrFormat(
      "\n### By message size: ceiling at 2 threads, vmscan and clamd at %d streams\n\n", conc);
  out += Header({"size", "msgs/rep", "ceiling msg/s", "vmscan msg/s", "clamd msg/s",
                 "vmscan ÷ ceiling", "vmscan ÷ clamd", "vmscan p50 / p99 ms", "p99 ÷ p50",
                 "clamd p50 / p99 ms", "vmscan MB/s", "notes"});
  for (const std::string& w : sizes) {
    const Cell* ceiling = r.Find(w, "ceiling", 2);
    const Cell* vm = r.Find(w, "vmscan", conc);
    const Cell* cd = r.Find(w, "clamd", conc);
    auto tput = [](const Cell* c) { return c == nullptr ? kNaN : c->MsgsPerS(); };
    auto lat = [](const Cell* c) {
      return c == nullptr ? std::string("–")
                          : absl::StrCat(Fmt(c->Latency(50)), " / ", Fmt(c->Latency(99)));
    };
    std::string notes;
    for (const Cell* c : {ceiling, vm, cd}) {
      if (c != nullptr && !Flags(*c).empty())
        absl::StrAppend(&notes, c->system, ": ", Flags(*c), " ");
    }
    out += Row({w.substr(5), vm == nullptr ? "–" : absl::StrCat(vm->Messages()), Fmt(tput(ceiling)),
                Fmt(tput(vm)), Fmt(tput(cd)), Fmt(Ratio(tput(vm), tput(ceiling)), 2),
                Fmt(Ratio(tput(vm), tput(cd)), 2), lat(vm),
                vm == nullptr ? "–" : Fmt(Ratio(vm->Latency(99), vm->Latency(50)), 2), lat(cd),
                vm == nullptr ? "–" : Fmt(vm->MbPerS()), notes});
  }
  return out;
}

std::string SignatureTable(const Results& r) {
  std::vector<std::string> labels;
  for (const PeerLoad& l : r.loads) {
    if (std::find(labels.begin(), labels.end(), l.signatures_label) == labels.end()) {
      labels.push_back(l.signatures_label);
    }
  }
  if (labels.empty()) return "";
  std::string out =
      "\n### Engine load and signature count (ready = process start until it serves; RSS in "
      "MiB)\n\n";
  out +=
      Header({"signature set", "signatures", "vmscan ready s", "vmscan engine load s",
              "vmscan RSS after load", "clamd ready s", "clamd RSS after load", "in-process load s",
              "ceiling@2 msg/s", "vmscan@8 msg/s", "clamd@8 msg/s", "vmscan ÷ clamd"});
  for (const std::string& label : labels) {
    const PeerLoad* vm = nullptr;
    const PeerLoad* cd = nullptr;
    const PeerLoad* in = nullptr;
    for (const PeerLoad& l : r.loads) {
      if (l.signatures_label != label) continue;
      if (l.system == "vmscan") vm = &l;
      if (l.system == "clamd") cd = &l;
      if (l.system == "ceiling") in = &l;
    }
    const std::string w = "sigs:" + label;
    const double vmt = Throughput(r, w, "vmscan", 8);
    const double cdt = Throughput(r, w, "clamd", 8);
    int64_t count = vm != nullptr ? vm->signatures : in != nullptr ? in->signatures : 0;
    out += Row({label, absl::StrCat(count), vm ? Fmt(vm->ready_s, 2) : "–",
                vm && vm->engine_load_ms >= 0 ? Fmt(vm->engine_load_ms / 1000, 2) : "–",
                vm ? Mib(vm->after_load.rss_kb) : "–", cd ? Fmt(cd->ready_s, 2) : "–",
                cd ? Mib(cd->after_load.rss_kb) : "–", in ? Fmt(in->ready_s, 2) : "–",
                Fmt(Throughput(r, w, "ceiling", 2)), Fmt(vmt), Fmt(cdt), Fmt(Ratio(vmt, cdt), 2)});
  }
  return out;
}

std::string MemoryTable(const Results& r) {
  std::string out =
      "\n### Memory (MiB; RSS = VmRSS, peak = VmHWM; anon/file = RssAnon/RssFile)\n\n";
  out += Header({"process", "when", "RSS", "anon", "file", "notes"});
  for (const PeerLoad& l : r.loads) {
    if (l.system == "ceiling") continue;
    out += Row({l.system == "vmscan" ? "vmscan-server" : "clamd",
                absl::StrCat("after load (", l.signatures_label, ")"), Mib(l.after_load.rss_kb),
                Mib(l.after_load.anon_kb), Mib(l.after_load.file_kb), ""});
    if (l.peak_rss_kb > 0) {
      out += Row({l.system == "vmscan" ? "vmscan-server" : "clamd",
                  absl::StrCat("peak under load (", l.signatures_label, ")"), Mib(l.peak_rss_kb),
                  "", "", "VmHWM when stopped"});
    }
  }
  const AgentMemory& a = r.agent;
  if (a.runs > 0) {
    out += Row({"vmscan-agent", "--version (binary + libraries)", Mib(a.version_kb), "", "", ""});
    out += Row({"vmscan-agent", "idle: scan of a 2 KB message", Mib(a.idle_kb),
                Mib(a.idle_sample.anon_kb), Mib(a.idle_sample.file_kb),
                "ru_maxrss; breakdown at its highest sample"});
    out += Row({"vmscan-agent",
                absl::StrFormat("under load: %d concurrent scans of %.1f MB", a.concurrent,
                                a.large_bytes / 1e6),
                Mib(a.loaded_kb), Mib(a.loaded_sample.anon_kb), Mib(a.loaded_sample.file_kb),
                a.failures > 0 ? absl::StrCat(a.failures, " failed: ", a.first_failure) : ""});
  }
  return out;
}

}  // namespace

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
          Ratio(Throughput(r, round, "vmscan", n), Throughput(r, round, "ceiling", 2));
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
    for (const std::string& w : Workloads(r, "size:")) cells.push_back({w, 8});
    for (const auto& [w, n] : cells) {
      const double ratio = Ratio(Throughput(r, w, "vmscan", n), Throughput(r, w, "clamd", n));
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

std::string RenderTables(const Results& r) {
  std::string out = "## Results\n\nMachine: ";
  std::vector<std::string> machine;
  for (const auto& [k, v] : r.machine) machine.push_back(absl::StrCat(k, " = ", v));
  out += absl::StrJoin(machine, "; ") + "\n";
  std::vector<std::string> config;
  for (const auto& [k, v] : r.config) config.push_back(absl::StrCat(k, " = ", v));
  out += "\nRun: " + absl::StrJoin(config, "; ") + "\n";

  out += "\n### Targets\n\n";
  out += Header({"target", "measured", "result"});
  for (const TargetCheck& t : CheckTargets(r)) {
    out += Row({t.name, t.measured, !t.measured_ok ? "not measured" : t.met ? "met" : "MISSED"});
  }
  out += RoundTable(r, "mixed@", "Mixed corpus");
  out += SizeTable(r);
  out += RoundTable(r, "vdi", "VDI: the same messages to many VMs");
  out += SignatureTable(r);
  out += MemoryTable(r);
  if (!r.notes.empty()) {
    out += "\n### Notes\n\n";
    for (const std::string& n : r.notes) out += "- " + n + "\n";
  }
  return out;
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
    const double ceiling = Throughput(r, c.workload, "ceiling", CeilingThreads(c.concurrency));
    const double clamd = Throughput(r, c.workload, "clamd", c.concurrency);
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
  j.Key("notes").BeginArray();
  for (const std::string& n : r.notes) j.String(n);
  j.EndArray();
  j.EndObject();
  return j.str() + "\n";
}

}  // namespace vmscan::bench
