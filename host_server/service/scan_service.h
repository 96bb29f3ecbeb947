// ScanServiceImpl: the gRPC face of the Scanner (callback API, one reactor per Scan stream).
//
// The reactor only collects chunks; the scan itself runs on the WorkerPool, whose thread writes
// the reply and finishes the call, so no gRPC thread ever blocks on libclamav. Limits enforced
// here: metadata first, message size (declared and received), queue depth (RESOURCE_EXHAUSTED),
// the per-request deadline on the SVM, the bytes held at once (Options::max_inflight_bytes).
// Fair between VMs (docs/design.md §6): one VM holds at most Options::max_vm_inflight_bytes and
// the pool's per-tenant queue depth, and waiting scans are served by deficit round robin over
// the VMs (WorkerPool), by size plus Options::scan_overhead_bytes; a VM's own scans run earliest
// expected finish first (Options::expected_scan_bytes_per_second).
//
// Every stream is authorized before its first read, and its metadata must name the calling VM
// (Authorizer): a VM cannot scan as another.
//
// Thread-safe; the scanner and pool must outlive the service.
#ifndef VMSCAN_HOST_SERVER_SERVICE_SCAN_SERVICE_H_
#define VMSCAN_HOST_SERVER_SERVICE_SCAN_SERVICE_H_

#include <cstdint>

#include "absl/time/time.h"
#include "host_server/auth/authorizer.h"
#include "host_server/scan/scanner.h"
#include "host_server/scan/worker_pool.h"
#include "host_server/service/byte_budget.h"
#include "vmscan/v1/scan.grpc.pb.h"

namespace vmscan {

class ScanServiceImpl final : public v1::ScanService::CallbackService {
 public:
  struct Options {
    uint64_t max_message_bytes = 50ull << 20;
    absl::Duration request_deadline = absl::Minutes(5);  // from first byte to reply
    size_t reply_chunk_bytes = 1 << 20;
    // Bytes of messages held at once (ServerConfig.max_inflight_bytes); 0: no bound.
    uint64_t max_inflight_bytes = 0;
    // Of those, what one VM may hold (SchedulerConfig.max_vm_share_percent); 0: no bound.
    uint64_t max_vm_inflight_bytes = 0;
    // What a scan costs in the round robin beyond its size (SchedulerConfig).
    uint64_t scan_overhead_bytes = 64 << 10;
    // Queue order: a message is due when the stream began plus size ÷ this rate (a cautious
    // single-worker scan rate with a production-sized database), so small messages overtake
    // a big one that arrived shortly before them, and a big one waits at most about its own
    // scan time longer than in FIFO order (WorkerPool).
    double expected_scan_bytes_per_second = 2.0 * (1 << 20);
    // Hash-first probes (cache lookup + header-block scan) run on a small pool of their own, so
    // that a hit never waits behind long scans.
    int probe_threads = 2;
    int probe_queue_depth = 256;
  };

  // `scanner`, `pool` and `authorizer` must outlive the service.
  ScanServiceImpl(const Scanner* scanner, WorkerPool* pool, const Authorizer* authorizer,
                  Options options);

  grpc::ServerBidiReactor<v1::ScanRequest, v1::ScanReply>* Scan(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* GetScanProtocols(grpc::CallbackServerContext* context,
                                             const v1::GetScanProtocolsRequest* request,
                                             v1::ScanProtocols* response) override;

  // Finishes the probes already queued and joins the probe threads (before the server's Wait).
  void Shutdown();

 private:
  const Scanner* scanner_;
  WorkerPool* pool_;
  WorkerPool probe_pool_;
  const Authorizer* authorizer_;
  const Options options_;
  ByteBudget inflight_;
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_SERVICE_SCAN_SERVICE_H_
