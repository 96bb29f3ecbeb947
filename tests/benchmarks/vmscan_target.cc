#include "tests/benchmarks/vmscan_target.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/mail/verdict_key.h"
#include "common/sha256.h"
#include "vmscan/v1/scan.grpc.pb.h"

namespace vmscan::bench {
namespace {

constexpr size_t kChunkBytes = 256 * 1024;  // the agent's default chunk_bytes

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

class VmscanStream : public Stream {
 public:
  VmscanStream(const std::string& address, int index, bool probe_first, const std::string& tls_dir,
               int tls_vms)
      : probe_first_(probe_first) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(8 << 20);              // as ScanClient
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a connection of its own
    std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
    if (!tls_dir.empty()) {
      // The VM's id comes from its certificate; the metadata must name the same VM.
      index %= tls_vms;
      grpc::SslCredentialsOptions ssl;
      ssl.pem_root_certs = ReadAll(tls_dir + "/ca.pem");
      ssl.pem_cert_chain = ReadAll(absl::StrCat(tls_dir, "/vm/bench-vm-", index, ".pem"));
      ssl.pem_private_key = ReadAll(absl::StrCat(tls_dir, "/vm/bench-vm-", index, ".key"));
      credentials = grpc::SslCredentials(ssl);
    }
    channel_ = grpc::CreateCustomChannel(address, credentials, args);
    stub_ = v1::ScanService::NewStub(channel_);
    metadata_.mutable_vm()->set_id(absl::StrCat("bench-vm-", index));
    metadata_.mutable_vm()->set_name(absl::StrCat("desk-", index));
    metadata_.mutable_vm()->set_hypervisor_host("bench-host");
    metadata_.set_channel(v1::CLI);
    metadata_.set_direction(v1::INCOMING);
    channel_->WaitForConnected(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  }

  ScanReply Scan(const Message& message) override {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Minutes(5)));
    auto stream = stub_->Scan(&context);
    v1::ScanRequest request;
    *request.mutable_metadata() = metadata_;
    request.mutable_metadata()->set_size(message.data.size());
    if (message.spec != nullptr && message.spec->copy > 0) {
      request.mutable_metadata()->mutable_vm()->set_id(absl::StrCat("vdi-", message.spec->copy));
    }
    const absl::string_view data = message.data;
    v1::ScanReply reply;
    v1::ScanResult result;
    bool have_result = false;
    bool upload = true;
    if (probe_first_) {
      // As ScanClient does with an SVM that speaks PROBE_FIRST: the key, the header block and
      // the digest first, the message only if the SVM asks for it. The agent's cost of the one
      // pass over the message is this process's CPU, as for the rest of the client.
      const VerdictKey key = ComputeVerdictKey(data);
      request.mutable_metadata()->set_protocol(v1::PROBE_FIRST);
      v1::CacheProbe* probe = request.mutable_probe();
      probe->set_content_digest(key.digest);
      probe->set_header_block(key.header_block);
      probe->set_sha256(Sha256Hex(data));
      if (!stream->Write(request)) return Finish(*stream, result, false, 0);
      request.clear_metadata();
      request.clear_probe();
      if (!stream->Read(&reply)) return Finish(*stream, result, false, 0);
      if (reply.has_result()) {
        result = std::move(*reply.mutable_result());
        have_result = true;
        upload = false;
        stream->WritesDone();
      } else if (!reply.send_message()) {
        stream->WritesDone();
        upload = false;
      }
    }
    size_t offset = 0;
    bool writes_ok = upload;
    while (upload) {
      const size_t n = std::min(kChunkBytes, data.size() - offset);
      request.set_chunk(std::string(data.substr(offset, n)));
      offset += n;
      if (!stream->Write(request)) {
        writes_ok = false;
        break;
      }
      request.clear_metadata();
      if (offset >= data.size()) break;
    }
    if (writes_ok) stream->WritesDone();
    while (stream->Read(&reply)) {
      if (reply.has_result()) {
        result = std::move(*reply.mutable_result());
        have_result = true;
      }
    }
    return Finish(*stream, result, have_result, upload ? data.size() : 0);
  }

 private:
  ScanReply Finish(grpc::ClientReaderWriter<v1::ScanRequest, v1::ScanReply>& stream,
                   const v1::ScanResult& result, bool have_result, uint64_t uploaded) {
    ScanReply out = Verdict(stream, result, have_result);
    out.uploaded_bytes = uploaded;
    return out;
  }

  static ScanReply Verdict(grpc::ClientReaderWriter<v1::ScanRequest, v1::ScanReply>& stream,
                           const v1::ScanResult& result, bool have_result) {
    grpc::Status status = stream.Finish();
    if (!status.ok()) {
      return {Outcome::kError,
              absl::StrCat("grpc ", status.error_code(), ": ", status.error_message())};
    }
    if (!have_result) return {Outcome::kError, "no result"};
    switch (result.verdict()) {
      case v1::CLEAN:
        return {Outcome::kClean, ""};
      case v1::INFECTED: {
        std::string names;
        for (const v1::Threat& t : result.threats()) absl::StrAppend(&names, t.name(), " ");
        return {Outcome::kInfected, names};
      }
      case v1::UNSCANNABLE:
        return {Outcome::kUnscannable, result.unscannable_detail()};
      default:
        return {Outcome::kError, "verdict unspecified"};
    }
  }

  const bool probe_first_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ScanService::Stub> stub_;
  v1::ScanMetadata metadata_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<VmscanTarget>> VmscanTarget::Start(
    const VmscanServerOptions& options) {
  std::unique_ptr<VmscanTarget> target(new VmscanTarget());
  std::filesystem::create_directories(options.work_dir);
  const std::string port_file = options.work_dir + "/port";
  std::filesystem::remove(port_file);
  target->log_path_ = options.work_dir + "/server.log";
  target->probe_first_ = options.probe_first;
  target->tls_dir_ = options.tls_dir;
  target->tls_vms_ = options.tls_vms;
  std::vector<std::string> argv = {options.binary,
                                   "--set",
                                   "listen=127.0.0.1:0",
                                   "--set",
                                   absl::StrCat("state_dir=", options.work_dir, "/state"),
                                   "--set",
                                   absl::StrCat("signatures_dir=", options.signatures_dir),
                                   "--set",
                                   absl::StrCat("workers=", options.workers),
                                   "--set",
                                   absl::StrCat("queue_depth=", options.queue_depth),
                                   "--port-file",
                                   port_file};
  if (!options.tls_dir.empty()) {
    for (const std::string& set : {std::string("tls.insecure_loopback=false"),
                                   "tls.cert_file=" + options.tls_dir + "/svm/svm.pem",
                                   "tls.key_file=" + options.tls_dir + "/svm/svm.key",
                                   "tls.ca_file=" + options.tls_dir + "/ca.pem",
                                   "tls.crl_file=" + options.tls_dir + "/crl.pem"}) {
      argv.push_back("--set");
      argv.push_back(set);
    }
  }
  for (const std::string& set : options.extra_sets) {
    argv.push_back("--set");
    argv.push_back(set);
  }
  const absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<ChildProcess>> process =
      ChildProcess::Spawn(argv, target->log_path_, options.env);
  if (!process.ok()) return process.status();
  target->process_ = std::move(*process);
  const absl::Time deadline = start + options.start_timeout;
  std::string port;
  while (true) {
    port = std::string(absl::StripAsciiWhitespace(ReadAll(port_file)));
    if (!port.empty()) break;
    if (!target->process_->running()) {
      return absl::InternalError(absl::StrCat("vmscan-server exited with ",
                                              target->process_->exit_code(), "; see ",
                                              target->log_path_));
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("vmscan-server not ready; see ", target->log_path_));
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  target->ready_seconds_ = absl::ToDoubleSeconds(absl::Now() - start);
  target->address_ = absl::StrCat("127.0.0.1:", port);
  target->after_load_ = ReadMemory(target->process_->pid());
  // "loaded 1100007 signatures from the configured set in DIR (8123 ms, version ...)"
  static const std::regex kLoaded(R"(loaded (\d+) signatures .* \((\d+) ms)");
  const std::string log = ReadAll(target->log_path_);
  std::smatch match;
  if (std::regex_search(log, match, kLoaded)) {
    (void)absl::SimpleAtoi(match[1].str(), &target->signatures_);
    (void)absl::SimpleAtod(match[2].str(), &target->engine_load_ms_);
  }
  return target;
}

std::unique_ptr<Stream> VmscanTarget::NewStream(int index) {
  return std::make_unique<VmscanStream>(address_, index, probe_first_, tls_dir_, tls_vms_);
}

}  // namespace vmscan::bench
