#include "host_server/service/scan_service.h"

#include <algorithm>
#include <atomic>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/grpc_status.h"
#include "common/logging.h"
#include "host_server/scan/action_policy.h"

namespace vmscan {
namespace {

constexpr absl::string_view kScanMethod = "/vmscan.v1.ScanService/Scan";

// A Scan stream refused before its first read (authorization).
class RefusedScan final : public grpc::ServerBidiReactor<v1::ScanRequest, v1::ScanReply> {
 public:
  explicit RefusedScan(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

std::string ThreatNames(const v1::ScanResult& result) {
  return absl::StrJoin(result.threats(), ",", [](std::string* out, const v1::Threat& t) {
    absl::StrAppend(out, t.name());
  });
}

class ScanReactor final : public grpc::ServerBidiReactor<v1::ScanRequest, v1::ScanReply> {
 public:
  ScanReactor(grpc::CallbackServerContext* context, Caller caller, const Authorizer* authorizer,
              const Scanner* scanner, WorkerPool* pool, WorkerPool* probe_pool,
              ByteBudget* inflight, const ScanServiceImpl::Options& options)
      : context_(context),
        caller_(std::move(caller)),
        authorizer_(authorizer),
        scanner_(scanner),
        pool_(pool),
        probe_pool_(probe_pool),
        inflight_(inflight),
        options_(options),
        accepted_(absl::Now()) {
    StartRead(&request_);
  }
  ~ScanReactor() { inflight_->Release(metadata_.vm().id(), reserved_); }

  void OnReadDone(bool ok) override {
    if (!ok) {
      OnEndOfUpload();
      return;
    }
    if (!have_metadata_) {
      if (!request_.has_metadata()) {
        FinishOnce(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                "the first ScanRequest must carry metadata"));
        return;
      }
      metadata_ = std::move(*request_.mutable_metadata());
      have_metadata_ = true;
      // A VM scans only as itself; the name it is known by is its certificate's when it gives
      // none. Channel and direction stay the agent's claim (docs/security.md).
      if (absl::Status mine = authorizer_->AuthorizeVm(caller_, kScanMethod, metadata_.vm().id());
          !mine.ok()) {
        FinishOnce(ToGrpcStatus(mine));
        return;
      }
      if (caller_.kind == Caller::Kind::kVm && metadata_.vm().name().empty()) {
        metadata_.mutable_vm()->set_name(caller_.common_name);
      }
      if (absl::Status route = NormalizeRoute(&metadata_); !route.ok()) {
        FinishOnce(ToGrpcStatus(route));
        return;
      }
      if (metadata_.size() > options_.max_message_bytes) {
        FinishOnce(TooLarge(metadata_.size()));
        return;
      }
      if (metadata_.protocol() == v1::PROBE_FIRST) {
        StartProbe();
        return;  // no read until the probe is answered
      }
      if (metadata_.size() > 0) {
        if (!Reserve(metadata_.size())) return;
        message_.reserve(metadata_.size());
      }
    } else if (request_.has_metadata()) {
      FinishOnce(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                              "metadata is allowed only in the first ScanRequest"));
      return;
    }
    const std::string& chunk = request_.chunk();
    if (message_.size() + chunk.size() > options_.max_message_bytes) {
      FinishOnce(TooLarge(message_.size() + chunk.size()));
      return;
    }
    if (!Reserve(message_.size() + chunk.size())) return;
    message_.append(chunk);
    if (absl::Now() - accepted_ > options_.request_deadline) {
      FinishOnce(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                              "upload took longer than the SVM's request deadline"));
      return;
    }
    request_.Clear();
    StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      FinishOnce(grpc::Status(grpc::StatusCode::CANCELLED, "client went away during the reply"));
      return;
    }
    bool probe_reply = false;
    bool upload_ended = false;
    {
      absl::MutexLock lock(&mu_);
      probe_reply = probe_reply_in_flight_;  // the "send the message" reply of a probe is out
      probe_reply_in_flight_ = false;
      upload_ended = upload_ended_;
    }
    if (!probe_reply) {
      WriteNextCleanedChunk();
      return;
    }
    // OnEndOfUpload submits the scan, unless the upload ended while this write was in flight.
    if (upload_ended && !scan_submitted_.exchange(true)) SubmitScan();
  }

  void OnDone() override { delete this; }

 private:
  void OnEndOfUpload() {
    if (context_->IsCancelled()) {
      FinishOnce(grpc::Status(grpc::StatusCode::CANCELLED, "client abandoned the scan"));
      return;
    }
    if (!have_metadata_) {
      FinishOnce(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                              "stream ended before any ScanRequest with metadata"));
      return;
    }
    if (message_.empty()) {
      FinishOnce(
          grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "empty message: nothing to scan"));
      return;
    }
    if (metadata_.size() != 0 && metadata_.size() != message_.size()) {
      FinishOnce(
          grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                       absl::StrCat("message truncated: metadata.size says ", metadata_.size(),
                                    " bytes, received ", message_.size())));
      return;
    }
    {
      // After a probe, the scan's reply must not overtake the probe's "send it" write.
      absl::MutexLock lock(&mu_);
      upload_ended_ = true;
      if (probe_reply_in_flight_) return;  // OnWriteDone submits the scan
    }
    if (scan_submitted_.exchange(true)) return;
    SubmitScan();
  }

  // The upload is complete and nothing is being written: queue the scan.
  void SubmitScan() {
    const absl::Time due =
        accepted_ + absl::Seconds(static_cast<double>(message_.size()) /
                                  std::max(1.0, options_.expected_scan_bytes_per_second));
    WorkerPool::Slot slot;
    slot.tenant = metadata_.vm().id();
    slot.cost = message_.size() + options_.scan_overhead_bytes;
    slot.due = due;
    switch (pool_->Submit([this] { RunScan(); }, std::move(slot))) {
      case WorkerPool::Admission::kAccepted:
        return;
      case WorkerPool::Admission::kTenantQueueFull:
        FinishOnce(grpc::Status(
            grpc::StatusCode::RESOURCE_EXHAUSTED,
            absl::StrCat("scan queue full for this VM (", pool_->queued(metadata_.vm().id()),
                         " of its scans waiting, its share of queue_depth); retry later")));
        return;
      case WorkerPool::Admission::kQueueFull:
      case WorkerPool::Admission::kStopping:
        FinishOnce(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                absl::StrCat("scan queue full (", pool_->queued(),
                                             " waiting); retry later or on another SVM")));
        return;
    }
  }

  // PROBE_FIRST: the first request carried metadata and a probe. The probe goes to the probe
  // pool (a cache lookup and a header-block scan: short, never behind long scans).
  void StartProbe() {
    if (!request_.has_probe() || !request_.chunk().empty() || metadata_.size() == 0) {
      FinishOnce(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                              "PROBE_FIRST: the first ScanRequest carries metadata with the "
                              "message's size and a probe, and no chunk"));
      return;
    }
    probe_ = std::move(*request_.mutable_probe());
    request_.Clear();
    if (!probe_pool_->TrySubmit([this] { RunProbe(); })) {
      FinishOnce(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                              "scan queue full (probes); retry later or on another SVM"));
    }
  }

  // Runs on a probe thread.
  void RunProbe() {
    if (context_->IsCancelled()) {
      FinishOnce(grpc::Status(grpc::StatusCode::CANCELLED, "client abandoned the scan"));
      return;
    }
    absl::StatusOr<ProbeOutcome> probed = scanner_->Probe(metadata_, probe_);
    if (!probed.ok()) {
      FinishOnce(ToGrpcStatus(probed.status()));
      return;
    }
    if (!probed->need_message) {
      LogResult(probed->outcome.result);
      *reply_.mutable_result() = probed->outcome.result;
      if (!finished_.exchange(true)) {
        StartWriteAndFinish(&reply_, grpc::WriteOptions(), grpc::Status::OK);
      }
      return;
    }
    if (!Reserve(metadata_.size())) return;
    message_.reserve(metadata_.size());
    {
      absl::MutexLock lock(&mu_);
      probe_reply_in_flight_ = true;
    }
    probe_reply_.set_send_message(true);
    StartWrite(&probe_reply_);
    StartRead(&request_);
  }

  // Runs on a worker thread.
  void RunScan() {
    if (context_->IsCancelled()) {
      FinishOnce(grpc::Status(grpc::StatusCode::CANCELLED, "client abandoned the scan"));
      return;
    }
    if (absl::Now() - accepted_ > options_.request_deadline) {
      FinishOnce(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                              "waited longer than the SVM's request deadline for a worker"));
      return;
    }
    absl::StatusOr<ScanOutcome> outcome = scanner_->Scan(metadata_, message_);
    std::string().swap(message_);  // the original is no longer needed; free it now
    if (!outcome.ok()) {
      VMSCAN_LOG(WARNING) << "scan of " << metadata_.client_ref() << " from VM "
                          << metadata_.vm().id() << " failed: " << outcome.status();
      FinishOnce(ToGrpcStatus(outcome.status()));
      return;
    }
    const v1::ScanResult& result = outcome->result;
    LogResult(result);
    cleaned_ = std::move(outcome->cleaned);
    *reply_.mutable_result() = result;
    if (cleaned_.empty()) {
      // The usual case: one batch carries the result and the trailers (no OnWriteDone round).
      if (!finished_.exchange(true))
        StartWriteAndFinish(&reply_, grpc::WriteOptions(), grpc::Status::OK);
      return;
    }
    StartWrite(&reply_);
  }

  void LogResult(const v1::ScanResult& result) const {
    VMSCAN_LOG(INFO) << "scan vm=" << metadata_.vm().id() << " (" << metadata_.vm().name()
                     << ") channel=" << v1::Channel_Name(metadata_.channel())
                     << " size=" << result.size()
                     << " verdict=" << v1::Verdict_Name(result.verdict())
                     << " action=" << v1::Action_Name(result.action())
                     << (result.threats_size() > 0 ? " threats=" + ThreatNames(result) : "")
                     << (result.backup_id().empty() ? "" : " backup=" + result.backup_id())
                     << (result.cache_hit() ? " cache=hit" : "")
                     << " micros=" << result.scan_micros();
  }

  void WriteNextCleanedChunk() {
    if (cleaned_offset_ >= cleaned_.size()) {
      FinishOnce(grpc::Status::OK);
      return;
    }
    size_t n = std::min(options_.reply_chunk_bytes, cleaned_.size() - cleaned_offset_);
    reply_.Clear();
    reply_.set_cleaned_chunk(cleaned_.substr(cleaned_offset_, n));
    cleaned_offset_ += n;
    StartWrite(&reply_);
  }

  // Holds `total` bytes of the SVM's budget for this message (what is held already counts);
  // false after finishing the call when the budget has no room.
  bool Reserve(uint64_t total) {
    if (total <= reserved_) return true;
    const std::string& vm = metadata_.vm().id();
    switch (inflight_->TryReserve(vm, total - reserved_)) {
      case ByteBudget::Refusal::kNone:
        reserved_ = total;
        return true;
      case ByteBudget::Refusal::kVmShare:
        // "scan queue full" too: an agent may try another SVM. The other VMs are not refused.
        FinishOnce(grpc::Status(
            grpc::StatusCode::RESOURCE_EXHAUSTED,
            absl::StrCat("scan queue full for this VM: it holds ", inflight_->held(vm),
                         " bytes of messages, a ", total, "-byte message would exceed its share (",
                         inflight_->per_vm_limit(),
                         " bytes, scheduler.max_vm_share_percent of max_inflight_bytes); "
                         "retry later")));
        return false;
      case ByteBudget::Refusal::kTotal:
        break;
    }
    FinishOnce(grpc::Status(
        grpc::StatusCode::RESOURCE_EXHAUSTED,
        absl::StrCat("scan queue full: ", inflight_->held(), " bytes of messages held, a ", total,
                     "-byte message would exceed max_inflight_bytes (", inflight_->limit(),
                     "); retry later or on another SVM")));
    return false;
  }

  grpc::Status TooLarge(uint64_t size) const {
    return grpc::Status(
        grpc::StatusCode::RESOURCE_EXHAUSTED,
        absl::StrCat("message of ", size, "+ bytes exceeds the limit of ",
                     options_.max_message_bytes, " bytes (limits.max_message_bytes)"));
  }

  // Cancellation, a failed write and the worker can race to finish; only the first wins.
  void FinishOnce(const grpc::Status& status) {
    if (finished_.exchange(true)) return;
    Finish(status);
  }

  grpc::CallbackServerContext* const context_;
  const Caller caller_;
  const Authorizer* const authorizer_;
  const Scanner* const scanner_;
  WorkerPool* const pool_;
  WorkerPool* const probe_pool_;
  ByteBudget* const inflight_;
  const ScanServiceImpl::Options& options_;
  const absl::Time accepted_;

  v1::ScanRequest request_;
  uint64_t reserved_ = 0;  // bytes of inflight_ this call holds, given back when it ends
  bool have_metadata_ = false;
  v1::ScanMetadata metadata_;
  std::string message_;
  v1::ScanReply reply_;
  std::string cleaned_;
  size_t cleaned_offset_ = 0;
  std::atomic<bool> finished_{false};
  v1::CacheProbe probe_;
  v1::ScanReply probe_reply_;  // {send_message: true}
  absl::Mutex mu_;
  bool probe_reply_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool upload_ended_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<bool> scan_submitted_{false};
};

}  // namespace

ScanServiceImpl::ScanServiceImpl(const Scanner* scanner, WorkerPool* pool,
                                 const Authorizer* authorizer, Options options)
    : scanner_(scanner),
      pool_(pool),
      probe_pool_(options.probe_threads, options.probe_queue_depth, "probe"),
      authorizer_(authorizer),
      options_(options),
      inflight_(options.max_inflight_bytes, options.max_vm_inflight_bytes) {}

grpc::ServerBidiReactor<v1::ScanRequest, v1::ScanReply>* ScanServiceImpl::Scan(
    grpc::CallbackServerContext* context) {
  absl::StatusOr<Caller> caller = authorizer_->Authorize(*context, kScanMethod);
  if (!caller.ok()) return new RefusedScan(ToGrpcStatus(caller.status()));
  return new ScanReactor(context, *std::move(caller), authorizer_, scanner_, pool_, &probe_pool_,
                         &inflight_, options_);
}

grpc::ServerUnaryReactor* ScanServiceImpl::GetScanProtocols(grpc::CallbackServerContext* context,
                                                            const v1::GetScanProtocolsRequest*,
                                                            v1::ScanProtocols* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller =
      authorizer_->Authorize(*context, "/vmscan.v1.ScanService/GetScanProtocols");
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  response->add_protocols(v1::STREAM);
  response->add_protocols(v1::PROBE_FIRST);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

void ScanServiceImpl::Shutdown() { probe_pool_.Shutdown(); }

}  // namespace vmscan
