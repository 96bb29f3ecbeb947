#include "guest_agent/commands/run_command.h"

#include <signal.h>

#include <cerrno>
#include <fstream>
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/command_line.h"
#include "common/logging.h"
#include "guest_agent/client/scan_client.h"
#include "guest_agent/commands/interceptor_registry.h"
#include "guest_agent/commands/status_command.h"
#include "guest_agent/config/agent_config.h"
#include "guest_agent/control/control_loop.h"
#include "guest_agent/identity/hypervisor_type.h"
#include "guest_agent/identity/vm_identity.h"
#include "guest_agent/interceptor/interceptor.h"
#include "guest_agent/metrics/agent_metrics.h"
#include "guest_agent/metrics/metrics_server.h"
#include "guest_agent/settings/settings_files.h"

namespace vmscan {

const char kRunUsage[] = R"(Usage: vmscan-agent run [options]

Runs the agent: the interceptors enabled in the config (smtp_proxy.listen, milter.listen) hand
every message to the SVM before it goes on. With neither enabled, the agent only does the rest.

In the background it registers the VM with the SVM (id, name, hypervisor type, agent version and
the local settings of <state_dir>/local-settings.json), retrying while no SVM is reachable (the
interceptors work regardless), heartbeats every heartbeat_interval_ms (registering again when the
SVM no longer knows the VM), and watches the VM's settings: each change is logged and written to
<state_dir>/settings.json. Stops cleanly on SIGTERM or SIGINT, telling the SVM goodbye.

Options:
  --config FILE        agent config (YAML/JSON, vmscan.v1.AgentConfig)
  --set KEY=VALUE      override a config field (repeatable), e.g. --set smtp_proxy.listen=127.0.0.1:10025
  --port-file FILE     once everything listens, write one line per interceptor started there:
                       its name and the address it listens on, e.g. "smtp-proxy 127.0.0.1:10025"
                       and "milter inet:127.0.0.1:8894" (a port 0 in the config is the real one);
                       with metrics.listen also "metrics 127.0.0.1:PORT"

Exit codes: 0 stopped by a signal, 64 usage or configuration error, 69 an interceptor could not
start (address in use, unreadable TLS files, ...).
)";

namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 64;
constexpr int kExitCannotStart = 69;

}  // namespace

int RunAgentCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  // Block the stop signals before any thread exists (gRPC, libmilter and the proxy start some),
  // so that they are taken by sigtimedwait below (or by libmilter's own signal thread).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  CommandLine cl(args);
  std::string config_file, port_file;
  std::vector<std::string> sets;
  while (!cl.done()) {
    if (cl.Flag("--config", &config_file) || cl.RepeatedFlag("--set", &sets) ||
        cl.Flag("--port-file", &port_file)) {
      continue;
    }
    if (cl.Switch("--help") || cl.Switch("-h")) {
      out << kRunUsage;
      return kExitOk;
    }
    if (cl.error().ok()) {
      err << "vmscan-agent run: unexpected argument '" << cl.current() << "'\n\n" << kRunUsage;
      return kExitUsage;
    }
  }
  if (!cl.error().ok()) {
    err << "vmscan-agent run: " << cl.error().message() << "\n";
    return kExitUsage;
  }
  absl::StatusOr<v1::AgentConfig> config = LoadAgentConfig(config_file, sets);
  if (!config.ok()) {
    err << "vmscan-agent: " << config.status().message() << "\n";
    return kExitUsage;
  }
  SetLogLevel(*ParseLogLevel(config->log_level()));
  absl::StatusOr<v1::VmIdentity> vm = ResolveVmIdentity(*config);
  if (!vm.ok()) {
    err << "vmscan-agent: " << vm.status().message() << "\n";
    return kExitUsage;
  }
  RememberVmId(*config, *vm);  // for `settings show` run without root
  std::unique_ptr<ScanClient> choosing = ScanClient::Create(*config);
  // The ranking of SVMs, for `vmscan-agent status` (docs/design.md §6.1).
  choosing->StartChoosing(
      vm->hypervisor_host(), [path = SvmChoicePath(config->state_dir()),
                              vm_id = vm->id()](const v1::SvmChoiceStatus& ranking) {
        v1::SvmChoiceStatus status = ranking;
        status.set_vm_id(vm_id);
        absl::Status written = WriteFileAtomically(path, SettingsToJson(status), 0644);
        if (!written.ok()) {
          VMSCAN_LOG(WARNING) << "cannot write " << path << ": " << written;
        }
      });
  std::shared_ptr<const ScanClient> client = std::move(choosing);
  ScanFunction scan = [client](const v1::ScanMetadata& metadata, absl::string_view message) {
    return client->Scan(metadata, message);
  };
  // metrics.listen: every scan an interceptor asks for is counted on its way (AgentMetrics).
  AgentMetrics metrics(config->on_no_scanner());
  std::unique_ptr<MetricsServer> metrics_server;
  if (!config->metrics().listen().empty()) {
    scan = CountingScanFunction(std::move(scan), &metrics);
    absl::StatusOr<std::unique_ptr<MetricsServer>> started_metrics =
        MetricsServer::Start(config->metrics().listen(), [&metrics] { return metrics.Render(); });
    if (!started_metrics.ok()) {
      err << "vmscan-agent: " << started_metrics.status().message() << "\n";
      return kExitCannotStart;
    }
    metrics_server = *std::move(started_metrics);
    VMSCAN_LOG(INFO) << "vmscan-agent: metrics on http://" << metrics_server->address()
                     << "/metrics";
  }
  VMSCAN_LOG(INFO) << "vmscan-agent " << VMSCAN_VERSION << " running for VM " << vm->id() << " ("
                   << vm->name() << "), SVMs " << absl::StrJoin(config->servers(), ", ")
                   << ", on_no_scanner " << v1::OnNoScanner::Value_Name(config->on_no_scanner());

  absl::StatusOr<std::vector<std::unique_ptr<Interceptor>>> started =
      StartInterceptors(InterceptorKinds(), {*config, *vm, scan});
  if (!started.ok()) {
    err << "vmscan-agent: " << started.status().message() << "\n";
    return kExitCannotStart;
  }
  std::vector<std::unique_ptr<Interceptor>> interceptors = *std::move(started);
  std::string port_lines;
  for (const std::unique_ptr<Interceptor>& interceptor : interceptors) {
    VMSCAN_LOG(INFO) << "vmscan-agent: " << interceptor->name() << " listening on "
                     << interceptor->listen_address();
    absl::StrAppend(&port_lines, interceptor->name(), " ", interceptor->listen_address(), "\n");
  }
  if (metrics_server != nullptr)
    absl::StrAppend(&port_lines, "metrics ", metrics_server->address(), "\n");
  if (interceptors.empty()) {
    std::vector<std::string> keys;
    for (const InterceptorKind& kind : InterceptorKinds()) keys.push_back(kind.config_key);
    VMSCAN_LOG(INFO) << "vmscan-agent: no interceptor enabled (" << absl::StrJoin(keys, ", ")
                     << "): registering with the SVM and keeping the VM's settings only";
  }
  const std::string hypervisor_type = DetectHypervisorType(*config);
  std::unique_ptr<ControlLoop> control = ControlLoop::Start(*config, *vm, hypervisor_type);

  if (!port_file.empty()) {
    const std::string tmp = port_file + ".tmp";
    std::ofstream(tmp) << port_lines;
    std::rename(tmp.c_str(), port_file.c_str());
  }

  int signal = 0;
  const Interceptor* ended = nullptr;  // one that stopped on its own (libmilter took the signal)
  while (ended == nullptr) {
    timespec tick = {0, 200 * 1000 * 1000};
    signal = sigtimedwait(&stop_signals, nullptr, &tick);
    if (signal > 0) break;
    for (const std::unique_ptr<Interceptor>& interceptor : interceptors) {
      if (interceptor->stopped()) ended = interceptor.get();
    }
  }
  const absl::Duration grace = absl::Milliseconds(config->shutdown_grace_ms());
  VMSCAN_LOG(INFO) << "vmscan-agent: "
                   << (ended == nullptr ? absl::StrCat("signal ", signal)
                                        : absl::StrCat(ended->name(), " stopped"))
                   << ", stopping (grace " << absl::FormatDuration(grace) << ")";
  control->Stop();  // prompt: the goodbye has a short deadline
  for (std::unique_ptr<Interceptor>& interceptor : interceptors) interceptor->Stop(grace);
  VMSCAN_LOG(INFO) << "vmscan-agent: stopped";
  return kExitOk;
}

}  // namespace vmscan
