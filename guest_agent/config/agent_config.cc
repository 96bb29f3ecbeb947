#include "guest_agent/config/agent_config.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/config/config_loader.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/tls/credentials.h"
#include "guest_agent/config/ip_network.h"

namespace vmscan {

v1::AgentConfig DefaultAgentConfig() {
  v1::AgentConfig config;
  config.add_servers("127.0.0.1:7350");
  config.set_state_dir("./var/agent");
  config.set_chunk_bytes(256 * 1024);
  config.set_timeout_ms(300000);
  config.set_connect_timeout_ms(3000);
  config.set_log_level("info");
  config.set_on_no_scanner(v1::OnNoScanner::TEMPFAIL);
  config.set_shutdown_grace_ms(30000);
  config.set_heartbeat_interval_ms(10000);
  // Plaintext to an SVM on this machine without a PKI (the demo); anything else needs mutual TLS.
  config.mutable_tls()->set_insecure_loopback(true);
  config.mutable_tls()->set_reload_interval_s(10);
  config.set_hash_first(true);
  config.mutable_svm_choice()->set_discover(true);
  config.mutable_svm_choice()->set_refresh_ms(5000);
  config.mutable_svm_choice()->set_retry_ms(10000);
  v1::SmtpProxyConfig* proxy = config.mutable_smtp_proxy();
  proxy->set_max_message_bytes(50ull << 20);
  proxy->set_max_line_bytes(4096);
  proxy->set_idle_timeout_ms(300000);
  proxy->set_session_timeout_ms(3600000);
  proxy->set_max_sessions(200);
  proxy->set_scan_workers(4);
  proxy->set_bare_line_endings(v1::BareLineEndings::REJECT);
  proxy->set_upstream_tls(v1::UpstreamTls::OPPORTUNISTIC);
  v1::MilterConfig* milter = config.mutable_milter();
  milter->set_max_message_bytes(50ull << 20);
  milter->set_timeout_ms(7200000);
  return config;
}

namespace {

bool IsHostPort(const std::string& address) {
  size_t colon = address.rfind(':');
  return colon != std::string::npos && colon > 0 && colon + 1 < address.size();
}

absl::Status ValidateSmtpProxy(const v1::SmtpProxyConfig& proxy) {
  if (proxy.listen().empty()) return absl::OkStatus();
  // An empty host listens on every interface (":10025").
  if (proxy.listen().rfind(':') == std::string::npos || absl::EndsWith(proxy.listen(), ":")) {
    return absl::InvalidArgumentError(
        absl::StrCat("smtp_proxy.listen: '", proxy.listen(), "' is not host:port"));
  }
  if (!IsHostPort(proxy.upstream())) {
    return absl::InvalidArgumentError(
        absl::StrCat("smtp_proxy.upstream: '", proxy.upstream(),
                     "' is not host:port (the submission server the proxy relays to is required)"));
  }
  if (proxy.max_message_bytes() < 1024) {
    return absl::InvalidArgumentError("smtp_proxy.max_message_bytes must be >= 1024");
  }
  if (proxy.max_line_bytes() < 512 || proxy.max_line_bytes() > (1u << 20)) {
    return absl::InvalidArgumentError("smtp_proxy.max_line_bytes must be between 512 and 1048576");
  }
  if (proxy.idle_timeout_ms() < 100 || proxy.session_timeout_ms() < 100) {
    return absl::InvalidArgumentError(
        "smtp_proxy.idle_timeout_ms and session_timeout_ms must be >= 100");
  }
  if (proxy.max_sessions() < 1) {
    return absl::InvalidArgumentError("smtp_proxy.max_sessions must be >= 1");
  }
  if (proxy.scan_workers() < 1 || proxy.scan_workers() > 256) {
    return absl::InvalidArgumentError("smtp_proxy.scan_workers must be between 1 and 256");
  }
  if (proxy.tls_cert_file().empty() != proxy.tls_key_file().empty()) {
    return absl::InvalidArgumentError(
        "smtp_proxy.tls_cert_file and smtp_proxy.tls_key_file go together");
  }
  return absl::OkStatus();
}

absl::Status ValidateMilter(const v1::MilterConfig& milter) {
  if (milter.listen().empty()) return absl::OkStatus();
  if (!absl::StartsWith(milter.listen(), "inet:") && !absl::StartsWith(milter.listen(), "inet6:") &&
      !absl::StartsWith(milter.listen(), "unix:") && !absl::StartsWith(milter.listen(), "local:")) {
    return absl::InvalidArgumentError(
        absl::StrCat("milter.listen: '", milter.listen(),
                     "' is not a milter socket (inet:PORT@HOST, inet:HOST:PORT or unix:/path)"));
  }
  for (const std::string& network : milter.local_networks()) {
    absl::StatusOr<IpNetwork> parsed = IpNetwork::Parse(network);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("milter.local_networks: ", parsed.status().message()));
    }
  }
  if (milter.max_message_bytes() < 1024) {
    return absl::InvalidArgumentError("milter.max_message_bytes must be >= 1024");
  }
  if (milter.timeout_ms() < 1000)
    return absl::InvalidArgumentError("milter.timeout_ms must be >= 1000");
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateAgentConfig(const v1::AgentConfig& config) {
  if (config.servers().empty()) {
    return absl::InvalidArgumentError("servers must list at least one SVM address (host:port)");
  }
  for (const std::string& server : config.servers()) {
    if (server.empty() || !absl::StrContains(server, ':')) {
      return absl::InvalidArgumentError(
          absl::StrCat("servers: '", server, "' is not an address of the form host:port"));
    }
    VMSCAN_RETURN_IF_ERROR(CheckTlsConfig(config.tls(), server, "tls"));
  }
  const v1::SvmChoiceConfig& choice = config.svm_choice();
  if ((choice.refresh_ms() != 0 && choice.refresh_ms() < 100) ||
      (choice.retry_ms() != 0 && choice.retry_ms() < 100)) {
    return absl::InvalidArgumentError(
        "svm_choice.refresh_ms and svm_choice.retry_ms must be at least 100");
  }
  if (config.chunk_bytes() < 1024 || config.chunk_bytes() > (4u << 20)) {
    return absl::InvalidArgumentError(
        absl::StrCat("chunk_bytes must be between 1024 and 4194304, got ", config.chunk_bytes()));
  }
  if (config.timeout_ms() < 100) return absl::InvalidArgumentError("timeout_ms must be >= 100");
  if (config.connect_timeout_ms() < 10) {
    return absl::InvalidArgumentError("connect_timeout_ms must be >= 10");
  }
  if (config.heartbeat_interval_ms() < 100 || config.heartbeat_interval_ms() > 3600000) {
    return absl::InvalidArgumentError(
        absl::StrCat("heartbeat_interval_ms must be between 100 and 3600000, got ",
                     config.heartbeat_interval_ms()));
  }
  absl::StatusOr<LogLevel> level = ParseLogLevel(config.log_level());
  if (!level.ok()) return level.status();
  VMSCAN_RETURN_IF_ERROR(ValidateSmtpProxy(config.smtp_proxy()));
  VMSCAN_RETURN_IF_ERROR(ValidateMilter(config.milter()));
  if (!config.metrics().listen().empty() &&
      (UsesTls(config.metrics().tls()) || !IsLoopbackAddress(config.metrics().listen()))) {
    // What it serves names this VM's traffic only, and nothing but the VM itself should read it.
    return absl::InvalidArgumentError(
        absl::StrCat("metrics.listen of the agent is plaintext on a loopback address only "
                     "(127.0.0.1:PORT), got \"",
                     config.metrics().listen(), "\"",
                     UsesTls(config.metrics().tls()) ? " with metrics.tls" : ""));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::AgentConfig> LoadAgentConfig(const std::string& config_file,
                                                const std::vector<std::string>& sets) {
  v1::AgentConfig config = DefaultAgentConfig();
  if (!config_file.empty()) VMSCAN_RETURN_IF_ERROR(MergeConfigFile(config_file, &config));
  for (const std::string& set : sets) VMSCAN_RETURN_IF_ERROR(ApplyOverride(set, &config));
  VMSCAN_RETURN_IF_ERROR(ValidateAgentConfig(config));
  return config;
}

}  // namespace vmscan
