#include "guest_agent/cli/scan_command.h"

#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/command_line.h"
#include "common/logging.h"
#include "guest_agent/client/scan_client.h"
#include "guest_agent/config/agent_config.h"
#include "guest_agent/identity/vm_identity.h"
#include "guest_agent/net/unique_fd.h"

namespace vmscan {

const char kScanUsage[] = R"(Usage: vmscan-agent scan [FILE|-] [options]

Sends one RFC 5322 message (a file, or standard input for "-" or no FILE) to the SVM and reports
the verdict and the action to take.

Options:
  --json               print the SVM's reply as JSON (proto canonical mapping) instead of a summary
  --output FILE|-      write the message to deliver: the original (clean or unscannable, the latter
                       with an X-Vmscan-Status header), the disinfected copy, or nothing at all
                       (deleted or blocked; FILE is then not created). With "-", the summary or
                       JSON goes to standard error.
  --channel NAME       cli (default), smtp-out, milter-in, milter-out, pop3, imap
  --from ADDR          envelope sender;  --to ADDR  envelope recipient (repeatable)
  --server HOST:PORT   use this SVM instead of the configured `servers`
  --config FILE        agent config (YAML/JSON, vmscan.v1.AgentConfig)
  --set KEY=VALUE      override a config field (repeatable), e.g. --set vm.id=desk-7

Exit codes:
  0   clean                      1   infected (see the action)
  2   unscannable                3   no scanner (SVM) reachable: nothing was scanned
  4   the SVM refused or failed the scan (message too large, SVM busy, SVM error)
  64  usage or configuration error
  65  input unreadable or empty  74  --output could not be written
)";

namespace {

bool ParseChannel(const std::string& name, v1::ScanMetadata* metadata) {
  struct Entry {
    const char* name;
    v1::Channel channel;
    v1::Direction direction;
  };
  static constexpr Entry kChannels[] = {
      {"cli", v1::CLI, v1::INCOMING},          {"smtp-out", v1::SMTP, v1::OUTGOING},
      {"milter-in", v1::MILTER, v1::INCOMING}, {"milter-out", v1::MILTER, v1::OUTGOING},
      {"pop3", v1::POP3, v1::INCOMING},        {"imap", v1::IMAP, v1::INCOMING},
  };
  for (const Entry& e : kChannels) {
    if (name == e.name) {
      metadata->set_channel(e.channel);
      metadata->set_direction(e.direction);
      return true;
    }
  }
  return false;
}

// The message to scan, as a file the scan reads chunk by chunk and --output copies from, so the
// agent never holds a whole message (docs/design.md §6: the agent stays thin). A regular FILE is
// used in place; standard input, a pipe or a device is first copied into an unlinked temp file.
struct InputMessage {
  net::UniqueFd fd;
  uint64_t size = 0;
};

constexpr size_t kCopyChunk = 64 * 1024;

// An unnamed file in $TMPDIR (or /tmp), readable by this process only; it disappears with the
// descriptor.
absl::StatusOr<net::UniqueFd> UnnamedTempFile() {
  const char* env = std::getenv("TMPDIR");
  const std::string dir = env != nullptr && *env != '\0' ? env : "/tmp";
  net::UniqueFd fd(::open(dir.c_str(), O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600));
  if (fd.valid()) return fd;
  // Filesystems without O_TMPFILE: a named file, unlinked at once.
  std::string path = dir + "/vmscan-agent-XXXXXX";
  fd.Reset(::mkostemp(path.data(), O_CLOEXEC));
  if (!fd.valid()) {
    return absl::UnavailableError(
        absl::StrCat("cannot create a temp file in ", dir, ": ", std::strerror(errno)));
  }
  ::unlink(path.c_str());
  return fd;
}

bool WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t wrote = ::write(fd, data, n);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) return false;
    data += wrote;
    n -= static_cast<size_t>(wrote);
  }
  return true;
}

// Copies `in` into an unnamed temp file, 64 KiB at a time.
bool Spool(std::istream& in, const std::string& name, InputMessage* message, std::ostream& err) {
  absl::StatusOr<net::UniqueFd> fd = UnnamedTempFile();
  if (!fd.ok()) {
    err << "vmscan-agent: cannot spool " << name << ": " << fd.status().message() << "\n";
    return false;
  }
  std::string buffer(kCopyChunk, '\0');
  uint64_t total = 0;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const size_t got = static_cast<size_t>(in.gcount());
    if (got == 0) break;
    if (!WriteAll(fd->get(), buffer.data(), got)) {
      err << "vmscan-agent: cannot spool " << name << ": " << std::strerror(errno) << "\n";
      return false;
    }
    total += got;
  }
  if (in.bad()) {
    err << "vmscan-agent: cannot read " << name << "\n";
    return false;
  }
  message->fd = *std::move(fd);
  message->size = total;
  return true;
}

bool OpenInput(const std::string& file, std::istream& in, bool must_copy, InputMessage* message,
               std::ostream& err) {
  const bool standard_input = file.empty() || file == "-";
  const std::string name = standard_input ? "standard input" : file;
  if (standard_input) {
    if (!Spool(in, name, message, err)) return false;
  } else {
    net::UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st;
    if (!fd.valid() || ::fstat(fd.get(), &st) != 0) {
      err << "vmscan-agent: cannot open " << file << ": " << std::strerror(errno) << "\n";
      return false;
    }
    if (S_ISREG(st.st_mode) && !must_copy) {
      message->fd = std::move(fd);
      message->size = static_cast<uint64_t>(st.st_size);
    } else {
      std::ifstream f(file, std::ios::binary);
      if (!f) {
        err << "vmscan-agent: cannot open " << file << ": " << std::strerror(errno) << "\n";
        return false;
      }
      if (!Spool(f, name, message, err)) return false;
    }
  }
  if (message->size == 0) {
    err << "vmscan-agent: " << (standard_input ? "-" : file) << " is empty: nothing to scan\n";
    return false;
  }
  return true;
}

// True when `output` names the same file as `input`: --output would truncate the message
// before it is copied, so the input is spooled first.
bool SameFile(const std::string& input, const std::string& output) {
  struct stat in_st, out_st;
  return !input.empty() && input != "-" && !output.empty() && output != "-" &&
         ::stat(input.c_str(), &in_st) == 0 && ::stat(output.c_str(), &out_st) == 0 &&
         in_st.st_dev == out_st.st_dev && in_st.st_ino == out_st.st_ino;
}

// Copies the whole input message to `out`, chunk by chunk.
bool CopyMessage(const InputMessage& message, std::ostream& out) {
  FileMessageSource source(message.fd.get(), message.size);
  std::string chunk;
  for (uint64_t offset = 0; offset < message.size; offset += chunk.size()) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kCopyChunk, message.size - offset));
    if (!source.Read(offset, n, &chunk).ok()) return false;
    out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    if (!out) return false;
  }
  return true;
}

std::string Summary(const std::string& name, const ScanResponse& r) {
  const v1::ScanResult& result = r.result;
  std::string text = absl::StrCat(name, ": ", v1::Verdict_Name(result.verdict()));
  if (result.verdict() == v1::UNSCANNABLE) {
    absl::StrAppend(&text, " (", v1::UnscannableReason_Name(result.unscannable_reason()),
                    result.unscannable_detail().empty() ? "" : ": ", result.unscannable_detail(),
                    ")");
  }
  absl::StrAppend(&text, ", action ", v1::Action_Name(result.action()), " (",
                  result.action_reason(), ")\n");
  for (const v1::Threat& t : result.threats()) {
    absl::StrAppend(&text, "  threat ", t.name());
    if (t.part_path().empty()) {
      absl::StrAppend(&text, " in the message (no single part)\n");
    } else {
      absl::StrAppend(&text, " in part ", t.part_path(),
                      t.filename().empty() ? "" : absl::StrCat(" \"", t.filename(), "\""), " (",
                      t.content_type(), ")\n");
    }
  }
  if (!result.backup_id().empty()) absl::StrAppend(&text, "  backup ", result.backup_id(), "\n");
  absl::StrAppend(
      &text, absl::StrFormat("  sha256 %s, %d bytes, scanned in %.1f ms by %s\n", result.sha256(),
                             result.size(), result.scan_micros() / 1000.0, r.server));
  return text;
}

std::string ToJson(const v1::ScanResult& result) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(result, &json, options);
  return json + "\n";
}

// Writes what the agent delivers for the CLI channel (docs/design.md §2) to `out`. Returns false
// when writing (or re-reading the input) failed.
bool WriteDeliverable(const ScanResponse& r, const InputMessage& message, std::ostream& out) {
  switch (r.result.action()) {
    case v1::DELIVER:
      if (r.result.verdict() == v1::UNSCANNABLE) {
        out << "X-Vmscan-Status: unscannable ("
            << v1::UnscannableReason_Name(r.result.unscannable_reason()) << ")\r\n";
      }
      return CopyMessage(message, out);
    case v1::DELIVER_DISINFECTED:
      out << r.cleaned;
      return static_cast<bool>(out);
    default:
      return true;
  }
}

// True when the action delivers a message at all (nothing is written, no file created, when not).
bool Delivers(const ScanResponse& r) {
  return r.result.action() == v1::DELIVER ||
         (r.result.action() == v1::DELIVER_DISINFECTED && !r.cleaned.empty());
}

int ExitCodeFor(const v1::ScanResult& result) {
  switch (result.verdict()) {
    case v1::CLEAN:
      return kExitClean;
    case v1::INFECTED:
      return kExitInfected;
    case v1::UNSCANNABLE:
      return kExitUnscannable;
    default:
      return kExitScanFailed;
  }
}

}  // namespace

int RunScanCommand(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
                   std::ostream& err) {
  CommandLine cl(args);
  std::string file, output, channel = "cli", server, config_file, from;
  std::vector<std::string> sets, to;
  bool json = false, have_file = false;
  while (!cl.done()) {
    if (cl.Flag("--output", &output) || cl.Flag("--channel", &channel) ||
        cl.Flag("--server", &server) || cl.Flag("--config", &config_file) ||
        cl.RepeatedFlag("--set", &sets) || cl.Flag("--from", &from) ||
        cl.RepeatedFlag("--to", &to)) {
      continue;
    }
    if (cl.Switch("--json")) {
      json = true;
      continue;
    }
    if (cl.Switch("--help") || cl.Switch("-h")) {
      out << kScanUsage;
      return kExitClean;
    }
    if (cl.error().ok() && !have_file && cl.Positional(&file)) {
      have_file = true;
      continue;
    }
    if (cl.error().ok()) {
      err << "vmscan-agent scan: unexpected argument '" << cl.current() << "'\n\n" << kScanUsage;
      return kExitUsage;
    }
  }
  if (!cl.error().ok()) {
    err << "vmscan-agent scan: " << cl.error().message() << "\n";
    return kExitUsage;
  }
  if (!server.empty()) sets.push_back("servers=" + server);
  absl::StatusOr<v1::AgentConfig> config = LoadAgentConfig(config_file, sets);
  if (!config.ok()) {
    err << "vmscan-agent: " << config.status().message() << "\n";
    return kExitUsage;
  }
  SetLogLevel(*ParseLogLevel(config->log_level()));

  v1::ScanMetadata metadata;
  if (!ParseChannel(channel, &metadata)) {
    err << "vmscan-agent scan: unknown channel '" << channel
        << "' (use cli, smtp-out, milter-in, milter-out, pop3 or imap)\n";
    return kExitUsage;
  }
  absl::StatusOr<v1::VmIdentity> vm = ResolveVmIdentity(*config);
  if (!vm.ok()) {
    err << "vmscan-agent: " << vm.status().message() << "\n";
    return kExitUsage;
  }
  *metadata.mutable_vm() = *vm;
  metadata.set_envelope_sender(from);
  for (const std::string& rcpt : to) metadata.add_envelope_recipients(rcpt);
  metadata.set_client_ref(file.empty() ? "-" : file);

  InputMessage message;
  if (!OpenInput(file, in, SameFile(file, output), &message, err)) return kExitBadInput;

  std::unique_ptr<ScanClient> client = ScanClient::Create(*config);
  absl::StatusOr<ScanResponse> response =
      client->Scan(metadata, FileMessageSource(message.fd.get(), message.size));
  if (!response.ok()) {
    err << "vmscan-agent: " << response.status().message() << "\n";
    return absl::IsUnavailable(response.status()) ? kExitNoScanner : kExitScanFailed;
  }

  std::ostream& report = output == "-" ? err : out;
  report << (json ? ToJson(response->result) : Summary(file.empty() ? "-" : file, *response));
  if (!output.empty()) {
    if (output == "-") {
      bool written = WriteDeliverable(*response, message, out);
      out.flush();
      if (!written || !out) {
        err << "vmscan-agent: cannot write the message to standard output\n";
        return kExitCannotWrite;
      }
    } else if (Delivers(*response)) {
      std::ofstream f(output, std::ios::binary | std::ios::trunc);
      bool written = WriteDeliverable(*response, message, f);
      f.close();
      if (!written || !f) {
        err << "vmscan-agent: cannot write " << output << ": " << std::strerror(errno) << "\n";
        return kExitCannotWrite;
      }
    }
  }
  return ExitCodeFor(response->result);
}

}  // namespace vmscan
