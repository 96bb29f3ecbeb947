#include "guest_agent/identity/vm_identity.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/tls/certificate_info.h"
#include "common/tls/credentials.h"
#include "common/tls/identity.h"

namespace vmscan {
namespace {

std::string ReadTrimmed(const std::string& path) {
  std::ifstream in(path);
  if (!in) return "";
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string value(absl::StripAsciiWhitespace(buffer.str()));
  return absl::AsciiStrToLower(value);
}

bool Plausible(const std::string& id) {
  // Some hypervisors expose all-zero or all-F UUIDs; they identify nothing.
  return id.size() >= 8 && id.find_first_not_of("0-") != std::string::npos &&
         id.find_first_not_of("f-") != std::string::npos;
}

std::filesystem::path IdPath(const std::string& state_dir) {
  return std::filesystem::path(state_dir) / "vm-id";
}

// Replaces <state_dir>/vm-id atomically (a reader never sees half an id).
bool WriteIdFile(const std::string& state_dir, const std::string& id) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  const std::filesystem::path path = IdPath(state_dir);
  const std::string temp = absl::StrCat(path.string(), ".tmp.", getpid());
  {
    std::ofstream out(temp);
    out << id << "\n";
    out.close();
    if (!out) {
      std::filesystem::remove(temp, ec);
      return false;
    }
  }
  std::filesystem::rename(temp, path, ec);
  if (ec) std::filesystem::remove(temp, ec);
  return !ec;
}

absl::StatusOr<std::string> PersistedRandomId(const std::string& state_dir) {
  std::string existing = ReadTrimmed(IdPath(state_dir).string());
  if (Plausible(existing)) return existing;
  std::random_device rd;
  std::string id = absl::StrFormat("%08x-%04x-4%03x-%04x-%08x%04x", rd(), rd() & 0xffff,
                                   rd() & 0xfff, (rd() & 0x3fff) | 0x8000, rd(), rd() & 0xffff);
  if (!WriteIdFile(state_dir, id)) {
    const std::filesystem::path path = IdPath(state_dir);
    return absl::FailedPreconditionError(absl::StrCat("cannot persist the generated VM id in ",
                                                      path.string(),
                                                      "; set vm.id or a writable state_dir"));
  }
  return id;
}

}  // namespace

void RememberVmId(const v1::AgentConfig& config, const v1::VmIdentity& vm) {
  if (!config.vm().id().empty() || vm.id().empty()) return;
  if (ReadTrimmed(IdPath(config.state_dir()).string()) == vm.id()) return;
  (void)WriteIdFile(config.state_dir(), vm.id());
}

absl::StatusOr<v1::VmIdentity> ResolveVmIdentity(const v1::AgentConfig& config,
                                                 const IdentitySources& sources) {
  v1::VmIdentity vm;
  if (UsesTls(config.tls())) {
    // The SVM knows this VM by its certificate; the agent calls itself the same.
    absl::StatusOr<CertificateInfo> cert = ReadCertificateInfo(config.tls().cert_file());
    if (!cert.ok()) return cert.status();
    absl::StatusOr<PeerName> peer = PeerNameFromUris(cert->uris);
    if (!peer.ok() || peer->role != PeerRole::kVm) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tls.cert_file ", config.tls().cert_file(), " is not a VM certificate (it needs a URI ",
          kVmUriPrefix, "ID; vmscanctl pki issue-vm makes one)",
          peer.ok() ? absl::StrCat(": it names ", DescribePeer(*peer)) : ""));
    }
    if (!config.vm().id().empty() && config.vm().id() != peer->name) {
      return absl::InvalidArgumentError(
          absl::StrCat("vm.id '", config.vm().id(), "' contradicts tls.cert_file, which names VM '",
                       peer->name, "': leave vm.id empty or issue the certificate for this id"));
    }
    vm.set_id(peer->name);
    vm.set_name(!config.vm().name().empty() ? config.vm().name() : cert->common_name);
    vm.set_hypervisor_host(config.vm().host());
    return vm;
  }
  if (!config.vm().id().empty()) {
    vm.set_id(config.vm().id());
  } else if (std::string dmi = ReadTrimmed(sources.dmi_uuid_path); Plausible(dmi)) {
    vm.set_id(dmi);
  } else {
    absl::StatusOr<std::string> id = PersistedRandomId(config.state_dir());
    if (!id.ok()) return id.status();
    vm.set_id(*id);
  }
  if (!config.vm().name().empty()) {
    vm.set_name(config.vm().name());
  } else {
    char host[256] = {};
    if (gethostname(host, sizeof(host) - 1) == 0) vm.set_name(host);
  }
  vm.set_hypervisor_host(config.vm().host());
  return vm;
}

}  // namespace vmscan
