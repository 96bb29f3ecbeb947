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
#include "guest_agent/config/agent_config.h"
#include "guest_agent/control/control_loop.h"
#include "guest_agent/identity/hypervisor_type.h"
#include "guest_agent/identity/vm_identity.h"
#include "guest_agent/milter/milter_server.h"
#include "guest_agent/smtp_proxy/smtp_proxy.h"

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
  --port-file FILE     once everything listens, write the SMTP proxy's port there (0 if off)

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
  std::shared_ptr<const ScanClient> client = ScanClient::Create(*config);
  ScanFunction scan = [client](const v1::ScanMetadata& metadata, absl::string_view message) {
    return client->Scan(metadata, message);
  };
  VMSCAN_LOG(INFO) << "vmscan-agent " << VMSCAN_VERSION << " running for VM " << vm->id() << " ("
                   << vm->name() << "), SVMs " << absl::StrJoin(config->servers(), ", ")
                   << ", on_no_scanner " << v1::OnNoScanner::Value_Name(config->on_no_scanner());

  std::unique_ptr<SmtpProxy> proxy;
  if (!config->smtp_proxy().listen().empty()) {
    absl::StatusOr<std::unique_ptr<SmtpProxy>> started = SmtpProxy::Start(*config, *vm, scan);
    if (!started.ok()) {
      err << "vmscan-agent: smtp proxy: " << started.status().message() << "\n";
      return kExitCannotStart;
    }
    proxy = std::move(*started);
  }
  std::unique_ptr<MilterServer> milter;
  if (!config->milter().listen().empty()) {
    absl::StatusOr<std::unique_ptr<MilterServer>> started = MilterServer::Start(*config, *vm, scan);
    if (!started.ok()) {
      err << "vmscan-agent: milter: " << started.status().message() << "\n";
      if (proxy) proxy->Stop(absl::ZeroDuration());
      return kExitCannotStart;
    }
    milter = std::move(*started);
  }
  if (!proxy && !milter) {
    VMSCAN_LOG(INFO) << "vmscan-agent: no interceptor enabled (smtp_proxy.listen, milter.listen): "
                        "registering with the SVM and keeping the VM's settings only";
  }
  const std::string hypervisor_type = DetectHypervisorType(*config);
  std::unique_ptr<ControlLoop> control = ControlLoop::Start(*config, *vm, hypervisor_type);

  if (!port_file.empty()) {
    std::string tmp = port_file + ".tmp";
    std::ofstream(tmp) << (proxy ? proxy->port() : 0) << "\n";
    std::rename(tmp.c_str(), port_file.c_str());
  }

  int signal = 0;
  for (;;) {
    timespec tick = {0, 200 * 1000 * 1000};
    signal = sigtimedwait(&stop_signals, nullptr, &tick);
    if (signal > 0) break;
    if (milter && milter->stopped()) break;  // libmilter took the signal itself
  }
  const absl::Duration grace = absl::Milliseconds(config->shutdown_grace_ms());
  VMSCAN_LOG(INFO) << "vmscan-agent: "
                   << (signal > 0 ? absl::StrCat("signal ", signal) : std::string("milter stopped"))
                   << ", stopping (grace " << absl::FormatDuration(grace) << ")";
  control->Stop();  // prompt: the goodbye has a short deadline
  if (proxy) proxy->Stop(grace);
  if (milter) milter->Stop(grace);
  VMSCAN_LOG(INFO) << "vmscan-agent: stopped";
  return kExitOk;
}

}  // namespace vmscan
