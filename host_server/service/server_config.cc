#include "host_server/service/server_config.h"

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/tls/credentials.h"

namespace vmscan {

v1::ServerConfig DefaultServerConfig() {
  v1::ServerConfig config;
  config.set_listen("127.0.0.1:7350");
  config.set_state_dir("./var");
  // Plaintext on loopback without a PKI (the demo); anything else needs mutual TLS.
  config.mutable_tls()->set_insecure_loopback(true);
  config.mutable_tls()->set_reload_interval_s(10);
  config.set_verdict_cache_bytes(64ull << 20);
  config.mutable_mail_antivirus()->set_action_on_threat(v1::ActionOnThreat::AUTO);
  config.mutable_mail_antivirus()->set_on_unscannable(v1::OnUnscannable::DELIVER_WITH_HEADER);
  v1::ScanLimits* limits = config.mutable_limits();
  limits->set_max_message_bytes(50ull << 20);
  limits->set_max_scan_bytes(200ull << 20);
  limits->set_max_file_bytes(100ull << 20);
  limits->set_max_recursion(17);
  limits->set_max_files(10000);
  limits->set_max_scan_time_ms(120000);
  unsigned cores = std::thread::hardware_concurrency();
  config.set_workers(cores == 0 ? 2 : cores);
  config.set_queue_depth(64);
  config.set_max_inflight_bytes(1ull << 30);
  config.set_scan_deadline_ms(300000);
  config.set_log_level("info");
  config.mutable_backup()->set_max_age_days(30);
  config.mutable_backup()->set_max_total_bytes(1ull << 30);
  config.mutable_control()->set_default_group("Managed devices");
  config.mutable_control()->set_heartbeat_timeout_ms(30000);
  config.mutable_scheduler()->set_max_vm_share_percent(50);
  config.mutable_scheduler()->set_quantum_bytes(1 << 20);
  config.mutable_scheduler()->set_scan_overhead_bytes(64 << 10);
  config.mutable_engine()->set_watch_interval_ms(10000);
  config.mutable_engine()->set_reload_nice(10);
  // No metrics endpoint unless metrics.listen is set; on loopback it may then be plaintext.
  config.mutable_metrics()->mutable_tls()->set_insecure_loopback(true);
  return config;
}

absl::Status ValidateServerConfig(const v1::ServerConfig& config) {
  if (config.listen().empty()) return absl::InvalidArgumentError("listen must not be empty");
  if (config.state_dir().empty()) return absl::InvalidArgumentError("state_dir must not be empty");
  VMSCAN_RETURN_IF_ERROR(CheckTlsConfig(config.tls(), config.listen(), "tls"));
  if (!config.metrics().listen().empty()) {
    VMSCAN_RETURN_IF_ERROR(
        CheckTlsConfig(config.metrics().tls(), config.metrics().listen(), "metrics.tls"));
  }
  if (config.workers() < 1 || config.workers() > 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("workers must be between 1 and 1024, got ", config.workers()));
  }
  if (config.queue_depth() > 100000) {
    return absl::InvalidArgumentError(
        absl::StrCat("queue_depth must be at most 100000, got ", config.queue_depth()));
  }
  if (config.limits().max_message_bytes() < 1) {
    return absl::InvalidArgumentError("limits.max_message_bytes must be at least 1");
  }
  if (config.limits().max_message_bytes() > (2ull << 30)) {
    return absl::InvalidArgumentError("limits.max_message_bytes must be at most 2 GiB");
  }
  const uint64_t file_limit = config.limits().max_file_bytes();
  if (file_limit != 0 && file_limit < config.limits().max_message_bytes()) {
    // The engine treats the whole message as one file: every message between the two limits
    // would be accepted and then always be unscannable.
    return absl::InvalidArgumentError(absl::StrCat("limits.max_file_bytes (", file_limit,
                                                   ") must be at least limits.max_message_bytes (",
                                                   config.limits().max_message_bytes(), ")"));
  }
  if (config.max_inflight_bytes() != 0 &&
      config.max_inflight_bytes() < config.limits().max_message_bytes()) {
    // A message of the largest accepted size could never be taken in.
    return absl::InvalidArgumentError(
        absl::StrCat("max_inflight_bytes (", config.max_inflight_bytes(),
                     ") must be at least limits.max_message_bytes (",
                     config.limits().max_message_bytes(), "), or 0 for no bound"));
  }
  const v1::SchedulerConfig& scheduler = config.scheduler();
  if (scheduler.max_vm_share_percent() < 1 || scheduler.max_vm_share_percent() > 100) {
    return absl::InvalidArgumentError(
        absl::StrCat("scheduler.max_vm_share_percent must be between 1 and 100, got ",
                     scheduler.max_vm_share_percent()));
  }
  if (MaxVmInflightBytes(config) != 0 &&
      MaxVmInflightBytes(config) < config.limits().max_message_bytes()) {
    // One VM could never send a message of the largest accepted size.
    return absl::InvalidArgumentError(
        absl::StrCat("scheduler.max_vm_share_percent (", scheduler.max_vm_share_percent(),
                     ") of max_inflight_bytes (", config.max_inflight_bytes(), ") is ",
                     MaxVmInflightBytes(config), " bytes, less than limits.max_message_bytes (",
                     config.limits().max_message_bytes(), ")"));
  }
  if (scheduler.quantum_bytes() < 1) {
    return absl::InvalidArgumentError("scheduler.quantum_bytes must be at least 1");
  }
  if (config.engine().reload_nice() > 19) {
    return absl::InvalidArgumentError(absl::StrCat(
        "engine.reload_nice must be between 0 and 19, got ", config.engine().reload_nice()));
  }
  if (config.engine().watch_interval_ms() != 0 && config.engine().watch_interval_ms() < 100) {
    return absl::InvalidArgumentError(
        "engine.watch_interval_ms must be 0 (no watching) or at least 100");
  }
  if (config.scan_deadline_ms() < 100) {
    return absl::InvalidArgumentError("scan_deadline_ms must be at least 100");
  }
  if (config.control().heartbeat_timeout_ms() < 100) {
    return absl::InvalidArgumentError("control.heartbeat_timeout_ms must be at least 100");
  }
  for (int i = 0; i < config.svm_directory().peers_size(); ++i) {
    const std::string& address = config.svm_directory().peers(i).address();
    const size_t colon = address.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("svm_directory.peers[", i, "].address: '", address, "' is not host:port"));
    }
  }
  const std::string& advertised = config.svm_directory().advertise_address();
  if (!advertised.empty() && advertised.rfind(':') == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("svm_directory.advertise_address: '", advertised, "' is not host:port"));
  }
  absl::StatusOr<LogLevel> level = ParseLogLevel(config.log_level());
  if (!level.ok()) return level.status();
  return absl::OkStatus();
}

uint64_t MaxVmInflightBytes(const v1::ServerConfig& config) {
  const uint32_t share = config.scheduler().max_vm_share_percent();
  if (config.max_inflight_bytes() == 0 || share >= 100) return 0;
  return config.max_inflight_bytes() / 100 * share +
         config.max_inflight_bytes() % 100 * share / 100;
}

int MaxVmQueuedScans(const v1::ServerConfig& config) {
  const uint32_t share = config.scheduler().max_vm_share_percent();
  if (share >= 100) return 0;
  return std::max<int>(1, static_cast<int>(config.queue_depth() * share / 100));
}

v1::MailAntivirusSettings DefaultVmSettings(const v1::ServerConfig& config) {
  v1::MailAntivirusSettings settings;
  settings.set_enabled(true);
  settings.set_action_on_threat(config.mail_antivirus().action_on_threat());
  settings.set_on_unscannable(config.mail_antivirus().on_unscannable());
  v1::PolicyLimits* limits = settings.mutable_limits();
  limits->set_max_message_bytes(config.limits().max_message_bytes());
  limits->set_max_scan_bytes(config.limits().max_scan_bytes());
  limits->set_max_file_bytes(config.limits().max_file_bytes());
  limits->set_max_recursion(config.limits().max_recursion());
  limits->set_max_files(config.limits().max_files());
  limits->set_max_scan_time_ms(config.limits().max_scan_time_ms());
  settings.mutable_backup()->set_max_age_days(config.backup().max_age_days());
  settings.mutable_backup()->set_max_total_bytes(config.backup().max_total_bytes());
  return settings;
}

}  // namespace vmscan
