#include "tools/vmscanctl/vmscanctl.h"

#include <map>
#include <memory>
#include <ostream>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/command_line.h"
#include "tools/vmscanctl/admin_client.h"
#include "tools/vmscanctl/atomic_file.h"
#include "tools/vmscanctl/format.h"

namespace vmscan {

const char kVmscanctlUsage[] =
    R"(Usage: vmscanctl [--server HOST:PORT] [--timeout MS] [--json] backup COMMAND [ARGS]

Administers the Backup of a vmscan host server (SVM): the originals of the messages it deleted
or disinfected.

Commands:
  backup list [FILTERS]       records, newest first, as an aligned table
      --vm ID                 only this VM's records
      --since T               created at or after T
      --until T               created before T; T is an RFC 3339 time (2026-11-27T06:00:00Z),
                              a UTC date (2026-11-27) or an age back from now (90m, 2h, 30d, 2w)
      --threat TEXT           some threat name contains TEXT, ignoring case
      --action A              DELETE or DELIVER_DISINFECTED
      --limit N               at most N records (default 1000, at most 10000)
  backup show ID              every field of one record
  backup export ID [-o FILE]  the original message, byte for byte; to standard output without
                              -o. Size and SHA-256 are verified before the message reaches
                              standard output or FILE; FILE (mode 0600) appears complete or not
                              at all, and replaces an existing file.
  backup delete ID            removes one record (also a damaged one)
  backup purge --older-than D | --all
                              removes the records older than D (90m, 2h, 30d), or every record
  backup stats                totals of the store

Options (anywhere on the line):
  --server HOST:PORT   the server's gRPC address (default 127.0.0.1:7350)
  --timeout MS         deadline of each call to the server, connecting included (default 30000)
  --json               print canonical proto3 JSON instead of text (not with export to stdout)
  --help, --version

Exit codes:
  0   done
  1   no such backup record
  2   the server failed or refused the request, or the record is damaged (data loss)
  3   the server cannot be reached: nothing was done
  64  usage error, or a request the server calls malformed (e.g. a malformed id)
  74  the output (-o FILE or standard output) cannot be written
)";

namespace {

constexpr char kDefaultServer[] = "127.0.0.1:7350";
constexpr int64_t kDefaultTimeoutMs = 30000;

// Command options and the commands that take them.
const std::map<std::string, std::set<std::string>>& ValueOptions() {
  static const auto* options = new std::map<std::string, std::set<std::string>>{
      {"--vm", {"list"}},     {"--since", {"list"}},       {"--until", {"list"}},
      {"--threat", {"list"}}, {"--action", {"list"}},      {"--limit", {"list"}},
      {"-o", {"export"}},     {"--older-than", {"purge"}},
  };
  return *options;
}

// How many words (after "backup") each command takes, its own name included.
const std::map<std::string, size_t>& CommandWords() {
  static const auto* words = new std::map<std::string, size_t>{
      {"list", 1}, {"show", 2}, {"export", 2}, {"delete", 2}, {"purge", 1}, {"stats", 1}};
  return *words;
}

struct Invocation {
  std::string server = kDefaultServer;
  int64_t timeout_ms = kDefaultTimeoutMs;
  bool json = false;
  bool all = false;
  std::vector<std::string> words;
  std::map<std::string, std::string> options;  // by canonical name, see ValueOptions()
};

int Usage(std::ostream& err, absl::string_view message) {
  err << "vmscanctl: " << message << "\n(see 'vmscanctl --help')\n";
  return kCtlUsage;
}

int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kCtlOk;
    case absl::StatusCode::kNotFound:
      return kCtlNotFound;
    case absl::StatusCode::kUnavailable:
      return kCtlUnreachable;
    case absl::StatusCode::kInvalidArgument:
      return kCtlUsage;
    default:
      return kCtlServerError;
  }
}

// "vmscanctl: backup show ID: not found: no backup record ID".
int Fail(std::ostream& err, absl::string_view what, const absl::Status& status) {
  std::string kind;
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      kind = "not found";
      break;
    case absl::StatusCode::kDataLoss:
      kind = "the record is damaged (DATA_LOSS)";
      break;
    case absl::StatusCode::kInvalidArgument:
      kind = "invalid request";
      break;
    case absl::StatusCode::kUnavailable:
      kind = "server unavailable";
      break;
    default:
      kind = absl::StrCat("server error (", absl::StatusCodeToString(status.code()), ")");
  }
  err << "vmscanctl: " << what << ": " << kind << ": " << SanitizeForTerminal(status.message())
      << "\n";
  return ExitCodeFor(status);
}

int WriteOut(std::ostream& out, std::ostream& err, absl::string_view text) {
  out << text;
  out.flush();
  if (!out) {
    err << "vmscanctl: cannot write to standard output\n";
    return kCtlCannotWrite;
  }
  return kCtlOk;
}

// Returns -1 when the command line is complete, else the exit code (usage or --help/--version).
int Parse(const std::vector<std::string>& args, Invocation& inv, std::ostream& out,
          std::ostream& err) {
  CommandLine cl(args);
  std::string value;
  while (!cl.done()) {
    if (cl.Flag("--server", &inv.server)) continue;
    if (cl.Flag("--timeout", &value)) {
      if (!absl::SimpleAtoi(value, &inv.timeout_ms) || inv.timeout_ms <= 0) {
        return Usage(err, absl::StrCat("--timeout wants milliseconds > 0, not \"", value, "\""));
      }
      continue;
    }
    if (cl.Switch("--json")) {
      inv.json = true;
      continue;
    }
    if (cl.Switch("--all")) {
      inv.all = true;
      continue;
    }
    if (cl.Switch("--help") || cl.Switch("-h")) {
      out << kVmscanctlUsage;
      return kCtlOk;
    }
    if (cl.Switch("--version")) {
      out << "vmscanctl " << VMSCAN_VERSION << "\n";
      return kCtlOk;
    }
    bool matched = false;
    for (const auto& [name, commands] : ValueOptions()) {
      if (cl.Flag(name, &value) || (name == "-o" && cl.Flag("--output", &value))) {
        if (!inv.options.emplace(name, value).second) {
          return Usage(err, absl::StrCat(name, " given twice"));
        }
        matched = true;
        break;
      }
    }
    if (matched) continue;
    if (cl.error().ok() && cl.Positional(&value)) {
      inv.words.push_back(value);
      continue;
    }
    if (cl.error().ok()) return Usage(err, absl::StrCat("unknown option '", cl.current(), "'"));
  }
  if (!cl.error().ok()) return Usage(err, cl.error().message());
  if (inv.words.empty()) {
    err << kVmscanctlUsage;
    return kCtlUsage;
  }
  if (inv.words[0] != "backup") {
    return Usage(err, absl::StrCat("unknown area '", inv.words[0], "' (only 'backup' so far)"));
  }
  if (inv.words.size() < 2)
    return Usage(err,
                 "backup: which command? list, show, export, "
                 "delete, purge or stats");
  const std::string& command = inv.words[1];
  auto words = CommandWords().find(command);
  if (words == CommandWords().end()) {
    return Usage(err, absl::StrCat("unknown command 'backup ", command, "'"));
  }
  if (inv.words.size() - 1 < words->second) {
    return Usage(err, absl::StrCat("backup ", command, ": which backup id?"));
  }
  if (inv.words.size() - 1 > words->second) {
    return Usage(err, absl::StrCat("backup ", command, ": unexpected argument '",
                                   inv.words[words->second + 1], "'"));
  }
  for (const auto& [name, unused] : inv.options) {
    if (ValueOptions().at(name).count(command) == 0) {
      return Usage(err, absl::StrCat(name, " is not an option of 'backup ", command, "'"));
    }
  }
  if (inv.all && command != "purge") {
    return Usage(err, absl::StrCat("--all is not an option of 'backup ", command, "'"));
  }
  return -1;
}

int List(BackupAdminClient& client, const Invocation& inv, std::ostream& out, std::ostream& err) {
  v1::BackupFilter filter;
  const absl::Time now = absl::Now();
  for (const auto& [name, value] : inv.options) {
    if (name == "--vm") {
      filter.set_vm_id(value);
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
  absl::StatusOr<v1::ListBackupsResponse> response = client.List(filter);
  if (!response.ok()) return Fail(err, "backup list", response.status());
  return WriteOut(out, err, inv.json ? ToJson(*response) : FormatRecordTable(*response));
}

int Show(BackupAdminClient& client, const Invocation& inv, std::ostream& out, std::ostream& err) {
  const std::string& id = inv.words[2];
  absl::StatusOr<v1::BackupRecord> record = client.Get(id);
  if (!record.ok()) return Fail(err, absl::StrCat("backup show ", id), record.status());
  return WriteOut(out, err, inv.json ? ToJson(*record) : FormatRecordDetails(*record));
}

int Export(BackupAdminClient& client, const Invocation& inv, std::ostream& out, std::ostream& err) {
  const std::string& id = inv.words[2];
  const std::string what = absl::StrCat("backup export ", id);
  auto output = inv.options.find("-o");
  if (output == inv.options.end() || output->second == "-") {
    // Kept in memory until verified, so that standard output never gets a damaged copy (an
    // original is at most the server's max_message_bytes, 50 MiB by default).
    std::string message;
    absl::StatusOr<v1::BackupRecord> record = client.Export(id, [&](absl::string_view chunk) {
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
  absl::StatusOr<v1::BackupRecord> record = client.Export(id, [&](absl::string_view chunk) {
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

int Delete(BackupAdminClient& client, const Invocation& inv, std::ostream& out, std::ostream& err) {
  const std::string& id = inv.words[2];
  if (absl::Status s = client.Delete(id); !s.ok()) {
    return Fail(err, absl::StrCat("backup delete ", id), s);
  }
  return WriteOut(out, err,
                  inv.json ? absl::StrCat("{\"id\":\"", id, "\",\"deleted\":true}\n")
                           : absl::StrCat("deleted backup ", id, "\n"));
}

int Purge(BackupAdminClient& client, const Invocation& inv, std::ostream& out, std::ostream& err) {
  auto older_than = inv.options.find("--older-than");
  const bool by_age = older_than != inv.options.end();
  if (by_age == inv.all) {
    return Usage(err, "backup purge: give either --older-than AGE (e.g. 30d) or --all");
  }
  v1::PurgeBackupsRequest request;
  if (inv.all) {
    request.set_all(true);
  } else {
    absl::StatusOr<absl::Duration> age = ParseAge(older_than->second);
    if (!age.ok()) return Usage(err, absl::StrCat("--older-than: ", age.status().message()));
    if (*age < absl::Seconds(1)) return Usage(err, "--older-than: at least 1s");
    request.set_older_than_seconds(absl::ToInt64Seconds(*age));
  }
  absl::StatusOr<uint64_t> removed = client.Purge(request);
  if (!removed.ok()) return Fail(err, "backup purge", removed.status());
  v1::PurgeBackupsResponse response;
  response.set_removed(*removed);
  return WriteOut(
      out, err,
      inv.json
          ? ToJson(response)
          : absl::StrCat("removed ", *removed, *removed == 1 ? " record" : " records",
                         inv.all ? "" : absl::StrCat(" older than ", older_than->second), "\n"));
}

int Stats(BackupAdminClient& client, const Invocation& inv, std::ostream& out, std::ostream& err) {
  absl::StatusOr<v1::BackupStats> stats = client.Stats();
  if (!stats.ok()) return Fail(err, "backup stats", stats.status());
  return WriteOut(out, err, inv.json ? ToJson(*stats) : FormatStats(*stats));
}

}  // namespace

int RunVmscanctl(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Invocation inv;
  if (int rc = Parse(args, inv, out, err); rc >= 0) return rc;
  std::unique_ptr<BackupAdminClient> client =
      BackupAdminClient::Create(inv.server, absl::Milliseconds(inv.timeout_ms));
  const std::string& command = inv.words[1];
  if (command == "list") return List(*client, inv, out, err);
  if (command == "show") return Show(*client, inv, out, err);
  if (command == "export") return Export(*client, inv, out, err);
  if (command == "delete") return Delete(*client, inv, out, err);
  if (command == "purge") return Purge(*client, inv, out, err);
  return Stats(*client, inv, out, err);
}

}  // namespace vmscan
