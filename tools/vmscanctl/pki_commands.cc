// `vmscanctl pki ...`: the deployment's own CA and certificates (tools/pki, docs/security.md).
// Works on a directory on this machine; no server is contacted.
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tools/pki/pki_directory.h"
#include "tools/vmscanctl/cli.h"
#include "tools/vmscanctl/terminal_text.h"

namespace vmscan {
namespace {

std::string Option(const Invocation& inv, const std::string& name) {
  auto it = inv.options.find(name);
  return it == inv.options.end() ? "" : it->second;
}

std::vector<std::string> List(const Invocation& inv, const std::string& name) {
  std::vector<std::string> out;
  for (absl::string_view item : absl::StrSplit(Option(inv, name), ',', absl::SkipEmpty())) {
    out.emplace_back(item);
  }
  return out;
}

// --days N (default 397), --not-before/--not-after T (RFC 3339; for testing expiry).
absl::StatusOr<pki::Validity> ValidityOf(const Invocation& inv) {
  pki::Validity validity;
  if (inv.has("--days")) {
    int days = 0;
    if (!absl::SimpleAtoi(Option(inv, "--days"), &days) || days <= 0 || days > 36500) {
      return absl::InvalidArgumentError(
          absl::StrCat("--days wants a number of days from 1 to 36500, not \"",
                       SanitizeForTerminal(Option(inv, "--days")), "\""));
    }
    validity.validity = absl::Hours(24) * days;
  }
  for (const char* name : {"--not-before", "--not-after"}) {
    if (!inv.has(name)) continue;
    absl::Time t;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, Option(inv, name), &t, &error)) {
      return absl::InvalidArgumentError(absl::StrCat(name, " wants an RFC 3339 time, not \"",
                                                     SanitizeForTerminal(Option(inv, name)), "\""));
    }
    (std::string(name) == "--not-before" ? validity.not_before : validity.not_after) = t;
  }
  return validity;
}

// A JSON string literal of `text` (which may hold any UTF-8 a certificate's CN holds).
std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(&out, "\\u00", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string Issued(const pki::IssuedFiles& files, absl::string_view what) {
  return absl::StrCat("issued ", what, " (serial ", files.serial_hex, "):\n  certificate ",
                      files.cert_file, "\n  key         ", files.key_file, " (mode 0600)\n");
}

int Init(const Invocation& inv, std::ostream& out, std::ostream& err) {
  const std::string& dir = inv.args[0];
  pki::InitOptions options;
  if (inv.has("--svm-name")) options.svm_name = Option(inv, "--svm-name");
  if (inv.has("--admin-name")) options.admin_name = Option(inv, "--admin-name");
  options.svm_dns_names = List(inv, "--dns");
  options.svm_ip_addresses = List(inv, "--ip");
  absl::StatusOr<pki::Validity> validity = ValidityOf(inv);
  if (!validity.ok()) return Usage(err, validity.status().message());
  options.leaf = *validity;
  if (absl::Status s = pki::InitPki(dir, options); !s.ok()) return Fail(err, inv.name(), s);
  return WriteOut(
      out, err,
      absl::StrCat("created a PKI in ", dir, ":\n  CA          ", dir, "/ca.pem (key ", dir,
                   "/ca.key: keep it on the admin host)\n  CRL         ", dir,
                   "/crl.pem\n  SVM         ", dir, "/svm/", options.svm_name,
                   ".pem\n  admin       ", dir, "/admin/", options.admin_name,
                   ".pem\nnext: vmscanctl pki issue-vm --id VM-ID --name VM-NAME ", dir, "\n"));
}

int Issue(const Invocation& inv, PeerRole role, std::ostream& out, std::ostream& err) {
  const std::string& dir = inv.args[0];
  const std::string name = Option(inv, role == PeerRole::kVm ? "--id" : "--name");
  if (name.empty()) {
    return Usage(err, absl::StrCat(inv.name(), ": for whom? ",
                                   role == PeerRole::kVm ? "--id VM-ID" : "--name NAME"));
  }
  absl::StatusOr<pki::Validity> validity = ValidityOf(inv);
  if (!validity.ok()) return Usage(err, validity.status().message());
  const std::string common_name = role == PeerRole::kVm ? Option(inv, "--name") : "";
  absl::StatusOr<pki::IssuedFiles> files =
      pki::Issue(dir, role, name, common_name, List(inv, "--dns"), List(inv, "--ip"), *validity);
  if (!files.ok()) return Fail(err, inv.name(), files.status());
  return WriteOut(out, err, Issued(*files, absl::StrCat(pki::RoleWord(role), " ", name)));
}

int IssueVm(const Invocation& inv, std::ostream& out, std::ostream& err) {
  return Issue(inv, PeerRole::kVm, out, err);
}
int IssueSvm(const Invocation& inv, std::ostream& out, std::ostream& err) {
  return Issue(inv, PeerRole::kSvm, out, err);
}
int IssueAdmin(const Invocation& inv, std::ostream& out, std::ostream& err) {
  return Issue(inv, PeerRole::kAdmin, out, err);
}

int Revoke(const Invocation& inv, std::ostream& out, std::ostream& err) {
  const std::string& dir = inv.args[0];
  const bool by_serial = inv.args.size() == 2;
  int selectors = by_serial ? 1 : 0;
  for (const char* name : {"--vm", "--admin", "--svm"}) selectors += inv.has(name) ? 1 : 0;
  if (selectors != 1) {
    return Usage(err,
                 "pki revoke: which certificate? one SERIAL, --vm ID, --admin NAME or --svm NAME");
  }
  absl::StatusOr<std::vector<pki::IndexEntry>> revoked =
      by_serial          ? pki::RevokeSerial(dir, inv.args[1])
      : inv.has("--vm")  ? pki::RevokeName(dir, PeerRole::kVm, Option(inv, "--vm"))
      : inv.has("--svm") ? pki::RevokeName(dir, PeerRole::kSvm, Option(inv, "--svm"))
                         : pki::RevokeName(dir, PeerRole::kAdmin, Option(inv, "--admin"));
  if (!revoked.ok()) return Fail(err, inv.name(), revoked.status());
  std::string text;
  for (const pki::IndexEntry& e : *revoked) {
    absl::StrAppend(&text, "revoked ", pki::RoleWord(e.role), " ", SanitizeForTerminal(e.name),
                    " (serial ", e.serial_hex, ")\n");
  }
  absl::StrAppend(&text, "wrote ", dir,
                  "/crl.pem: SVMs whose tls.crl_file is (a copy of) it refuse these "
                  "certificates at their next connection or call\n");
  return WriteOut(out, err, text);
}

int ListIssued(const Invocation& inv, std::ostream& out, std::ostream& err) {
  absl::StatusOr<std::vector<pki::IndexEntry>> issued = pki::ListIssued(inv.args[0]);
  if (!issued.ok()) return Fail(err, inv.name(), issued.status());
  if (inv.json) {
    std::vector<std::string> rows;
    for (const pki::IndexEntry& e : *issued) {
      rows.push_back(absl::StrCat(
          "{\"serial\":\"", e.serial_hex, "\",\"kind\":\"", pki::RoleWord(e.role),
          "\",\"name\":", JsonString(e.name), ",\"commonName\":", JsonString(e.common_name),
          ",\"notAfter\":\"", absl::FormatTime(absl::RFC3339_sec, e.not_after, absl::UTCTimeZone()),
          "\",\"revoked\":", e.revoked_at ? "true" : "false", "}"));
    }
    return WriteOut(out, err, absl::StrCat("[", absl::StrJoin(rows, ","), "]\n"));
  }
  const absl::Time now = absl::Now();
  std::vector<std::vector<std::string>> table = {
      {"SERIAL", "KIND", "NAME", "CN", "EXPIRES (UTC)", "STATE"}};
  for (const pki::IndexEntry& e : *issued) {
    table.push_back({e.serial_hex, pki::RoleWord(e.role), SanitizeForTerminal(e.name),
                     SanitizeForTerminal(e.common_name), FormatUtc(absl::ToUnixMicros(e.not_after)),
                     e.revoked_at ? "revoked" : (e.not_after < now ? "expired" : "valid")});
  }
  return WriteOut(out, err, AlignedTable(table, std::vector<bool>(table[0].size(), false)));
}

}  // namespace

const std::vector<CommandSpec>& PkiCommands() {
  static const ArgSpec kDir = {"DIR", "which PKI directory?"};
  static const auto* commands = new std::vector<CommandSpec>{
      {"init",
       {kDir},
       false,
       {"--svm-name", "--admin-name", "--dns", "--ip", "--days", "--not-before", "--not-after"},
       Init},
      {"issue-vm",
       {kDir},
       false,
       {"--id", "--name", "--days", "--not-before", "--not-after"},
       IssueVm},
      {"issue-svm",
       {kDir},
       false,
       {"--name", "--dns", "--ip", "--days", "--not-before", "--not-after"},
       IssueSvm},
      {"issue-admin",
       {kDir},
       false,
       {"--name", "--days", "--not-before", "--not-after"},
       IssueAdmin},
      // revoke DIR [SERIAL]: variadic so that the serial is optional (a selector may replace it).
      {"revoke", {kDir}, true, {"--vm", "--admin", "--svm"}, Revoke},
      {"list", {kDir}, false, {}, ListIssued},
  };
  return *commands;
}

}  // namespace vmscan
