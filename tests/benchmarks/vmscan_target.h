// VmscanTarget: the real vmscan-server binary, started by the benchmark on a free loopback port
// with its own state directory, and scanned over gRPC by one channel (one TCP connection, like
// one agent) per stream.
//
//   VmscanServerOptions options{.binary = ..., .work_dir = ..., .signatures_dir = ...};
//   VMSCAN_ASSIGN_OR_RETURN(std::unique_ptr<VmscanTarget> vmscan, VmscanTarget::Start(options));
//   std::unique_ptr<Stream> agent = vmscan->NewStream(0);
//
// The streams speak the protocol exactly as guest_agent/client/scan_client.cc does (the
// hash-first probe; then, if the SVM asks, 256 KiB chunks, WritesDone; the result, then cleaned
// chunks); they use a channel of their own because ScanClient's channels would share one
// connection inside a single process (gRPC's global subchannel pool), whereas real agents each
// have their own. NewStream is thread-safe.
#ifndef VMSCAN_TESTS_BENCHMARKS_VMSCAN_TARGET_H_
#define VMSCAN_TESTS_BENCHMARKS_VMSCAN_TARGET_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/benchmarks/process.h"
#include "tests/benchmarks/target.h"

namespace vmscan::bench {

struct VmscanServerOptions {
  std::string binary;    // vmscan-server
  std::string work_dir;  // state dir, port file and log go below it
  std::string signatures_dir;
  int workers = 2;
  int queue_depth = 64;
  std::vector<std::string> extra_sets;  // more --set KEY=VALUE
  std::vector<std::string> env;         // extra environment, e.g. GLIBC_TUNABLES for experiments
  // Streams speak hash-first (ScanProtocol PROBE_FIRST) as agents do by default (hash_first);
  // false: the whole message every time, as agents from before.
  bool probe_first = true;
  // Mutual TLS, as deployments run it: a PKI made by `vmscanctl pki` (init, issue-vm) in this
  // directory; stream i then speaks as VM bench-vm-<i % tls_vms> with that VM's certificate.
  std::string tls_dir;
  int tls_vms = 0;
  absl::Duration start_timeout = absl::Minutes(10);
};

class VmscanTarget : public Target {
 public:
  static absl::StatusOr<std::unique_ptr<VmscanTarget>> Start(const VmscanServerOptions& options);

  std::string name() const override { return tls_dir_.empty() ? "vmscan" : "vmscan-mtls"; }
  std::unique_ptr<Stream> NewStream(int index) override;
  pid_t server_pid() const override { return process_->pid(); }

  const std::string& address() const { return address_; }
  double ready_seconds() const { return ready_seconds_; }    // start → port file written
  double engine_load_ms() const { return engine_load_ms_; }  // from the server's log, -1 if absent
  int64_t signatures() const { return signatures_; }
  ProcessMemory memory_after_load() const { return after_load_; }
  const std::string& log_path() const { return log_path_; }
  void Stop() { process_->Stop(); }

 private:
  VmscanTarget() = default;

  std::unique_ptr<ChildProcess> process_;
  std::string address_;
  std::string log_path_;
  std::string tls_dir_;
  int tls_vms_ = 0;
  bool probe_first_ = true;
  double ready_seconds_ = 0;
  double engine_load_ms_ = -1;
  int64_t signatures_ = 0;
  ProcessMemory after_load_;
};

}  // namespace vmscan::bench

#endif  // VMSCAN_TESTS_BENCHMARKS_VMSCAN_TARGET_H_
