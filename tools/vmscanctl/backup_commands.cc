// `vmscanctl backup ...`: the Backup of the SVM over vmscan.v1.BackupAdmin (admin.proto); `list
// --vm NAME` asks InventoryAdmin (control.proto) for the VM's id.
#include <algorithm>
#include <memory>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tools/vmscanctl/atomic_file.h"
#include "tools/vmscanctl/backup_client.h"
#include "tools/vmscanctl/backup_format.h"
#include "tools/vmscanctl/cli.h"
#include "tools/vmscanctl/inventory_policy_client.h"
#include "tools/vmscanctl/terminal_text.h"
#include "tools/vmscanctl/vmscanctl.h"

namespace vmscan {
namespace {

// The id of `vm`, a VM id or a name only one VM has, as `vms show` takes it: Backup records
// carry the id only, so the inventory resolves the name. Text the inventory does not know (a VM
// deleted from it keeps its records) and a server without an inventory take `vm` as the id.
absl::StatusOr<std::string> BackupVmId(const Invocation& inv, const std::string& vm) {
  absl::StatusOr<v1::VmRecord> record = InventoryPolicyClient::Create(inv.target())->GetVm(vm);
  if (record.ok()) return record->vm().id();
  if (absl::IsNotFound(record.status()) || absl::IsUnimplemented(record.status())) return vm;
  return record.status();
}

int List(const Invocation& inv, std::ostream& out, std::ostream& err) {
  auto client = BackupClient::Create(inv.target());
  v1::BackupFilter filter;
  const absl::Time now = absl::Now();
  for (const auto& [name, value] : inv.options) {
    if (name == "--vm") {
      absl::StatusOr<std::string> id = BackupVmId(inv, value);
      if (!id.ok()) return Fail(err, absl::StrCat("backup list --vm ", value), id.status());
      filter.set_vm_id(*id);
    } else if (name == "--threat") {
      filter.set_threat(value);
    } else if (name == "--since" || name == "--until") {
      absl::StatusOr<absl::Time> t = ParseTimeArg(value, now);
      if (!t.ok()) return Usage(err, absl::StrCat(name, ": ", t.status().message()));
      const int64_t micros = std::max<int64_t>(absl::ToUnixMicros(*t), 0);
      if (name == "--since") {
        filter.set_since_unix_micros(micros);
      } else {
        filter.set_until_unix_micros(std::max<int64_t>(micros, 1));  // 0 would mean "no bound"
      }
    } else if (name == "--action") {
      absl::StatusOr<v1::Action> action = ParseActionArg(value);
      if (!action.ok()) return Usage(err, absl::StrCat("--action: ", action.status().message()));
      filter.set_action(*action);
    } else if (name == "--limit") {
      uint32_t limit = 0;
      if (!absl::SimpleAtoi(value, &limit) || limit == 0) {
        return Usage(err, absl::StrCat("--limit wants a number > 0, not \"", value, "\""));
      }
      filter.set_limit(limit);
    }
  }
  absl::StatusOr<v1::ListBackupsResponse> response = client->List(filter);
  if (!response.ok()) return Fail(err, "backup list", response.status());
  return WriteOut(out, err, inv.json ? ToJson(*response) : FormatRecordTable(*response));
}

int Show(const Invocation& inv, std::ostream& out, std::ostream& err) {
  auto client = BackupClient::Create(inv.target());
  const std::string& id = inv.args[0];
  absl::StatusOr<v1::BackupRecord> record = client->Get(id);
  if (!record.ok()) return Fail(err, absl::StrCat("backup show ", id), record.status());
  return WriteOut(out, err, inv.json ? ToJson(*record) : FormatRecordDetails(*record));
}

int Export(const Invocation& inv, std::ostream& out, std::ostream& err) {
  auto client = BackupClient::Create(inv.target());
  const std::string& id = inv.args[0];
  const std::string what = absl::StrCat("backup export ", id);
  auto output = inv.options.find("-o");
  if (output == inv.options.end() || output->second == "-") {
    // Kept in memory until verified, so that standard output never gets a damaged copy (an
    // original is at most the server's max_message_bytes, 50 MiB by default).
    std::string message;
    absl::StatusOr<v1::BackupRecord> record = client->Export(id, [&](absl::string_view chunk) {
      message.append(chunk.data(), chunk.size());
      return absl::OkStatus();
    });
    if (!record.ok()) return Fail(err, what, record.status());
    out.write(message.data(), static_cast<std::streamsize>(message.size()));
    out.flush();
    if (!out) {
      err << "vmscanctl: " << what << ": cannot write to standard output\n";
      return kCtlCannotWrite;
    }
    return kCtlOk;
  }
  const std::string& path = output->second;
  absl::StatusOr<std::unique_ptr<AtomicFile>> file = AtomicFile::Create(path);
  if (!file.ok()) {
    err << "vmscanctl: " << what << ": " << file.status().message() << "\n";
    return kCtlCannotWrite;
  }
  absl::Status write_error;
  absl::StatusOr<v1::BackupRecord> record = client->Export(id, [&](absl::string_view chunk) {
    write_error = (*file)->Append(chunk);
    return write_error;
  });
  if (!write_error.ok()) {
    err << "vmscanctl: " << what << ": " << write_error.message() << "\n";
    return kCtlCannotWrite;
  }
  if (!record.ok()) return Fail(err, what, record.status());  // *file removes the partial copy
  if (absl::Status committed = (*file)->Commit(); !committed.ok()) {
    err << "vmscanctl: " << what << ": " << committed.message() << "\n";
    return kCtlCannotWrite;
  }
  return WriteOut(out, err,
                  inv.json
                      ? ToJson(*record)
                      : absl::StrCat("exported backup ", id, " to ", path, ": ", record->size(),
                                     " bytes, SHA-256 ", record->sha256(), " verified\n"));
}

// The restore asked for last, with its delivery time once the VM's agent confirmed it.
const v1::RestoreEvent* LastRestore(const v1::BackupRecord& record) {
  return record.restores().empty() ? nullptr : &record.restores(record.restores_size() - 1);
}

int Restore(const Invocation& inv, std::ostream& out, std::ostream& err) {
  auto client = BackupClient::Create(inv.target());
  const std::string& id = inv.args[0];
  const std::string what = absl::StrCat("backup restore ", id);
  absl::StatusOr<v1::BackupRecord> record = client->Restore(id);
  if (!record.ok()) return Fail(err, what, record.status());
  const int64_t asked = LastRestore(*record)->requested_unix_micros();
  const std::string vm =
      DisplayText(record->vm().name().empty() ? record->vm().id() : record->vm().name());
  if (inv.has("--wait")) {
    const absl::Time give_up = absl::Now() + inv.timeout();
    while (true) {
      const v1::RestoreEvent* last = LastRestore(*record);
      if (last != nullptr && last->requested_unix_micros() == asked &&
          last->delivered_unix_micros() > 0) {
        return WriteOut(out, err,
                        inv.json ? ToJson(*record)
                                 : absl::StrCat("restored ", DisplayText(id), " to VM ", vm, ": ",
                                                DisplayText(last->delivered_to()), "\n"));
      }
      if (absl::Now() >= give_up) {
        err << "vmscanctl: " << what << ": VM " << vm << " has not fetched it within "
            << absl::FormatDuration(inv.timeout())
            << " (is its agent running?); the restore stays pending\n";
        return kCtlServerError;
      }
      absl::SleepFor(absl::Milliseconds(500));
      record = client->Get(id);
      if (!record.ok()) return Fail(err, what, record.status());
    }
  }
  return WriteOut(out, err,
                  inv.json ? ToJson(*record)
                           : absl::StrCat("restore of ", DisplayText(id), " sent to VM ", vm,
                                          ": its agent writes it at its next heartbeat\n"));
}

int Delete(const Invocation& inv, std::ostream& out, std::ostream& err) {
  auto client = BackupClient::Create(inv.target());
  const std::string& id = inv.args[0];
  if (absl::Status s = client->Delete(id); !s.ok()) {
    return Fail(err, absl::StrCat("backup delete ", id), s);
  }
  return WriteOut(out, err,
                  inv.json ? absl::StrCat("{\"id\":\"", id, "\",\"deleted\":true}\n")
                           : absl::StrCat("deleted backup ", id, "\n"));
}

int Purge(const Invocation& inv, std::ostream& out, std::ostream& err) {
  auto client = BackupClient::Create(inv.target());
  auto older_than = inv.options.find("--older-than");
  const bool by_age = older_than != inv.options.end();
  if (by_age == inv.has("--all")) {
    return Usage(err, "backup purge: give either --older-than AGE (e.g. 30d) or --all");
  }
  v1::PurgeBackupsRequest request;
  if (inv.has("--all")) {
    request.set_all(true);
  } else {
    absl::StatusOr<absl::Duration> age = ParseAge(older_than->second);
    if (!age.ok()) return Usage(err, absl::StrCat("--older-than: ", age.status().message()));
    if (*age < absl::Seconds(1)) return Usage(err, "--older-than: at least 1s");
    request.set_older_than_seconds(absl::ToInt64Seconds(*age));
  }
  absl::StatusOr<uint64_t> removed = client->Purge(request);
  if (!removed.ok()) return Fail(err, "backup purge", removed.status());
  v1::PurgeBackupsResponse response;
  response.set_removed(*removed);
  return WriteOut(
      out, err,
      inv.json
          ? ToJson(response)
          : absl::StrCat("removed ", *removed, *removed == 1 ? " record" : " records",
                         inv.has("--all") ? "" : absl::StrCat(" older than ", older_than->second),
                         "\n"));
}

int Stats(const Invocation& inv, std::ostream& out, std::ostream& err) {
  auto client = BackupClient::Create(inv.target());
  absl::StatusOr<v1::BackupStats> stats = client->Stats();
  if (!stats.ok()) return Fail(err, "backup stats", stats.status());
  return WriteOut(out, err, inv.json ? ToJson(*stats) : FormatStats(*stats));
}

}  // namespace

const std::vector<CommandSpec>& BackupCommands() {
  static const auto* commands = new std::vector<CommandSpec>{
      {"list", {}, false, {"--vm", "--since", "--until", "--threat", "--action", "--limit"}, List},
      {"show", {{"ID", "which backup id?"}}, false, {}, Show},
      {"export", {{"ID", "which backup id?"}}, false, {"-o"}, Export},
      {"restore", {{"ID", "which backup id?"}}, false, {"--wait"}, Restore},
      {"delete", {{"ID", "which backup id?"}}, false, {}, Delete},
      {"purge", {}, false, {"--older-than", "--all"}, Purge},
      {"stats", {}, false, {}, Stats},
  };
  return *commands;
}

}  // namespace vmscan
