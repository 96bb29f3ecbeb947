// ScanClient: the agent's side of vmscan.v1.ScanService. Streams one message to an SVM in chunks
// and collects the verdict and, for DELIVER_DISINFECTED, the cleaned message.
//
//   std::unique_ptr<ScanClient> client = ScanClient::Create(agent_config);
//   absl::StatusOr<ScanResponse> r = client->Scan(metadata, message);
//   if (absl::IsUnavailable(r.status())) ...  // no SVM reachable: tempfail, never deliver
//
// SVMs are tried in the order SvmSelector gives (docs/design.md §6.1): the SVM of this VM's own
// hypervisor host first, then the least loaded, those that failed lately last. One that cannot
// be reached (refused at once, or not connected within connect_timeout_ms), that answers
// UNAVAILABLE or ABORTED, or whose queue is full (RESOURCE_EXHAUSTED) is skipped for the next.
// Every call has a deadline (timeout_ms); keepalive pings end a call to an SVM that stopped
// answering within about 10 s, and the message goes to the next SVM.
//
// StartChoosing() (`vmscan-agent run`) adds a thread that every svm_choice.refresh_ms asks each
// known SVM for its load and the SVMs it knows (SvmDirectory.ListSvms), re-probes failed ones
// and logs each change of choice; without it (one-shot `scan`) the configured order holds.
//
// Hash-first (agent config hash_first, default on; docs/verdict-cache.md): with an SVM that
// speaks ScanProtocol PROBE_FIRST the client first sends the message's verdict key and header
// block (read in one pass over the source) and uploads the message only when the SVM asks for
// it; copies of one message to many VMs are then answered from the SVM's verdict cache without
// leaving the VM. An SVM from before (GetScanProtocols UNIMPLEMENTED) gets the whole stream.
// Thread-safe.
#ifndef VMSCAN_GUEST_AGENT_CLIENT_SCAN_CLIENT_H_
#define VMSCAN_GUEST_AGENT_CLIENT_SCAN_CLIENT_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "guest_agent/client/svm_channel.h"
#include "guest_agent/client/svm_selector.h"
#include "vmscan/v1/config.pb.h"
#include "vmscan/v1/directory.grpc.pb.h"
#include "vmscan/v1/scan.grpc.pb.h"

namespace vmscan {

struct ScanResponse {
  v1::ScanResult result;
  std::string cleaned;    // the message to deliver instead, for DELIVER_DISINFECTED
  std::string server;     // the SVM that answered
  bool uploaded = false;  // the message went to the SVM (false: a hash-first hit)
};

// Where a message's bytes come from, read chunk by chunk: a scan reads it from the start once per
// SVM it tries, so the whole message need not be in memory. Implementations must be usable from
// the thread that calls Scan().
class MessageSource {
 public:
  virtual ~MessageSource() = default;
  virtual uint64_t size() const = 0;
  // Replaces `*chunk` with the bytes [offset, offset + n), n <= size() - offset.
  virtual absl::Status Read(uint64_t offset, size_t n, std::string* chunk) const = 0;
};

// A regular file (or an unlinked spool file) of `size` bytes, read with pread(2). Does not own
// the descriptor.
class FileMessageSource : public MessageSource {
 public:
  FileMessageSource(int fd, uint64_t size) : fd_(fd), size_(size) {}
  uint64_t size() const override { return size_; }
  absl::Status Read(uint64_t offset, size_t n, std::string* chunk) const override;

 private:
  int fd_;
  uint64_t size_;
};

// Whether a failed scan's `status` says the SVM was too busy to take the message (its queue or
// byte budget full: RESOURCE_EXHAUSTED "scan queue full ..."; another SVM may take it, or later)
// rather than that the message is too large for it (RESOURCE_EXHAUSTED otherwise: every SVM
// has the same limit).
bool IsScanQueueFull(const absl::Status& status);

// How interceptors call the SVM (ScanClient::Scan, or a fake in tests). Must be thread-safe.
using ScanFunction =
    std::function<absl::StatusOr<ScanResponse>(const v1::ScanMetadata&, absl::string_view)>;

class ScanClient {
 public:
  static std::unique_ptr<ScanClient> Create(const v1::AgentConfig& config);
  ~ScanClient();

  // Prefers the SVMs of `own_hypervisor_host` and keeps the choice current: one refresh round
  // now, then one every svm_choice.refresh_ms on a thread of its own. `on_refresh` (may be
  // empty) gets the ranking after each round (`run` writes it to <state_dir>/svm-choice.json).
  // Call once, before scans start.
  void StartChoosing(const std::string& own_hypervisor_host,
                     std::function<void(const v1::SvmChoiceStatus&)> on_refresh);
  // One refresh round now (what the thread does): every known SVM asked with a short deadline.
  void Refresh();
  // What the agent knows of its SVMs, in the order the next scan tries them.
  v1::SvmChoiceStatus ChoiceStatus() const;

  // UNAVAILABLE ("no scanner reachable ...") when no SVM answered; PERMISSION_DENIED when an SVM
  // accepted TCP but refused this VM's TLS handshake (and none answered); FAILED_PRECONDITION
  // when the TLS files could not be used; otherwise the SVM's error.
  absl::StatusOr<ScanResponse> Scan(const v1::ScanMetadata& metadata,
                                    absl::string_view message) const;
  // The same, reading the message chunk by chunk (O(chunk_bytes) memory for the upload). An
  // error reading the source fails the scan with that error.
  absl::StatusOr<ScanResponse> Scan(const v1::ScanMetadata& metadata,
                                    const MessageSource& message) const;

 private:
  static constexpr int kProtocolUnknown = -1;
  struct Server {
    std::string address;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<v1::ScanService::Stub> stub;
    std::unique_ptr<v1::SvmDirectory::Stub> directory;
    // What the SVM speaks (a v1::ScanProtocol value) once asked; kProtocolUnknown before.
    mutable std::atomic<int> protocol{kProtocolUnknown};
  };

  explicit ScanClient(const v1::AgentConfig& config);
  // The server at `address`, its channel made on first use; an error when the TLS settings
  // forbid that address (plaintext to a learned SVM that is not on loopback).
  absl::StatusOr<std::shared_ptr<const Server>> ServerAt(const std::string& address) const;
  // Connected, or false once it failed or `deadline` passed; `wait_through_failure` keeps
  // waiting while the channel retries a refused connection (an SVM restarting).
  static bool Connect(const Server& server, absl::Time deadline, bool wait_through_failure);
  void LogChoiceChange() const;
  void RefreshLoop();
  // Asks the SVM once (GetScanProtocols) and remembers; false while unknown.
  bool SpeaksProbeFirst(const Server& server) const;
  // One pass over the message: its verdict key, header block and SHA-256.
  absl::StatusOr<v1::CacheProbe> ComputeProbe(const MessageSource& message) const;
  // `probe` null: the whole message is streamed (ScanProtocol STREAM).
  absl::StatusOr<ScanResponse> ScanOn(const Server& server, const v1::ScanMetadata& metadata,
                                      const MessageSource& message,
                                      const v1::CacheProbe* probe) const;

  v1::AgentConfig config_;
  absl::Status setup_error_;  // credentials could not be made: every scan fails with it
  SvmCredentials credentials_;
  mutable SvmSelector selector_;
  mutable absl::Mutex servers_mu_;
  mutable std::map<std::string, std::shared_ptr<const Server>> servers_
      ABSL_GUARDED_BY(servers_mu_);
  bool discover_ = true;
  absl::Duration refresh_ = absl::Seconds(5);
  std::string own_host_;  // set by StartChoosing, before scans start
  std::function<void(const v1::SvmChoiceStatus&)> on_refresh_;
  absl::Notification stop_;
  std::thread refresher_;
  bool hash_first_ = true;
  size_t chunk_bytes_ = 256 * 1024;
  absl::Duration timeout_ = absl::Minutes(5);
  absl::Duration connect_timeout_ = absl::Seconds(3);
};

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_CLIENT_SCAN_CLIENT_H_
