#include "guest_agent/commands/settings_command.h"

#include <filesystem>
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/command_line.h"
#include "common/logging.h"
#include "guest_agent/config/agent_config.h"
#include "guest_agent/control/agent_control_client.h"
#include "guest_agent/identity/vm_identity.h"
#include "guest_agent/settings/setting_keys.h"
#include "guest_agent/settings/settings_files.h"
#include "guest_agent/settings/settings_text.h"

namespace vmscan {

const char kSettingsUsage[] = R"(Usage: vmscan-agent settings show [--json] [options]
       vmscan-agent settings set KEY=VALUE... [--unset KEY]... [options]

The Mail Anti-Virus settings of this VM. `show` asks the SVM for each setting's effective value
and where it came from: default, policy of group X, locked by group X, or local. `set` changes
the VM's local settings: the SVM refuses a setting that a policy locks (naming the group), and
nothing changes then; accepted local settings are kept in <state_dir>/local-settings.json and
sent again whenever `vmscan-agent run` registers.

Keys: enabled, action_on_threat, on_unscannable, limits.max_message_bytes, limits.max_scan_bytes,
limits.max_file_bytes, limits.max_recursion, limits.max_files, limits.max_scan_time_ms,
backup.max_age_days, backup.max_total_bytes (a "mail_antivirus." prefix is accepted), e.g.
  vmscan-agent settings set mail_antivirus.action_on_threat=DELETE
  vmscan-agent settings set --unset action_on_threat      (inherit from the policy again)

Options:
  --json               show: print the SVM's answer as JSON (vmscan.v1.VmSettings)
  --unset KEY          set: remove KEY from the local settings (repeatable)
  --config FILE        agent config (YAML/JSON, vmscan.v1.AgentConfig)
  --set KEY=VALUE      override a config field (repeatable), e.g. --set vm.id=desk-7

Exit codes:
  0   done
  3   no SVM reachable: show printed the settings last received (<state_dir>/settings.json),
      set changed nothing (locks cannot be checked without the SVM)
  4   the SVM refused or failed the request (e.g. this VM is not registered yet)
  64  usage or configuration error, unknown key or bad value
  74  the SVM accepted the change but local-settings.json could not be written
  77  a policy locks the setting: nothing changed
)";

namespace {

struct Context {
  v1::AgentConfig config;
  v1::VmIdentity vm;
};

int Show(const Context& ctx, bool json, std::ostream& out, std::ostream& err) {
  std::unique_ptr<AgentControlClient> client = AgentControlClient::Create(ctx.config);
  absl::StatusOr<v1::VmSettings> settings = client->GetSettings(ctx.vm.id());
  if (settings.ok()) {
    out << (json ? SettingsToJson(*settings) : FormatSettingsTable(*settings));
    return kSettingsExitOk;
  }
  if (!absl::IsUnavailable(settings.status())) {
    err << "vmscan-agent settings: " << settings.status().message() << "\n";
    return kSettingsExitFailed;
  }
  const std::string path = CachedSettingsPath(ctx.config.state_dir());
  absl::StatusOr<std::optional<v1::VmSettings>> cached = ReadCachedSettings(ctx.config.state_dir());
  if (!cached.ok() || !cached->has_value()) {
    err << "vmscan-agent settings: " << settings.status().message()
        << "; no settings received earlier either ("
        << (cached.ok() ? absl::StrCat(path, " does not exist") : cached.status().ToString())
        << ")\n";
    return kSettingsExitNoScanner;
  }
  std::error_code ec;
  const auto written = std::filesystem::last_write_time(path, ec);
  std::string when;
  if (!ec) {
    const auto system = std::chrono::time_point_cast<std::chrono::system_clock::duration>(
        written - std::filesystem::file_time_type::clock::now() + std::chrono::system_clock::now());
    when = absl::StrCat(
        ", received ",
        absl::FormatTime("%Y-%m-%d %H:%M:%S %Z", absl::FromChrono(system), absl::LocalTimeZone()));
  }
  err << "vmscan-agent settings: " << settings.status().message()
      << "\nNOTE: showing the settings last received from the SVM (" << path << when
      << "); they may be out of date.\n";
  out << (json ? SettingsToJson(**cached) : FormatSettingsTable(**cached));
  return kSettingsExitNoScanner;
}

int Set(const Context& ctx, const std::vector<std::string>& assignments,
        const std::vector<std::string>& unsets, std::ostream& out, std::ostream& err) {
  std::vector<v1::SettingChange> changes;
  for (const std::string& assignment : assignments) {
    absl::StatusOr<v1::SettingChange> change = ParseSettingAssignment(assignment);
    if (!change.ok()) {
      err << "vmscan-agent settings set: " << change.status().message() << "\n";
      return kSettingsExitUsage;
    }
    changes.push_back(*std::move(change));
  }
  for (const std::string& key : unsets) {
    absl::StatusOr<v1::SettingChange> change = ParseSettingUnset(key);
    if (!change.ok()) {
      err << "vmscan-agent settings set: " << change.status().message() << "\n";
      return kSettingsExitUsage;
    }
    changes.push_back(*std::move(change));
  }
  if (changes.empty()) {
    err << "vmscan-agent settings set: nothing to set (give KEY=VALUE or --unset KEY)\n\n"
        << kSettingsUsage;
    return kSettingsExitUsage;
  }
  std::unique_ptr<AgentControlClient> client = AgentControlClient::Create(ctx.config);
  absl::StatusOr<v1::VmSettings> settings = client->UpdateLocalSettings(ctx.vm.id(), changes);
  if (!settings.ok()) {
    const absl::Status& status = settings.status();
    if (absl::IsFailedPrecondition(status)) {
      err << "vmscan-agent settings set: refused: " << status.message() << "; nothing changed\n";
      return kSettingsExitLocked;
    }
    if (absl::IsUnavailable(status)) {
      err << "vmscan-agent settings set: " << status.message()
          << "; nothing changed (policy locks can only be checked by the SVM)\n";
      return kSettingsExitNoScanner;
    }
    if (absl::IsInvalidArgument(status)) {
      err << "vmscan-agent settings set: " << status.message() << "\n";
      return kSettingsExitUsage;
    }
    err << "vmscan-agent settings set: " << status.message()
        << (absl::IsNotFound(status) ? " (is `vmscan-agent run` running on this VM?)" : "") << "\n";
    return kSettingsExitFailed;
  }
  absl::Status saved = WriteLocalSettings(ctx.config.state_dir(), settings->local());
  if (!saved.ok()) {
    err << "vmscan-agent settings set: the SVM accepted the change, but " << saved.message()
        << "\n";
    return kSettingsExitCannotWrite;
  }
  // What the running agent will log and cache anyway; written here too so that `show` without an
  // SVM is current.
  (void)WriteCachedSettings(ctx.config.state_dir(), *settings);
  out << FormatSettingsTable(*settings);
  return kSettingsExitOk;
}

}  // namespace

int RunSettingsCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    (args.empty() ? err : out) << kSettingsUsage;
    return args.empty() ? kSettingsExitUsage : kSettingsExitOk;
  }
  const std::string action = args[0];
  if (action != "show" && action != "set") {
    err << "vmscan-agent settings: unknown action '" << action << "' (show or set)\n\n"
        << kSettingsUsage;
    return kSettingsExitUsage;
  }
  CommandLine cl(std::vector<std::string>(args.begin() + 1, args.end()));
  std::string config_file;
  std::vector<std::string> sets, unsets, assignments;
  bool json = false;
  while (!cl.done()) {
    if (cl.Flag("--config", &config_file) || cl.RepeatedFlag("--set", &sets)) continue;
    if (action == "set" && cl.RepeatedFlag("--unset", &unsets)) continue;
    if (action == "show" && cl.Switch("--json")) {
      json = true;
      continue;
    }
    if (cl.Switch("--help") || cl.Switch("-h")) {
      out << kSettingsUsage;
      return kSettingsExitOk;
    }
    std::string word;
    if (cl.error().ok() && action == "set" && cl.Positional(&word)) {
      assignments.push_back(word);
      continue;
    }
    if (cl.error().ok()) {
      err << "vmscan-agent settings " << action << ": unexpected argument '" << cl.current()
          << "'\n\n"
          << kSettingsUsage;
      return kSettingsExitUsage;
    }
  }
  if (!cl.error().ok()) {
    err << "vmscan-agent settings " << action << ": " << cl.error().message() << "\n";
    return kSettingsExitUsage;
  }
  Context ctx;
  absl::StatusOr<v1::AgentConfig> config = LoadAgentConfig(config_file, sets);
  if (!config.ok()) {
    err << "vmscan-agent: " << config.status().message() << "\n";
    return kSettingsExitUsage;
  }
  ctx.config = *std::move(config);
  SetLogLevel(*ParseLogLevel(ctx.config.log_level()));
  absl::StatusOr<v1::VmIdentity> vm = ResolveVmIdentity(ctx.config);
  if (!vm.ok()) {
    err << "vmscan-agent: " << vm.status().message() << "\n";
    return kSettingsExitUsage;
  }
  ctx.vm = *std::move(vm);
  return action == "show" ? Show(ctx, json, out, err) : Set(ctx, assignments, unsets, out, err);
}

}  // namespace vmscan
