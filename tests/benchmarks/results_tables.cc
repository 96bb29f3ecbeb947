// The Markdown rendering of Results (results.h).
#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tests/benchmarks/results.h"

namespace vmscan::bench {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string Fmt(double v, int decimals = 1) {
  if (!std::isfinite(v)) return "–";
  return absl::StrFormat("%.*f", decimals, v);
}

std::string Mib(int64_t kb) { return kb > 0 ? absl::StrFormat("%.1f", kb / 1024.0) : "–"; }

std::string Row(const std::vector<std::string>& fields) {
  return absl::StrCat("| ", absl::StrJoin(fields, " | "), " |\n");
}

std::string Header(const std::vector<std::string>& fields) {
  std::string sep;
  for (size_t i = 0; i < fields.size(); ++i) sep += i == 0 ? "|---|" : "---:|";
  return Row(fields) + sep + "\n";
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
  std::vector<std::string> rounds = r.WorkloadsWithPrefix(prefix);
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
        const double ceiling = r.Throughput(round, "ceiling", CeilingThreads(c.concurrency));
        const double clamd = r.Throughput(round, "clamd", c.concurrency);
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
  std::vector<std::string> sizes = r.WorkloadsWithPrefix("size:");
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
    const double vmt = r.Throughput(w, "vmscan", 8);
    const double cdt = r.Throughput(w, "clamd", 8);
    int64_t count = vm != nullptr ? vm->signatures : in != nullptr ? in->signatures : 0;
    out += Row({label, absl::StrCat(count), vm ? Fmt(vm->ready_s, 2) : "–",
                vm && vm->engine_load_ms >= 0 ? Fmt(vm->engine_load_ms / 1000, 2) : "–",
                vm ? Mib(vm->after_load.rss_kb) : "–", cd ? Fmt(cd->ready_s, 2) : "–",
                cd ? Mib(cd->after_load.rss_kb) : "–", in ? Fmt(in->ready_s, 2) : "–",
                Fmt(r.Throughput(w, "ceiling", 2)), Fmt(vmt), Fmt(cdt), Fmt(Ratio(vmt, cdt), 2)});
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
  for (const auto& [a, label] :
       {std::pair<const AgentMemory&, std::string>(r.agent, "vmscan-agent"),
        {r.agent_mtls, "vmscan-agent (mTLS)"}}) {
    if (a.runs == 0) continue;
    out += Row({label, "--version (binary + libraries)", Mib(a.version_kb), "", "", ""});
    out += Row({label, "idle: scan of a 2 KB message", Mib(a.idle_kb), Mib(a.idle_sample.anon_kb),
                Mib(a.idle_sample.file_kb), "ru_maxrss; breakdown at its highest sample"});
    out += Row({label,
                absl::StrFormat("under load: %d concurrent scans of %.1f MB", a.concurrent,
                                a.large_bytes / 1e6),
                Mib(a.loaded_kb), Mib(a.loaded_sample.anon_kb), Mib(a.loaded_sample.file_kb),
                a.failures > 0 ? absl::StrCat(a.failures, " failed: ", a.first_failure) : ""});
  }
  return out;
}

}  // namespace

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

}  // namespace vmscan::bench
