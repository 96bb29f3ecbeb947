#include "guest_agent/client/scan_client.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/grpc_status.h"
#include "common/logging.h"
#include "common/mail/verdict_key.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "guest_agent/client/svm_channel.h"

namespace vmscan {
namespace {

// A ScanReply holds the result or one chunk of the cleaned message (the SVM's reply_chunk_bytes).
constexpr int kMaxReplyBytes = 8 << 20;

class StringMessageSource : public MessageSource {
 public:
  explicit StringMessageSource(absl::string_view message) : message_(message) {}
  uint64_t size() const override { return message_.size(); }
  absl::Status Read(uint64_t offset, size_t n, std::string* chunk) const override {
    const absl::string_view part = message_.substr(offset, n);
    chunk->assign(part.data(), part.size());
    return absl::OkStatus();
  }

 private:
  absl::string_view message_;
};

}  // namespace

absl::Status FileMessageSource::Read(uint64_t offset, size_t n, std::string* chunk) const {
  chunk->resize(n);
  size_t done = 0;
  while (done < n) {
    ssize_t got = ::pread(fd_, chunk->data() + done, n - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      return absl::DataLossError(absl::StrCat("cannot read the message: ", std::strerror(errno)));
    }
    if (got == 0) {
      return absl::DataLossError(absl::StrCat(
          "the message shrank while it was being sent: ", offset + done, " of ", size_, " bytes"));
    }
    done += static_cast<size_t>(got);
  }
  return absl::OkStatus();
}

bool IsScanQueueFull(const absl::Status& status) {
  return absl::IsResourceExhausted(status) &&
         status.message().find("queue full") != absl::string_view::npos;
}

std::unique_ptr<ScanClient> ScanClient::Create(const v1::AgentConfig& config) {
  std::unique_ptr<ScanClient> client(new ScanClient());
  client->config_ = config;
  absl::StatusOr<SvmCredentials> credentials = MakeSvmCredentials(config);
  if (!credentials.ok()) {
    // Not "no scanner": nothing may be delivered unscanned because of a broken TLS set-up.
    client->setup_error_ = absl::FailedPreconditionError(
        absl::StrCat("cannot set up the connection to the SVMs: ", credentials.status().message()));
    VMSCAN_LOG(ERROR) << client->setup_error_.message();
    return client;
  }
  for (const std::string& address : config.servers()) {
    Server server;
    server.address = address;
    server.channel = MakeSvmChannel(config, *credentials, address, kMaxReplyBytes);
    server.stub = v1::ScanService::NewStub(server.channel);
    server.protocol = std::make_unique<std::atomic<int>>(kProtocolUnknown);
    server.channel->GetState(/*try_to_connect=*/true);  // the first mail need not wait for TCP
    client->servers_.push_back(std::move(server));
  }
  if (config.chunk_bytes() > 0) {
    client->chunk_bytes_ = std::min<size_t>(config.chunk_bytes(), 4 << 20);
  }
  client->hash_first_ = config.hash_first();
  if (config.timeout_ms() > 0) client->timeout_ = absl::Milliseconds(config.timeout_ms());
  if (config.connect_timeout_ms() > 0) {
    client->connect_timeout_ = absl::Milliseconds(config.connect_timeout_ms());
  }
  return client;
}

absl::StatusOr<ScanResponse> ScanClient::Scan(const v1::ScanMetadata& metadata,
                                              absl::string_view message) const {
  return Scan(metadata, StringMessageSource(message));
}

bool ScanClient::SpeaksProbeFirst(const Server& server) const {
  int known = server.protocol->load();
  if (known != kProtocolUnknown) return known == v1::PROBE_FIRST;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + connect_timeout_));
  v1::ScanProtocols protocols;
  grpc::Status status =
      server.stub->GetScanProtocols(&context, v1::GetScanProtocolsRequest(), &protocols);
  if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    known = v1::STREAM;  // an SVM from before hash-first
  } else if (status.ok()) {
    known = v1::STREAM;
    for (int p : protocols.protocols()) {
      if (p == v1::PROBE_FIRST) known = v1::PROBE_FIRST;
    }
  } else {
    return false;  // ask again next time; stream meanwhile
  }
  server.protocol->store(known);
  return known == v1::PROBE_FIRST;
}

absl::StatusOr<ScanResponse> ScanClient::Scan(const v1::ScanMetadata& metadata,
                                              const MessageSource& message) const {
  if (!setup_error_.ok()) return setup_error_;
  std::vector<std::string> failures;
  // What to say when no SVM gave an answer, worst first: a handshake an SVM refused, an SVM
  // that failed the scan (e.g. its Backup), a busy SVM. Only when every SVM was out of reach is
  // it "no scanner" (UNAVAILABLE), which agent.on_no_scanner may turn into an unscanned delivery.
  absl::Status refused, failed, busy;
  std::optional<v1::CacheProbe> probe;  // computed once, for the SVMs that speak PROBE_FIRST
  for (const Server& server : servers_) {
    if (!server.channel->WaitForConnected(absl::ToChronoTime(absl::Now() + connect_timeout_))) {
      absl::Status why = NotConnectedReason(config_, server.address);
      if (absl::IsPermissionDenied(why)) refused = why;
      failures.push_back(std::string(why.message()));
      continue;
    }
    if (hash_first_ && !probe.has_value() && SpeaksProbeFirst(server)) {
      absl::StatusOr<v1::CacheProbe> computed = ComputeProbe(message);
      if (!computed.ok()) return computed.status();
      probe = *std::move(computed);
    }
    const bool use_probe = probe.has_value() && SpeaksProbeFirst(server);
    absl::StatusOr<ScanResponse> response =
        ScanOn(server, metadata, message, use_probe ? &*probe : nullptr);
    if (response.ok()) return response;
    const absl::Status& status = response.status();
    if (absl::IsResourceExhausted(status) && IsScanQueueFull(status)) {
      busy = status;
    } else if (absl::IsAborted(status)) {
      failed = status;  // this SVM could not finish (its Backup, a reload): another may
    } else if (!absl::IsUnavailable(status)) {
      return status;  // another SVM has the same size limit and the same verdict
    }
    failures.push_back(absl::StrCat(server.address, ": ", status.message()));
  }
  if (!refused.ok()) return refused;
  if (!failed.ok()) return failed;
  if (!busy.ok()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("scan queue full on every SVM reached (", absl::StrJoin(failures, "; "), ")"));
  }
  return absl::UnavailableError(absl::StrCat("no scanner reachable (",
                                             failures.empty() ? "no servers configured" : "",
                                             absl::StrJoin(failures, "; "), ")"));
}

absl::StatusOr<v1::CacheProbe> ScanClient::ComputeProbe(const MessageSource& message) const {
  VerdictKeyHasher key;
  Sha256 sha;
  std::string chunk;
  for (uint64_t offset = 0; offset < message.size();) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(chunk_bytes_, message.size() - offset));
    VMSCAN_RETURN_IF_ERROR(message.Read(offset, n, &chunk));
    key.Update(chunk);
    sha.Update(chunk);
    offset += n;
  }
  VerdictKey computed = key.Finish();
  v1::CacheProbe probe;
  probe.set_content_digest(computed.digest);
  probe.set_header_block(std::move(computed.header_block));
  probe.set_sha256(sha.FinishHex());
  return probe;
}

absl::StatusOr<ScanResponse> ScanClient::ScanOn(const Server& server,
                                                const v1::ScanMetadata& metadata,
                                                const MessageSource& message,
                                                const v1::CacheProbe* probe) const {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  // The call's headers go out with the first chunk, and the last chunk carries the half-close:
  // a small message is one write instead of three.
  context.set_initial_metadata_corked(true);
  std::unique_ptr<grpc::ClientReaderWriter<v1::ScanRequest, v1::ScanReply>> stream =
      server.stub->Scan(&context);

  ScanResponse response;
  response.server = server.address;
  bool have_result = false;
  v1::ScanReply reply;
  v1::ScanRequest request;
  *request.mutable_metadata() = metadata;
  request.mutable_metadata()->set_size(message.size());
  bool upload = true;
  if (probe != nullptr) {
    // Hash-first: the key and header block first; the message only if the SVM asks for it.
    request.mutable_metadata()->set_protocol(v1::PROBE_FIRST);
    *request.mutable_probe() = *probe;
    upload = false;
    if (stream->Write(request) && stream->Read(&reply)) {
      if (reply.send_message()) {
        upload = true;
        request.Clear();
        response.uploaded = true;
      } else if (reply.has_result()) {
        response.result = std::move(*reply.mutable_result());
        have_result = true;
        stream->WritesDone();
      }
    }
  } else {
    response.uploaded = true;
  }
  if (upload) {
    const uint64_t size = message.size();
    uint64_t offset = 0;
    do {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(chunk_bytes_, size - offset));
      absl::Status read = message.Read(offset, n, request.mutable_chunk());
      if (!read.ok()) {
        context.TryCancel();
        return read;
      }
      offset += n;
      // A failed write means the server ended the call early (e.g. too large); Finish says why.
      const bool last = offset >= size;
      if (!stream->Write(request,
                         last ? grpc::WriteOptions().set_last_message() : grpc::WriteOptions())) {
        break;
      }
      request.clear_metadata();
    } while (offset < size);  // the last Write half-closed the stream
  }
  while (stream->Read(&reply)) {
    if (reply.has_result()) {
      response.result = std::move(*reply.mutable_result());
      have_result = true;
    }
    response.cleaned.append(reply.cleaned_chunk());
  }
  absl::Status status = FromGrpcStatus(stream->Finish());
  if (!status.ok()) return status;
  if (!have_result) return absl::InternalError(absl::StrCat(server.address, " sent no result"));
  if (response.result.action() == v1::DELIVER_DISINFECTED &&
      response.cleaned.size() != response.result.cleaned_size()) {
    return absl::DataLossError(absl::StrCat("cleaned message truncated: expected ",
                                            response.result.cleaned_size(), " bytes, got ",
                                            response.cleaned.size()));
  }
  return response;
}

}  // namespace vmscan
