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
#include "common/tls/credentials.h"
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

namespace {

absl::Duration MsOr(uint32_t ms, absl::Duration fallback) {
  return ms > 0 ? absl::Milliseconds(ms) : fallback;
}

// A directory call: short, so that a round with a hung SVM stays short.
constexpr absl::Duration kDirectoryDeadline = absl::Seconds(1);

}  // namespace

ScanClient::ScanClient(const v1::AgentConfig& config)
    : config_(config),
      selector_("", {config.servers().begin(), config.servers().end()},
                MsOr(config.svm_choice().retry_ms(), absl::Seconds(10))) {}

ScanClient::~ScanClient() {
  stop_.Notify();
  if (refresher_.joinable()) refresher_.join();
}

std::unique_ptr<ScanClient> ScanClient::Create(const v1::AgentConfig& config) {
  std::unique_ptr<ScanClient> client(new ScanClient(config));
  absl::StatusOr<SvmCredentials> credentials = MakeSvmCredentials(config);
  if (!credentials.ok()) {
    // Not "no scanner": nothing may be delivered unscanned because of a broken TLS set-up.
    client->setup_error_ = absl::FailedPreconditionError(
        absl::StrCat("cannot set up the connection to the SVMs: ", credentials.status().message()));
    VMSCAN_LOG(ERROR) << client->setup_error_.message();
    return client;
  }
  client->credentials_ = *std::move(credentials);
  for (const std::string& address : config.servers()) {
    absl::StatusOr<std::shared_ptr<const Server>> server = client->ServerAt(address);
    // The first mail need not wait for TCP.
    if (server.ok()) (*server)->channel->GetState(/*try_to_connect=*/true);
  }
  if (config.chunk_bytes() > 0) {
    client->chunk_bytes_ = std::min<size_t>(config.chunk_bytes(), 4 << 20);
  }
  client->hash_first_ = config.hash_first();
  client->timeout_ = MsOr(config.timeout_ms(), client->timeout_);
  client->connect_timeout_ = MsOr(config.connect_timeout_ms(), client->connect_timeout_);
  client->discover_ = !config.svm_choice().has_discover() || config.svm_choice().discover();
  client->refresh_ = MsOr(config.svm_choice().refresh_ms(), client->refresh_);
  return client;
}

absl::StatusOr<std::shared_ptr<const ScanClient::Server>> ScanClient::ServerAt(
    const std::string& address) const {
  absl::MutexLock lock(&servers_mu_);
  auto it = servers_.find(address);
  if (it != servers_.end()) return it->second;
  // A learned SVM must be allowed by the same rules as a configured one.
  VMSCAN_RETURN_IF_ERROR(CheckTlsConfig(config_.tls(), address, "tls"));
  auto server = std::make_shared<Server>();
  server->address = address;
  server->channel = MakeSvmChannel(config_, credentials_, address, kMaxReplyBytes);
  server->stub = v1::ScanService::NewStub(server->channel);
  server->directory = v1::SvmDirectory::NewStub(server->channel);
  servers_[address] = server;
  return std::shared_ptr<const Server>(server);
}

bool ScanClient::Connect(const Server& server, absl::Time deadline, bool wait_through_failure) {
  if (wait_through_failure) return server.channel->WaitForConnected(absl::ToChronoTime(deadline));
  for (;;) {
    const grpc_connectivity_state state = server.channel->GetState(/*try_to_connect=*/true);
    if (state == GRPC_CHANNEL_READY) return true;
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE || state == GRPC_CHANNEL_SHUTDOWN) return false;
    if (!server.channel->WaitForStateChange(state, absl::ToChronoTime(deadline))) return false;
  }
}

void ScanClient::StartChoosing(const std::string& own_hypervisor_host,
                               std::function<void(const v1::SvmChoiceStatus&)> on_refresh) {
  own_host_ = own_hypervisor_host;
  on_refresh_ = std::move(on_refresh);
  selector_.SetOwnHypervisorHost(own_hypervisor_host);
  if (!setup_error_.ok()) return;
  Refresh();
  refresher_ = std::thread([this] { RefreshLoop(); });
}

void ScanClient::RefreshLoop() {
  while (!stop_.WaitForNotificationWithTimeout(refresh_)) Refresh();
}

void ScanClient::Refresh() {
  if (!setup_error_.ok()) return;
  // Every SVM asked at once, so that one that hangs costs the round one deadline, not one each.
  struct Call {
    std::shared_ptr<const Server> server;
    grpc::ClientContext context;
    v1::ListSvmsRequest request;
    v1::SvmList list;
    grpc::Status status;
    absl::Notification done;
  };
  std::map<std::string, absl::StatusOr<v1::SvmList>> answers;
  std::vector<std::unique_ptr<Call>> calls;
  for (const std::string& address : selector_.Order(absl::Now())) {
    absl::StatusOr<std::shared_ptr<const Server>> server = ServerAt(address);
    if (!server.ok()) {
      answers.emplace(address, server.status());
      continue;
    }
    auto call = std::make_unique<Call>();
    call->server = *server;
    call->context.set_deadline(absl::ToChronoTime(absl::Now() + kDirectoryDeadline));
    Call* raw = call.get();
    call->server->directory->async()->ListSvms(&call->context, &raw->request, &call->list,
                                               [raw](grpc::Status status) {
                                                 raw->status = std::move(status);
                                                 raw->done.Notify();
                                               });
    calls.push_back(std::move(call));
  }
  for (std::unique_ptr<Call>& call : calls) {
    call->done.WaitForNotification();
    if (call->status.ok()) {
      answers.emplace(call->server->address, std::move(call->list));
    } else if (call->status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
      // An SVM from before the directory: it scans, but tells nothing of itself.
      v1::SvmList self;
      self.add_svms()->set_self(true);
      self.mutable_svms(0)->set_address(call->server->address);
      self.mutable_svms(0)->set_load(-1);
      answers.emplace(call->server->address, std::move(self));
    } else {
      absl::Status why = FromGrpcStatus(call->status);
      answers.emplace(
          call->server->address,
          absl::Status(why.code(), absl::StrCat(call->server->address, ": ", why.message())));
    }
  }
  selector_.Refresh(answers, discover_, absl::Now());
  LogChoiceChange();
  if (on_refresh_) on_refresh_(ChoiceStatus());
}

v1::SvmChoiceStatus ScanClient::ChoiceStatus() const {
  v1::SvmChoiceStatus status;
  status.set_hypervisor_host(own_host_);
  status.set_updated_unix_ms(absl::ToUnixMillis(absl::Now()));
  for (v1::SvmChoice& choice : selector_.Ranking(absl::Now())) {
    *status.add_svms() = std::move(choice);
  }
  return status;
}

void ScanClient::LogChoiceChange() const {
  std::optional<std::string> line = selector_.ChoiceChange(absl::Now());
  if (line.has_value()) {
    VMSCAN_LOG(INFO) << *line;
  }
}

absl::StatusOr<ScanResponse> ScanClient::Scan(const v1::ScanMetadata& metadata,
                                              absl::string_view message) const {
  return Scan(metadata, StringMessageSource(message));
}

bool ScanClient::SpeaksProbeFirst(const Server& server) const {
  int known = server.protocol.load();
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
  server.protocol.store(known);
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
  // First pass: in the selector's order, an SVM that refuses connections is skipped at once.
  // Second pass, only if none answered: those again, waiting up to connect_timeout for each
  // (an SVM that restarts within it takes the mail instead of a tempfail).
  std::vector<std::shared_ptr<const Server>> refusing;
  auto try_on = [&](const std::shared_ptr<const Server>& shared,
                    bool first_pass) -> std::optional<absl::StatusOr<ScanResponse>> {
    const Server& server = *shared;
    if (!Connect(server, absl::Now() + connect_timeout_, /*wait_through_failure=*/!first_pass)) {
      absl::Status why = NotConnectedReason(config_, server.address);
      selector_.Failed(server.address, why, absl::Now());
      if (first_pass && server.channel->GetState(false) == GRPC_CHANNEL_TRANSIENT_FAILURE) {
        refusing.push_back(shared);  // refused: waited for in the second pass
        return std::nullopt;
      }
      if (absl::IsPermissionDenied(why)) refused = why;
      failures.push_back(std::string(why.message()));
      return std::nullopt;
    }
    if (hash_first_ && !probe.has_value() && SpeaksProbeFirst(server)) {
      absl::StatusOr<v1::CacheProbe> computed = ComputeProbe(message);
      if (!computed.ok()) return computed.status();
      probe = *std::move(computed);
    }
    const bool use_probe = probe.has_value() && SpeaksProbeFirst(server);
    absl::StatusOr<ScanResponse> response =
        ScanOn(server, metadata, message, use_probe ? &*probe : nullptr);
    if (response.ok()) {
      selector_.Succeeded(server.address);
      return response;
    }
    const absl::Status& status = response.status();
    if (absl::IsResourceExhausted(status) && IsScanQueueFull(status)) {
      busy = status;
      selector_.Overloaded(server.address);
    } else if (absl::IsAborted(status)) {
      failed = status;  // this SVM could not finish (its Backup, a reload): another may
    } else if (absl::IsUnavailable(status)) {
      selector_.Failed(server.address, status, absl::Now());
    } else {
      return status;  // another SVM has the same size limit and the same verdict
    }
    failures.push_back(absl::StrCat(server.address, ": ", status.message()));
    return std::nullopt;
  };
  for (const std::string& address : selector_.Order(absl::Now())) {
    absl::StatusOr<std::shared_ptr<const Server>> server = ServerAt(address);
    if (!server.ok()) {
      failures.push_back(std::string(server.status().message()));
      continue;
    }
    std::optional<absl::StatusOr<ScanResponse>> answer = try_on(*server, /*first_pass=*/true);
    if (answer.has_value()) {
      LogChoiceChange();
      return *std::move(answer);
    }
  }
  for (const std::shared_ptr<const Server>& server : refusing) {
    std::optional<absl::StatusOr<ScanResponse>> answer = try_on(server, /*first_pass=*/false);
    if (answer.has_value()) {
      LogChoiceChange();
      return *std::move(answer);
    }
  }
  LogChoiceChange();
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
