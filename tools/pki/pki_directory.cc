#include "tools/pki/pki_directory.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "common/tls/openssl_util.h"
#include "tools/pki/certificate_authority.h"

namespace vmscan::pki {
namespace {

namespace fs = std::filesystem;

constexpr absl::Duration kClockSkew = absl::Minutes(5);
constexpr absl::Duration kCrlValidity = absl::Hours(24 * 365);

std::string CaCert(const std::string& dir) { return dir + "/ca.pem"; }
std::string CaKey(const std::string& dir) { return dir + "/ca.key"; }
std::string CrlFile(const std::string& dir) { return dir + "/crl.pem"; }
std::string IndexFile(const std::string& dir) { return dir + "/index.tsv"; }

absl::Status ErrnoError(absl::string_view what, const std::string& path) {
  return absl::FailedPreconditionError(
      absl::StrCat("cannot ", what, " ", path, ": ", std::strerror(errno)));
}

// Writes `data` to `path` through a synced temporary file and a rename.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view data, mode_t mode) {
  const std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoError("create", tmp);
  fchmod(fd, mode);  // an older tmp file may have kept other bits
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      absl::Status status = ErrnoError("write", tmp);
      close(fd);
      return status;
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) {
    absl::Status status = ErrnoError("sync", tmp);
    close(fd);
    return status;
  }
  close(fd);
  if (rename(tmp.c_str(), path.c_str()) != 0) return ErrnoError("rename into", path);
  return absl::OkStatus();
}

absl::Status MakeDir(const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return ErrnoError("create directory", dir);
  return absl::OkStatus();
}

absl::StatusOr<CertificateAuthority> LoadCa(const std::string& dir) {
  absl::StatusOr<std::string> cert = openssl::ReadFile(CaCert(dir));
  if (absl::IsNotFound(cert.status())) {
    return absl::NotFoundError(
        absl::StrCat(dir, " holds no PKI (no ca.pem): create one with vmscanctl pki init ", dir));
  }
  VMSCAN_RETURN_IF_ERROR(cert.status());
  VMSCAN_ASSIGN_OR_RETURN(std::string key, openssl::ReadFile(CaKey(dir)));
  return CertificateAuthority::Load(*cert, key);
}

std::string FormatEntry(const IndexEntry& e) {
  return absl::StrCat(e.serial_hex, "\t", RoleWord(e.role), "\t", e.name, "\t", e.common_name, "\t",
                      absl::ToUnixSeconds(e.not_after), "\t",
                      e.revoked_at ? absl::StrCat(absl::ToUnixSeconds(*e.revoked_at)) : "-", "\n");
}

absl::StatusOr<PeerRole> ParseRole(absl::string_view word) {
  if (word == "vm") return PeerRole::kVm;
  if (word == "admin") return PeerRole::kAdmin;
  if (word == "svm") return PeerRole::kSvm;
  return absl::DataLossError(absl::StrCat("unknown kind '", word, "' in index.tsv"));
}

absl::StatusOr<std::vector<IndexEntry>> ReadIndex(const std::string& dir) {
  absl::StatusOr<std::string> text = openssl::ReadFile(IndexFile(dir));
  if (absl::IsNotFound(text.status())) return std::vector<IndexEntry>();
  VMSCAN_RETURN_IF_ERROR(text.status());
  std::vector<IndexEntry> entries;
  for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    int64_t not_after = 0, revoked = 0;
    if (f.size() != 6 || !absl::SimpleAtoi(f[4], &not_after) ||
        (f[5] != "-" && !absl::SimpleAtoi(f[5], &revoked))) {
      return absl::DataLossError(absl::StrCat(IndexFile(dir), ": unreadable line '", line, "'"));
    }
    IndexEntry e;
    e.serial_hex = f[0];
    VMSCAN_ASSIGN_OR_RETURN(e.role, ParseRole(f[1]));
    e.name = f[2];
    e.common_name = f[3];
    e.not_after = absl::FromUnixSeconds(not_after);
    if (f[5] != "-") e.revoked_at = absl::FromUnixSeconds(revoked);
    entries.push_back(std::move(e));
  }
  return entries;
}

absl::Status WriteIndex(const std::string& dir, const std::vector<IndexEntry>& entries) {
  std::string text;
  for (const IndexEntry& e : entries) text += FormatEntry(e);
  return WriteFileAtomically(IndexFile(dir), text, 0644);
}

absl::Status WriteCrl(const std::string& dir, const CertificateAuthority& ca,
                      const std::vector<IndexEntry>& entries) {
  std::vector<RevokedSerial> revoked;
  for (const IndexEntry& e : entries) {
    if (e.revoked_at) revoked.push_back({e.serial_hex, *e.revoked_at});
  }
  const absl::Time now = absl::Now();
  VMSCAN_ASSIGN_OR_RETURN(std::string crl, ca.MakeCrl(revoked, now, now + kCrlValidity));
  return WriteFileAtomically(CrlFile(dir), crl, 0644);
}

absl::StatusOr<IssuedFiles> IssueWith(const std::string& dir, const CertificateAuthority& ca,
                                      PeerRole role, const std::string& name,
                                      const std::string& common_name,
                                      const std::vector<std::string>& dns_names,
                                      const std::vector<std::string>& ip_addresses,
                                      const Validity& validity) {
  VMSCAN_ASSIGN_OR_RETURN(PeerName checked, PeerNameFromUris({PeerUri({role, name})}));
  LeafRequest request;
  request.common_name = common_name.empty() ? name : common_name;
  request.uris = {PeerUri(checked)};
  request.dns_names = dns_names;
  request.ip_addresses = ip_addresses;
  request.client_auth = true;
  request.server_auth = role == PeerRole::kSvm;
  const absl::Time now = absl::Now();
  request.not_before = validity.not_before.value_or(now - kClockSkew);
  request.not_after = validity.not_after.value_or(request.not_before + validity.validity);
  VMSCAN_ASSIGN_OR_RETURN(IssuedCertificate cert, ca.Issue(request));

  const std::string sub = absl::StrCat(dir, "/", RoleWord(role));
  VMSCAN_RETURN_IF_ERROR(MakeDir(sub));
  IssuedFiles files{cert.serial_hex, absl::StrCat(sub, "/", name, ".pem"),
                    absl::StrCat(sub, "/", name, ".key")};
  VMSCAN_RETURN_IF_ERROR(WriteFileAtomically(files.key_file, cert.key_pem, 0600));
  VMSCAN_RETURN_IF_ERROR(WriteFileAtomically(files.cert_file, cert.cert_pem, 0644));
  VMSCAN_ASSIGN_OR_RETURN(std::vector<IndexEntry> entries, ReadIndex(dir));
  entries.push_back({cert.serial_hex, role, name, request.common_name, request.not_after, {}});
  VMSCAN_RETURN_IF_ERROR(WriteIndex(dir, entries));
  return files;
}

absl::StatusOr<std::vector<IndexEntry>> RevokeMatching(
    const std::string& dir, const std::function<bool(const IndexEntry&)>& match,
    const std::string& what) {
  VMSCAN_ASSIGN_OR_RETURN(CertificateAuthority ca, LoadCa(dir));
  VMSCAN_ASSIGN_OR_RETURN(std::vector<IndexEntry> entries, ReadIndex(dir));
  std::vector<IndexEntry> revoked;
  const absl::Time now = absl::Now();
  for (IndexEntry& e : entries) {
    if (!e.revoked_at && match(e)) {
      e.revoked_at = now;
      revoked.push_back(e);
    }
  }
  if (revoked.empty()) {
    return absl::NotFoundError(absl::StrCat("no valid certificate ", what, " in ", dir));
  }
  VMSCAN_RETURN_IF_ERROR(WriteIndex(dir, entries));
  VMSCAN_RETURN_IF_ERROR(WriteCrl(dir, ca, entries));
  return revoked;
}

}  // namespace

std::string RoleWord(PeerRole role) {
  switch (role) {
    case PeerRole::kVm:
      return "vm";
    case PeerRole::kAdmin:
      return "admin";
    case PeerRole::kSvm:
      return "svm";
  }
  return "vm";
}

absl::Status InitPki(const std::string& dir, const InitOptions& options) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return absl::FailedPreconditionError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  chmod(dir.c_str(), 0700);
  if (fs::exists(CaCert(dir), ec)) {
    return absl::AlreadyExistsError(
        absl::StrCat(dir,
                     " already holds a CA (ca.pem); issue more certificates with "
                     "vmscanctl pki issue-vm / issue-svm / issue-admin"));
  }
  const absl::Time now = absl::Now();
  VMSCAN_ASSIGN_OR_RETURN(
      CertificateAuthority ca,
      CertificateAuthority::Create(options.ca_name, now - kClockSkew, now + options.ca_validity));
  VMSCAN_RETURN_IF_ERROR(WriteFileAtomically(CaKey(dir), ca.key_pem(), 0600));
  VMSCAN_RETURN_IF_ERROR(WriteFileAtomically(CaCert(dir), ca.cert_pem(), 0644));
  VMSCAN_RETURN_IF_ERROR(WriteIndex(dir, {}));
  VMSCAN_RETURN_IF_ERROR(WriteCrl(dir, ca, {}));
  std::vector<std::string> dns = options.svm_dns_names;
  std::vector<std::string> ips = options.svm_ip_addresses;
  if (dns.empty() && ips.empty()) {
    dns = {"localhost"};
    ips = {"127.0.0.1", "::1"};
  }
  VMSCAN_RETURN_IF_ERROR(
      IssueWith(dir, ca, PeerRole::kSvm, options.svm_name, "", dns, ips, options.leaf).status());
  VMSCAN_RETURN_IF_ERROR(
      IssueWith(dir, ca, PeerRole::kAdmin, options.admin_name, "", {}, {}, options.leaf).status());
  return absl::OkStatus();
}

absl::StatusOr<IssuedFiles> Issue(const std::string& dir, PeerRole role, const std::string& name,
                                  const std::string& common_name,
                                  const std::vector<std::string>& dns_names,
                                  const std::vector<std::string>& ip_addresses,
                                  const Validity& validity) {
  VMSCAN_ASSIGN_OR_RETURN(CertificateAuthority ca, LoadCa(dir));
  if (role == PeerRole::kSvm && dns_names.empty() && ip_addresses.empty()) {
    return absl::InvalidArgumentError(
        "an SVM certificate needs the DNS names or IP addresses agents connect to");
  }
  return IssueWith(dir, ca, role, name, common_name, dns_names, ip_addresses, validity);
}

absl::StatusOr<std::vector<IndexEntry>> RevokeSerial(const std::string& dir,
                                                     const std::string& serial_hex) {
  std::string wanted = serial_hex;
  for (char& c : wanted) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  while (wanted.size() > 1 && wanted[0] == '0') wanted.erase(0, 1);
  return RevokeMatching(
      dir, [&](const IndexEntry& e) { return e.serial_hex == wanted; },
      absl::StrCat("with serial ", serial_hex));
}

absl::StatusOr<std::vector<IndexEntry>> RevokeName(const std::string& dir, PeerRole role,
                                                   const std::string& name) {
  return RevokeMatching(
      dir, [&](const IndexEntry& e) { return e.role == role && e.name == name; },
      absl::StrCat("for ", RoleWord(role), " ", name));
}

absl::StatusOr<std::vector<IndexEntry>> ListIssued(const std::string& dir) {
  VMSCAN_RETURN_IF_ERROR(LoadCa(dir).status());
  return ReadIndex(dir);
}

}  // namespace vmscan::pki
