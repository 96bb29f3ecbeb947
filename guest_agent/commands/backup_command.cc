#include "guest_agent/commands/backup_command.h"

#include <ostream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/command_line.h"
#include "common/logging.h"
#include "google/protobuf/util/json_util.h"
#include "guest_agent/backup/vm_backup_client.h"
#include "guest_agent/config/agent_config.h"

namespace vmscan {

const char kBackupUsage[] = R"(Usage: vmscan-agent backup list [--json] [options]
       vmscan-agent backup restore ID [--dir DIR] [options]

This VM's Backup records: the originals of its messages that the SVM deleted or disinfected.
With mutual TLS the SVM shows a VM its own records only. `restore` writes the original of record
ID, byte for byte (checked against its SHA-256), to DIR/ID.eml with mode 0600 — DIR is
restore_dir, by default <state_dir>/restored — and the SVM notes the restore in the record.
Restores an administrator sends (vmscanctl backup restore) arrive the same way while
`vmscan-agent run` is running.

Options:
  --json               list: the records as JSON, one vmscan.v1.BackupRecord per line
  --dir DIR            restore: write there instead of restore_dir
  --config FILE        agent config (YAML/JSON, vmscan.v1.AgentConfig)
  --set KEY=VALUE      override a config field (repeatable)

Exit codes: 0 done, 1 no such record of this VM, 3 no SVM reachable, 4 an SVM refused or failed
(or the copy arrived damaged: nothing was written), 64 usage or configuration error, 74 the
directory cannot be written.
)";

namespace {

int ExitFor(const absl::Status& status) {
  if (absl::IsNotFound(status)) return kBackupExitNotFound;
  if (absl::IsUnavailable(status)) return kBackupExitNoScanner;
  if (absl::IsFailedPrecondition(status) && absl::StrContains(status.message(), "cannot ")) {
    return kBackupExitCannotWrite;
  }
  return kBackupExitFailed;
}

std::string Line(const v1::BackupRecord& r) {
  std::string threats;
  for (const v1::Threat& t : r.threats())
    absl::StrAppend(&threats, threats.empty() ? "" : ",", t.name());
  return absl::StrCat(
      r.id(), "  ",
      absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixMicros(r.created_unix_micros()),
                       absl::UTCTimeZone()),
      "  ", v1::Action_Name(r.action()), "  ", threats, "  ", r.subject(), "\n");
}

}  // namespace

int RunBackupCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    (args.empty() ? err : out) << kBackupUsage;
    return args.empty() ? kBackupExitUsage : kBackupExitOk;
  }
  const std::string action = args[0];
  if (action != "list" && action != "restore") {
    err << "vmscan-agent backup: unknown action '" << action << "' (list or restore)\n\n"
        << kBackupUsage;
    return kBackupExitUsage;
  }
  CommandLine cl(std::vector<std::string>(args.begin() + 1, args.end()));
  std::string config_file, dir, id;
  std::vector<std::string> sets;
  bool json = false;
  while (!cl.done()) {
    if (cl.Flag("--config", &config_file) || cl.RepeatedFlag("--set", &sets)) continue;
    if (action == "restore" && cl.Flag("--dir", &dir)) continue;
    if (action == "list" && cl.Switch("--json")) {
      json = true;
      continue;
    }
    if (cl.Switch("--help") || cl.Switch("-h")) {
      out << kBackupUsage;
      return kBackupExitOk;
    }
    std::string word;
    if (cl.error().ok() && action == "restore" && id.empty() && cl.Positional(&word)) {
      id = word;
      continue;
    }
    if (cl.error().ok()) {
      err << "vmscan-agent backup: unexpected argument '" << cl.current() << "'\n";
      return kBackupExitUsage;
    }
  }
  if (!cl.error().ok()) {
    err << "vmscan-agent backup: " << cl.error().message() << "\n";
    return kBackupExitUsage;
  }
  absl::StatusOr<v1::AgentConfig> config = LoadAgentConfig(config_file, sets);
  if (!config.ok()) {
    err << "vmscan-agent: " << config.status().message() << "\n";
    return kBackupExitUsage;
  }
  SetLogLevel(*ParseLogLevel(config->log_level()));
  std::unique_ptr<VmBackupClient> client = VmBackupClient::Create(*config);

  if (action == "list") {
    std::vector<std::string> failed;
    absl::StatusOr<std::vector<v1::BackupRecord>> records = client->List(&failed);
    if (!records.ok()) {
      err << "vmscan-agent backup list: " << records.status().message() << "\n";
      return ExitFor(records.status());
    }
    for (const std::string& f : failed)
      err << "vmscan-agent backup list: not listed: " << f << "\n";
    for (const v1::BackupRecord& r : *records) {
      if (json) {
        std::string line;
        google::protobuf::util::JsonPrintOptions options;
        (void)google::protobuf::util::MessageToJsonString(r, &line, options);
        out << line << "\n";
      } else {
        out << Line(r);
      }
    }
    return kBackupExitOk;
  }
  if (id.empty()) {
    err << "vmscan-agent backup restore: which record? (an ID from 'vmscan-agent backup list')\n";
    return kBackupExitUsage;
  }
  absl::StatusOr<RestoredFile> file =
      client->Restore(id, dir.empty() ? VmBackupClient::RestoreDir(*config) : dir);
  if (!file.ok()) {
    err << "vmscan-agent backup restore: " << file.status().message() << "\n";
    return ExitFor(file.status());
  }
  out << "restored " << id << " (" << file->record.size() << " bytes, \"" << file->record.subject()
      << "\") to " << file->path << "\n";
  return kBackupExitOk;
}

}  // namespace vmscan
