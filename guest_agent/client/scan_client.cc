#include "guest_agent/client/scan_client.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/grpc_status.h"
#include "common/logging.h"
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
    server.channel->GetState(/*try_to_connect=*/true);  // the first mail need not wait for TCP
    client->servers_.push_back(std::move(server));
  }
  if (config.chunk_bytes() > 0) {
    client->chunk_bytes_ = std::min<size_t>(config.chunk_bytes(), 4 << 20);
  }
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

absl::StatusOr<ScanResponse> ScanClient::Scan(const v1::ScanMetadata& metadata,
                                              const MessageSource& message) const {
  if (!setup_error_.ok()) return setup_error_;
  std::vector<std::string> failures;
  absl::Status refused;  // a handshake an SVM refused: never reported as "no scanner"
  for (const Server& server : servers_) {
    if (!server.channel->WaitForConnected(absl::ToChronoTime(absl::Now() + connect_timeout_))) {
      absl::Status why = NotConnectedReason(config_, server.address);
      if (absl::IsPermissionDenied(why)) refused = why;
      failures.push_back(std::string(why.message()));
      continue;
    }
    absl::StatusOr<ScanResponse> response = ScanOn(server, metadata, message);
    if (response.ok()) return response;
    const absl::StatusCode code = response.status().code();
    if (code != absl::StatusCode::kUnavailable && code != absl::StatusCode::kResourceExhausted) {
      return response.status();
    }
    // Another SVM has the same size limit, so only a busy SVM is worth skipping.
    if (code == absl::StatusCode::kResourceExhausted && !IsScanQueueFull(response.status())) {
      return response.status();
    }
    failures.push_back(absl::StrCat(server.address, ": ", response.status().message()));
  }
  if (!refused.ok()) return refused;
  return absl::UnavailableError(absl::StrCat("no scanner reachable (",
                                             failures.empty() ? "no servers configured" : "",
                                             absl::StrJoin(failures, "; "), ")"));
}

absl::StatusOr<ScanResponse> ScanClient::ScanOn(const Server& server,
                                                const v1::ScanMetadata& metadata,
                                                const MessageSource& message) const {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  // The call's headers go out with the first chunk, and the last chunk carries the half-close:
  // a small message is one write instead of three.
  context.set_initial_metadata_corked(true);
  std::unique_ptr<grpc::ClientReaderWriter<v1::ScanRequest, v1::ScanReply>> stream =
      server.stub->Scan(&context);

  v1::ScanRequest request;
  *request.mutable_metadata() = metadata;
  request.mutable_metadata()->set_size(message.size());
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

  ScanResponse response;
  response.server = server.address;
  bool have_result = false;
  v1::ScanReply reply;
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
