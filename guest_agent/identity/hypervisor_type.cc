#include "guest_agent/identity/hypervisor_type.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/logging.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

extern char** environ;

namespace vmscan {
namespace {

std::string ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return "";
  return std::string(absl::StripAsciiWhitespace(line));
}

// Runs `command --vm` without a shell and returns its trimmed standard output when it exits 0
// within `timeout`; "" otherwise (not installed, "none" with exit 1, hung, killed).
std::string RunDetectVirt(const std::string& command, absl::Duration timeout) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return "";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // `vmscan-agent run` blocks its stop signals; the child must not inherit that.
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  std::string arg0 = command, arg1 = "--vm";
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  pid_t pid = -1;
  const int spawn_error = posix_spawnp(&pid, command.c_str(), &actions, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(pipe_fds[1]);
  if (spawn_error != 0) {
    close(pipe_fds[0]);
    return "";
  }
  std::string output;
  const absl::Time deadline = absl::Now() + timeout;
  bool timed_out = false;
  for (;;) {
    const int64_t left_ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left_ms <= 0) {
      timed_out = true;
      break;
    }
    pollfd pfd = {pipe_fds[0], POLLIN, 0};
    const int ready = poll(&pfd, 1, static_cast<int>(left_ms));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;  // the deadline check above ends the wait
    char buffer[256];
    const ssize_t n = read(pipe_fds[0], buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: the command is done
    if (output.size() < 4096) output.append(buffer, static_cast<size_t>(n));
  }
  close(pipe_fds[0]);
  if (timed_out) {
    kill(pid, SIGKILL);
    VMSCAN_LOG(WARNING) << command << " --vm did not answer within "
                        << absl::FormatDuration(timeout) << "; ignored";
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return "";
  std::string type(absl::StripAsciiWhitespace(output));
  // One lower-case word is what systemd-detect-virt prints; anything else is not trusted.
  if (type.empty() || type.size() > 32 ||
      type.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_") != std::string::npos) {
    return "";
  }
  return type;
}

}  // namespace

std::string HypervisorFromDmi(absl::string_view sys_vendor, absl::string_view product_name) {
  sys_vendor = absl::StripAsciiWhitespace(sys_vendor);
  product_name = absl::StripAsciiWhitespace(product_name);
  // Hyper-V's vendor is also the vendor of Surface laptops: the product name decides.
  if (sys_vendor == "Microsoft Corporation") {
    return absl::StrContains(product_name, "Virtual Machine") ? "microsoft" : "";
  }
  struct Entry {
    const char* vendor_prefix;
    const char* type;
  };
  static constexpr Entry kVendors[] = {
      // DMI cannot tell KVM-accelerated QEMU from pure emulation (TCG); systemd-detect-virt, asked
      // first, can. Production VMs are KVM.
      {"QEMU", "kvm"},          {"KVM", "kvm"},
      {"Red Hat", "kvm"},       {"VMware", "vmware"},
      {"Xen", "xen"},           {"innotek", "oracle"},
      {"Oracle", "oracle"},     {"Parallels", "parallels"},
      {"Amazon EC2", "amazon"},
  };
  for (const Entry& e : kVendors) {
    if (absl::StartsWithIgnoreCase(sys_vendor, e.vendor_prefix)) return e.type;
  }
  // Some hypervisors leave the vendor generic and name themselves in the product.
  if (absl::StartsWith(product_name, "KVM")) return "kvm";
  if (absl::StartsWith(product_name, "VMware")) return "vmware";
  if (product_name == "VirtualBox") return "oracle";
  if (absl::StartsWith(product_name, "HVM domU")) return "xen";
  return "";
}

std::string HypervisorFromCpuidVendor(absl::string_view vendor) {
  struct Entry {
    const char* signature;
    const char* type;
  };
  static constexpr Entry kSignatures[] = {
      {"KVMKVMKVM", "kvm"},          {"VMwareVMware", "vmware"}, {"Microsoft Hv", "microsoft"},
      {"XenVMMXenVMM", "xen"},       {"TCGTCGTCGTCG", "qemu"},   {"VBoxVBoxVBox", "oracle"},
      {" lrpepyh  vr", "parallels"}, {"bhyve bhyve ", "bhyve"},
  };
  // KVM pads its signature with NULs; compare without the padding.
  while (!vendor.empty() && vendor.back() == '\0') vendor.remove_suffix(1);
  for (const Entry& e : kSignatures) {
    if (vendor == e.signature) return e.type;
  }
  return "";
}

std::string CpuidHypervisorVendor() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned int eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return "";
  if ((ecx & (1u << 31)) == 0) return "";  // the hypervisor-present bit
  // __get_cpuid refuses leaves above the basic range; the hypervisor range is queried directly.
  __cpuid(0x40000000, eax, ebx, ecx, edx);
  char vendor[12];
  memcpy(vendor + 0, &ebx, 4);
  memcpy(vendor + 4, &ecx, 4);
  memcpy(vendor + 8, &edx, 4);
  return std::string(vendor, sizeof(vendor));
#else
  return "";
#endif
}

std::string DetectHypervisorType(const v1::AgentConfig& config, const IdentitySources& sources) {
  if (!config.vm().hypervisor_type().empty()) return config.vm().hypervisor_type();
  if (!sources.detect_virt_command.empty()) {
    std::string type = RunDetectVirt(sources.detect_virt_command,
                                     absl::Milliseconds(sources.detect_virt_timeout_ms));
    if (!type.empty()) return type;
  }
  std::string type = HypervisorFromDmi(ReadFirstLine(sources.dmi_sys_vendor_path),
                                       ReadFirstLine(sources.dmi_product_name_path));
  if (!type.empty()) return type;
  if (sources.use_cpuid) {
    std::string vendor = CpuidHypervisorVendor();
    if (!vendor.empty()) {
      type = HypervisorFromCpuidVendor(vendor);
      // The bit is set but the signature is unknown: some hypervisor, not bare metal.
      return type.empty() ? "other" : type;
    }
  }
  return "none";
}

}  // namespace vmscan
