#include "guest_agent/commands/status_command.h"

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/command_line.h"
#include "common/logging.h"
#include "google/protobuf/util/json_util.h"
#include "guest_agent/client/scan_client.h"
#include "guest_agent/commands/scan_command.h"
#include "guest_agent/config/agent_config.h"
#include "guest_agent/identity/vm_identity.h"
#include "guest_agent/settings/settings_files.h"
#include "vmscan/v1/directory.pb.h"

namespace vmscan {

const char kStatusUsage[] = R"(Usage: vmscan-agent status [--json] [--live] [options]

Which SVM this VM's mail goes to, and why: every SVM the agent knows (configured in `servers`
or learned from an SVM's directory), in the order the next scan tries them — the SVM of this
VM's own hypervisor host first, then the least loaded; SVMs that failed lately last — with each
one's hypervisor host, load and state (up, overloaded, down, unknown). Read from the running
agent (<state_dir>/svm-choice.json, refreshed every svm_choice.refresh_ms); without a running
agent, or with --live, this command asks the SVMs itself.

Options:
  --json               print vmscan.v1.SvmChoiceStatus as JSON
  --live               ask the SVMs now instead of reading the running agent's ranking
  --config FILE        agent config (YAML/JSON, vmscan.v1.AgentConfig)
  --set KEY=VALUE      override a config field (repeatable)

Exit codes:
  0   at least one SVM is up
  3   no SVM answered
  64  usage or configuration error
)";

std::string SvmChoicePath(absl::string_view state_dir) {
  return absl::StrCat(state_dir, "/svm-choice.json");
}

std::string FormatSvmChoice(const v1::SvmChoiceStatus& status, absl::string_view source) {
  std::string out = absl::StrCat(
      "VM ", status.vm_id().empty() ? "(unknown)" : status.vm_id(), " on hypervisor host ",
      status.hypervisor_host().empty() ? "(unknown)" : status.hypervisor_host(), "\n",
      "SVM choice ", source, ", as of ",
      absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixMillis(status.updated_unix_ms()),
                       absl::UTCTimeZone()),
      ":\n");
  int rank = 0;
  for (const v1::SvmChoice& choice : status.svms()) {
    const std::string load =
        choice.svm().load() < 0 ? "-" : absl::StrFormat("%.2f", choice.svm().load());
    absl::StrAppendFormat(
        &out, "  %d. %-22s %-10s host %-12s load %-5s %s%s%s\n", rank + 1, choice.svm().address(),
        choice.state(),
        choice.svm().hypervisor_host().empty() ? "?" : choice.svm().hypervisor_host(), load,
        rank == 0 ? "<- next scan: " : "", choice.reason(),
        choice.configured() ? "" : " (learned)");
    ++rank;
  }
  if (status.svms().empty()) absl::StrAppend(&out, "  (no SVM configured)\n");
  return out;
}

namespace {

bool AnyUp(const v1::SvmChoiceStatus& status) {
  for (const v1::SvmChoice& choice : status.svms()) {
    if (choice.state() == "up" || choice.state() == "overloaded") return true;
  }
  return false;
}

}  // namespace

int RunStatusCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  CommandLine cl(args);
  std::string config_file;
  std::vector<std::string> sets;
  bool json = false, live = false;
  while (!cl.done()) {
    if (cl.Flag("--config", &config_file) || cl.RepeatedFlag("--set", &sets)) continue;
    if (cl.Switch("--json")) {
      json = true;
      continue;
    }
    if (cl.Switch("--live")) {
      live = true;
      continue;
    }
    if (cl.Switch("--help") || cl.Switch("-h")) {
      out << kStatusUsage;
      return 0;
    }
    if (cl.error().ok()) {
      err << "vmscan-agent status: unexpected argument '" << cl.current() << "'\n\n"
          << kStatusUsage;
      return kExitUsage;
    }
  }
  if (!cl.error().ok()) {
    err << "vmscan-agent status: " << cl.error().message() << "\n";
    return kExitUsage;
  }
  absl::StatusOr<v1::AgentConfig> config = LoadAgentConfig(config_file, sets);
  if (!config.ok()) {
    err << "vmscan-agent: " << config.status().message() << "\n";
    return kExitUsage;
  }
  SetLogLevel(LogLevel::kWARNING);  // the choice is printed; the log lines would repeat it

  v1::SvmChoiceStatus status;
  std::string source;
  const absl::Duration refresh = absl::Milliseconds(
      config->svm_choice().refresh_ms() > 0 ? config->svm_choice().refresh_ms() : 5000);
  if (!live) {
    std::ifstream in(SvmChoicePath(config->state_dir()));
    std::stringstream text;
    text << in.rdbuf();
    if (in && google::protobuf::util::JsonStringToMessage(text.str(), &status).ok() &&
        absl::Now() - absl::FromUnixMillis(status.updated_unix_ms()) < 3 * refresh) {
      source = "of the running agent";
    } else {
      status.Clear();
    }
  }
  if (source.empty()) {
    absl::StatusOr<v1::VmIdentity> vm = ResolveVmIdentity(*config);
    if (!vm.ok()) {
      err << "vmscan-agent: " << vm.status().message() << "\n";
      return kExitUsage;
    }
    std::unique_ptr<ScanClient> client = ScanClient::Create(*config);
    client->StartChoosing(vm->hypervisor_host(), nullptr);  // one round now
    status = client->ChoiceStatus();
    status.set_vm_id(vm->id());
    source = live ? "asked now" : "asked now (no running agent's ranking)";
  }
  if (json) {
    std::string line;
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(status, &line, options);
    out << line << "\n";
  } else {
    out << FormatSvmChoice(status, source);
  }
  return AnyUp(status) ? 0 : kExitNoScanner;
}

}  // namespace vmscan
