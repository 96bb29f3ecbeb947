#include "guest_agent/cli/scan_command.h"

#include <google/protobuf/util/json_util.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/command_line.h"
#include "common/logging.h"
#include "guest_agent/client/scan_client.h"
#include "guest_agent/config/agent_config.h"
#include "guest_agent/identity/vm_identity.h"

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

bool ReadInput(const std::string& file, std::istream& in, std::string* message, std::ostream& err) {
  if (file.empty() || file == "-") {
    message->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad()) {
      err << "vmscan-agent: cannot read standard input\n";
      return false;
    }
  } else {
    std::ifstream f(file, std::ios::binary);
    if (!f) {
      err << "vmscan-agent: cannot open " << file << ": " << std::strerror(errno) << "\n";
      return false;
    }
    message->assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    if (f.bad()) {
      err << "vmscan-agent: cannot read " << file << "\n";
      return false;
    }
  }
  if (message->empty()) {
    err << "vmscan-agent: " << (file.empty() ? "-" : file) << " is empty: nothing to scan\n";
    return false;
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

// What the agent delivers for the CLI channel (SPEC §2). Empty: nothing is delivered.
std::string Deliverable(const ScanResponse& r, const std::string& message) {
  switch (r.result.action()) {
    case v1::DELIVER:
      if (r.result.verdict() == v1::UNSCANNABLE) {
        return absl::StrCat("X-Vmscan-Status: unscannable (",
                            v1::UnscannableReason_Name(r.result.unscannable_reason()), ")\r\n",
                            message);
      }
      return message;
    case v1::DELIVER_DISINFECTED:
      return r.cleaned;
    default:
      return "";
  }
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

  std::string message;
  if (!ReadInput(file, in, &message, err)) return kExitBadInput;

  std::unique_ptr<ScanClient> client = ScanClient::Create(*config);
  absl::StatusOr<ScanResponse> response = client->Scan(metadata, message);
  if (!response.ok()) {
    err << "vmscan-agent: " << response.status().message() << "\n";
    return absl::IsUnavailable(response.status()) ? kExitNoScanner : kExitScanFailed;
  }

  std::ostream& report = output == "-" ? err : out;
  report << (json ? ToJson(response->result) : Summary(file.empty() ? "-" : file, *response));
  if (!output.empty()) {
    std::string deliver = Deliverable(*response, message);
    if (output == "-") {
      out << deliver;
      out.flush();
      if (!out) {
        err << "vmscan-agent: cannot write the message to standard output\n";
        return kExitCannotWrite;
      }
    } else if (!deliver.empty()) {
      std::ofstream f(output, std::ios::binary | std::ios::trunc);
      f << deliver;
      f.close();
      if (!f) {
        err << "vmscan-agent: cannot write " << output << ": " << std::strerror(errno) << "\n";
        return kExitCannotWrite;
      }
    }
  }
  return ExitCodeFor(response->result);
}

}  // namespace vmscan
