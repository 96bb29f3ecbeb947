#include "tools/vmscanctl/vmscanctl.h"

#include <cstdlib>
#include <map>
#include <ostream>
#include <set>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/command_line.h"
#include "tools/vmscanctl/cli.h"

namespace vmscan {

const char kVmscanctlUsage[] =
    R"(Usage: vmscanctl [--server HOST:PORT] [--cert F --key F --cacert F] [--timeout MS] [--json]
                 AREA COMMAND [ARGS]

Administers a vmscan host server (SVM): its Backup (the originals of the messages it deleted
or disinfected), the administration groups and their Mail Anti-Virus policies, the
inventory of protected VMs and the scan engine's signatures; and the deployment's own PKI
for mutual TLS (pki).

Backup:
  backup list [FILTERS]       records, newest first, as an aligned table
      --vm VM                 only this VM's records: its id, or a name only one VM in the
                              inventory has (a VM deleted from the inventory: its id)
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
  backup restore ID [--wait]  sends the original back to its VM: the VM's agent fetches it at
                              its next heartbeat and writes it, mode 0600, to its restore_dir
                              as ID.eml; --wait until the agent reports it written (or
                              --timeout passes). The record keeps who restored what and when
  backup delete ID            removes one record (also a damaged one)
  backup purge --older-than D | --all
                              removes the records older than D (90m, 2h, 30d), or every record
  backup stats                totals of the store

Groups, a tree under "Managed devices", addressed by path ("Managed devices/Finance/Desktops";
the root may be left out: "Finance/Desktops"):
  groups list                 every group in tree order: PATH, VMS, SUBGROUPS, POLICY
  groups create PATH          a new group; its parent must exist
  groups delete PATH          an empty group (no subgroups, no VMs, no rule placing VMs in it),
                              with its policy
  groups rename PATH NEW_PATH renames and/or moves a group with its subtree, policies and VMs

VMs; VM is a VM id, or a name exactly one VM has:
  vms list [--group G [--recursive]]
                              NAME, ID, GROUP, STATE, LAST SEEN, ACTION, HYPERVISOR, AGENT;
                              only the VMs of group G (and of its subgroups with --recursive)
  vms show VM                 every field of one VM
  vms move VM GROUP           puts the VM into GROUP; assignment rules no longer move it
  vms delete VM               removes it from the inventory (its agent registers it again)
  vms effective VM            each setting's effective value and where it comes from: default,
                              policy of GROUP, locked by GROUP, or local (set on the VM)

Policies, one per group; a child group's policy overrides its parent's except where the parent
locked the setting, and a VM's local settings apply where no policy locked it:
  policy show GROUP           the keys the policy sets and locks, its version and author
  policy set GROUP KEY=VALUE... [--lock | --unlock] [--if-version N]
                              sets every KEY as one new version, or none of them. --lock or
                              --unlock applies to every KEY given; a bare KEY (no =VALUE) with
                              --lock or --unlock changes only its lock. --if-version N applies
                              only if the policy is still at version N (else exit 2)
  policy unset GROUP KEY... [--unlock] [--if-version N]
                              removes the keys from the policy: they inherit again; a lock
                              stays (a locked key then locks the inherited value) unless
                              --unlock is given too
  policy history GROUP [--limit N]
                              every version, newest first (default the newest 100)

  KEY is one of (a "mail_antivirus." prefix is accepted):
    enabled                   true or false
    action_on_threat          AUTO, DISINFECT_ELSE_DELETE, DISINFECT, DELETE or BLOCK
    on_unscannable            DELIVER_WITH_HEADER or BLOCK
    limits.max_message_bytes, limits.max_scan_bytes, limits.max_file_bytes,
    limits.max_recursion, limits.max_files, limits.max_scan_time_ms,
    backup.max_age_days, backup.max_total_bytes
                              decimal numbers

Assignment rules place a VM that registers for the first time (first match by position):
  rules list                  POS, ID, VM NAME, HOST, GROUP; then the default group
  rules add --group G [--name PATTERN] [--host PATTERN] [--position N]
                              PATTERNs are globs (*, ?, [...]) on the VM name (ignoring case)
                              and on its hypervisor host; give at least one. Without
                              --position the rule goes after the last one
  rules delete ID

The scan engine (its signature set):
  engine status               version, signature count, when it was loaded and how long that
                              took, the last reload's outcome
  engine reload               loads the signature directory again and waits for the outcome
                              (at least 5 minutes, whatever --timeout says): exit 0 when the
                              new signatures serve, 2 when they failed to load and the old ones
                              keep serving. vmscan-server also reloads on SIGHUP and when the
                              directory's files change (engine.watch_interval_ms)

PKI for mutual TLS (docs/security.md; works on a directory here, no server is contacted):
  pki init DIR [--svm-name N] [--dns NAMES] [--ip ADDRS] [--admin-name N] [--days N]
                              a new CA in DIR (mode 0700), an empty CRL, a certificate for the
                              first SVM (default name svm; its DNS names and IP addresses,
                              comma-separated, default localhost,127.0.0.1,::1) and for the
                              first administrator (default name admin)
  pki issue-vm --id ID --name NAME DIR
                              a VM's agent certificate: URI urn:vmscan:vm:ID, CN NAME
  pki issue-svm --name N (--dns NAMES | --ip ADDRS) DIR
  pki issue-admin --name N DIR
                              certificates are valid for --days N (default 397), or between
                              --not-before T and --not-after T (RFC 3339)
  pki revoke DIR (SERIAL | --vm ID | --admin N | --svm N)
                              adds the certificate(s) to DIR/crl.pem: SVMs with tls.crl_file
                              pointing at it refuse them at their next connection or call
  pki list DIR                every certificate issued: serial, kind, name, expiry, state

The server's standard gRPC services (for probes and scripts):
  server health [--service NAME]
                              SERVING or NOT_SERVING (while the server loads its signatures,
                              and once it drains on SIGTERM), for the server as a whole or for
                              one service (vmscan.v1.ScanService, ...); exit 0 only if SERVING
  server services             every gRPC service the server exposes (server reflection)

Options (anywhere on the line):
  --server HOST:PORT   the server's gRPC address (default 127.0.0.1:7350, or $VMSCANCTL_SERVER)
  --cert FILE, --key FILE, --cacert FILE
                       an administrator's certificate and key and the CA of the server's
                       certificate: mutual TLS (defaults: $VMSCANCTL_CERT, $VMSCANCTL_KEY,
                       $VMSCANCTL_CACERT). Without them: plaintext, to a loopback server only
  --server-name NAME   the name the server's certificate must carry (default: --server's host)
  --timeout MS         deadline of each call to the server, connecting included (default 30000)
  --json               print canonical proto3 JSON instead of text (not with export to stdout)
  --help, --version

Exit codes:
  0   done
  1   no such backup record, group, VM or rule
  2   the server failed or refused the request (a non-empty group, a path in use, a rename into
      the group's own subtree, a policy changed since --if-version: its message says why), or
      the record is damaged (data loss), the signatures of an engine reload failed to load
      (the old ones keep serving), or `server health` answered other than SERVING
  3   the server cannot be reached: nothing was done
  64  usage error (also an unknown setting key or value), or a request the server calls
      malformed (e.g. a malformed id or path)
  74  the output (-o FILE or standard output) cannot be written
)";

namespace {

// Options that take a value (-o also as --output), and switches; which commands take them is
// in each area's CommandSpec.
const std::set<std::string>& ValueOptions() {
  static const auto* options = new std::set<std::string>{
      "--vm",         "--since",      "--until",     "--threat",     "--action",   "--limit",
      "-o",           "--group",      "--name",      "--host",       "--position", "--if-version",
      "--older-than", "--id",         "--svm-name",  "--admin-name", "--dns",      "--ip",
      "--days",       "--not-before", "--not-after", "--admin",      "--svm",      "--service"};
  return *options;
}
const std::set<std::string>& Switches() {
  static const auto* switches =
      new std::set<std::string>{"--all", "--recursive", "--lock", "--unlock", "--wait"};
  return *switches;
}

const std::vector<std::pair<std::string, const std::vector<CommandSpec>*>>& Areas() {
  static const auto* areas =
      new std::vector<std::pair<std::string, const std::vector<CommandSpec>*>>{
          {"backup", &BackupCommands()}, {"groups", &GroupCommands()}, {"vms", &VmCommands()},
          {"policy", &PolicyCommands()}, {"rules", &RuleCommands()},   {"pki", &PkiCommands()},
          {"engine", &EngineCommands()}, {"server", &ServerCommands()}};
  return *areas;
}

// "list, show, export, delete, purge or stats".
std::string CommandNames(const std::vector<CommandSpec>& commands) {
  std::string out;
  for (size_t i = 0; i < commands.size(); ++i) {
    if (i > 0) out += i + 1 == commands.size() ? " or " : ", ";
    out += commands[i].name;
  }
  return out;
}

// Returns -1 when the command line is complete (and *spec is the command to run), else the
// exit code (usage or --help/--version).
int Parse(const std::vector<std::string>& args, Invocation& inv, const CommandSpec** spec,
          std::ostream& out, std::ostream& err) {
  CommandLine cl(args);
  std::string value;
  std::vector<std::string> words;
  while (!cl.done()) {
    if (cl.Flag("--server", &inv.server)) continue;
    if (cl.Flag("--cert", inv.tls.mutable_cert_file()) ||
        cl.Flag("--key", inv.tls.mutable_key_file()) ||
        cl.Flag("--cacert", inv.tls.mutable_ca_file()) ||
        cl.Flag("--server-name", inv.tls.mutable_server_name())) {
      continue;
    }
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
    if (cl.Switch("--help") || cl.Switch("-h")) {
      out << kVmscanctlUsage;
      return kCtlOk;
    }
    if (cl.Switch("--version")) {
      out << "vmscanctl " << VMSCAN_VERSION << "\n";
      return kCtlOk;
    }
    bool matched = false;
    for (const std::string& name : ValueOptions()) {
      if (cl.Flag(name, &value) || (name == "-o" && cl.Flag("--output", &value))) {
        if (!inv.options.emplace(name, value).second) {
          return Usage(err, absl::StrCat(name, " given twice"));
        }
        matched = true;
        break;
      }
    }
    for (const std::string& name : Switches()) {
      if (!matched && cl.Switch(name)) {
        inv.switches.insert(name);
        matched = true;
      }
    }
    if (matched) continue;
    if (cl.error().ok() && cl.Positional(&value)) {
      words.push_back(value);
      continue;
    }
    if (cl.error().ok()) return Usage(err, absl::StrCat("unknown option '", cl.current(), "'"));
  }
  if (!cl.error().ok()) return Usage(err, cl.error().message());
  const bool some_tls =
      !inv.tls.cert_file().empty() || !inv.tls.key_file().empty() || !inv.tls.ca_file().empty();
  if (some_tls &&
      (inv.tls.cert_file().empty() || inv.tls.key_file().empty() || inv.tls.ca_file().empty())) {
    return Usage(err, "mutual TLS needs all three of --cert, --key and --cacert");
  }
  if (words.empty()) {
    err << kVmscanctlUsage;
    return kCtlUsage;
  }
  inv.area = words[0];
  const std::vector<CommandSpec>* commands = nullptr;
  std::vector<std::string> area_names;
  for (const auto& [name, specs] : Areas()) {
    if (name == inv.area) commands = specs;
    area_names.push_back(name);
  }
  if (commands == nullptr) {
    return Usage(err, absl::StrCat("unknown area '", inv.area, "' (one of ",
                                   absl::StrJoin(area_names, ", "), ")"));
  }
  if (words.size() < 2) {
    return Usage(err, absl::StrCat(inv.area, ": which command? ", CommandNames(*commands)));
  }
  inv.command = words[1];
  for (const CommandSpec& candidate : *commands) {
    if (inv.command == candidate.name) *spec = &candidate;
  }
  if (*spec == nullptr) return Usage(err, absl::StrCat("unknown command '", inv.name(), "'"));
  inv.args.assign(words.begin() + 2, words.end());
  const std::vector<ArgSpec>& want = (*spec)->args;
  if (inv.args.size() < want.size()) {
    return Usage(err, absl::StrCat(inv.name(), ": ", want[inv.args.size()].question));
  }
  if (inv.args.size() > want.size() && !(*spec)->variadic) {
    return Usage(err,
                 absl::StrCat(inv.name(), ": unexpected argument '", inv.args[want.size()], "'"));
  }
  std::vector<std::string> given;
  for (const auto& [name, unused] : inv.options) given.push_back(name);
  given.insert(given.end(), inv.switches.begin(), inv.switches.end());
  for (const std::string& name : given) {
    if ((*spec)->options.count(name) == 0) {
      return Usage(err, absl::StrCat(name, " is not an option of '", inv.name(), "'"));
    }
  }
  return -1;
}

}  // namespace

int RunVmscanctl(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Invocation inv;
  // The environment gives defaults (as etcdctl's ETCDCTL_*), the command line wins.
  if (const char* v = std::getenv("VMSCANCTL_SERVER"); v != nullptr && *v) inv.server = v;
  if (const char* v = std::getenv("VMSCANCTL_CERT"); v != nullptr && *v) inv.tls.set_cert_file(v);
  if (const char* v = std::getenv("VMSCANCTL_KEY"); v != nullptr && *v) inv.tls.set_key_file(v);
  if (const char* v = std::getenv("VMSCANCTL_CACERT"); v != nullptr && *v) inv.tls.set_ca_file(v);
  const CommandSpec* spec = nullptr;
  if (int rc = Parse(args, inv, &spec, out, err); rc >= 0) return rc;
  return spec->run(inv, out, err);
}

}  // namespace vmscan
