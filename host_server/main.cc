// vmscan-server: the SVM's host server. Everything but flag parsing and signal handling lives in
// the libraries (HostServer), which the tests share.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/command_line.h"
#include "common/config/config_loader.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/systemd/systemd_notifier.h"
#include "host_server/service/host_server.h"
#include "host_server/service/server_config.h"
#ifdef VMSCAN_SSCANF_FAST_PATH
#include "host_server/engine/sscanf_fast_path/fast_path_check.h"
#endif

namespace {

constexpr char kUsage[] = R"(Usage: vmscan-server [--config FILE] [--set KEY=VALUE]... [options]

The vmscan host server (SVM): scans mail for the guest agents of this host.

Options:
  --config FILE      YAML or JSON config (vmscan.v1.ServerConfig); embedded defaults without it
  --set KEY=VALUE    override one field, e.g. --set limits.max_message_bytes=10485760
                     (repeatable; lists take comma-separated values)
  --print-config     print the effective configuration as JSON and exit
  --port-file FILE   write the bound port to FILE once listening (for listen: 127.0.0.1:0)
  --help, --version

Signals: SIGTERM or SIGINT stop the server; scans in flight finish first (up to 10 s).
         SIGHUP loads the signatures again without stopping scans (vmscanctl engine status
         shows the outcome).
)";

struct Flags {
  std::string config_file;
  std::vector<std::string> sets;
  std::string port_file;
  bool print_config = false;
};

// Returns -1 to go on, or an exit code.
int ParseFlags(int argc, char** argv, Flags* flags) {
  vmscan::CommandLine cl(argc, argv, 1);
  while (!cl.done()) {
    if (cl.Flag("--config", &flags->config_file) || cl.RepeatedFlag("--set", &flags->sets) ||
        cl.Flag("--port-file", &flags->port_file)) {
      continue;
    }
    if (cl.Switch("--print-config")) {
      flags->print_config = true;
    } else if (cl.Switch("--help") || cl.Switch("-h")) {
      std::cout << kUsage;
      return 0;
    } else if (cl.Switch("--version")) {
      std::cout << "vmscan-server " << VMSCAN_VERSION << "\n";
      return 0;
    } else if (cl.error().ok()) {
      std::cerr << "vmscan-server: unknown argument '" << cl.current() << "'\n\n" << kUsage;
      return 64;
    }
  }
  if (!cl.error().ok()) {
    std::cerr << "vmscan-server: " << cl.error().message() << "\n";
    return 64;
  }
  return -1;
}

absl::StatusOr<vmscan::v1::ServerConfig> LoadConfig(const Flags& flags) {
  vmscan::v1::ServerConfig config = vmscan::DefaultServerConfig();
  if (!flags.config_file.empty()) {
    VMSCAN_RETURN_IF_ERROR(vmscan::MergeConfigFile(flags.config_file, &config));
  }
  for (const std::string& set : flags.sets) {
    VMSCAN_RETURN_IF_ERROR(vmscan::ApplyOverride(set, &config));
  }
  VMSCAN_RETURN_IF_ERROR(vmscan::ValidateServerConfig(config));
  return config;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (int rc = ParseFlags(argc, argv, &flags); rc >= 0) return rc;
  absl::StatusOr<vmscan::v1::ServerConfig> config = LoadConfig(flags);
  if (!config.ok()) {
    std::cerr << "vmscan-server: " << config.status().message() << "\n";
    return 78;  // EX_CONFIG
  }
  if (flags.print_config) {
    std::cout << vmscan::ConfigToJson(*config) << "\n";
    return 0;
  }
  vmscan::SetLogLevel(*vmscan::ParseLogLevel(config->log_level()));
#ifdef VMSCAN_SSCANF_FAST_PATH
  vmscan::LogSscanfFastPathCheck();  // linked in: say whether libclamav's sscanf reaches it
#endif

  // Signals are taken synchronously by this thread; block them before any thread starts so that
  // gRPC's and the pool's threads inherit the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // Under systemd (Type=notify, deploy/systemd/vmscan-server.service): status while the
  // signatures load, READY once they serve, STOPPING while scans drain, watchdog pings between.
  const vmscan::SystemdNotifier systemd;
  systemd.Status("loading the signature database");
  absl::StatusOr<std::unique_ptr<vmscan::HostServer>> server = vmscan::HostServer::Start(*config);
  if (!server.ok()) {
    systemd.Status(absl::StrCat("failed to start: ", server.status().message()));
    std::cerr << "vmscan-server: " << server.status().message() << "\n";
    return 69;  // EX_UNAVAILABLE
  }
  if (!flags.port_file.empty()) {
    std::string tmp = flags.port_file + ".tmp";
    std::ofstream(tmp) << (*server)->port() << "\n";
    std::rename(tmp.c_str(), flags.port_file.c_str());
  }
  systemd.Ready(absl::StrCat("serving on ", (*server)->address(), " with ",
                             (*server)->engine()->signature_count(), " signatures"));
  int sig = -1;
  while (true) {
    // Without a watchdog: a plain wait for the signal (checked once a minute).
    const absl::Duration tick = std::min(systemd.watchdog_interval(), absl::Minutes(1));
    const timespec timeout = absl::ToTimespec(tick);
    sig = sigtimedwait(&signals, nullptr, &timeout);
    if (sig <= 0) {
      systemd.Watchdog();
      continue;
    }
    if (sig != SIGHUP) break;
    VMSCAN_LOG(INFO) << "SIGHUP: reloading the signatures";
    (*server)->reloader()->RequestReload("sighup");
  }
  VMSCAN_LOG(INFO) << "signal " << sig << ": shutting down";
  systemd.Stopping("draining scans in flight (up to 10 s)");
  (*server)->Shutdown();
  VMSCAN_LOG(INFO) << "stopped";
  return 0;
}
