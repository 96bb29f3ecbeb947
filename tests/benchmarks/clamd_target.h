// ClamdTarget: a private clamd (ClamAV's daemon, the reference peer) started by the benchmark
// from its own config — Foreground, LocalSocket in the work dir, the same signature directory and
// the same limits and parsers as vmscan — and scanned with INSTREAM over its unix socket, one
// connection per message as clamdscan --stream does.
//
//   ClamdOptions options{.work_dir = ..., .signatures_dir = ..., .threads = 2};
//   VMSCAN_ASSIGN_OR_RETURN(std::unique_ptr<ClamdTarget> clamd, ClamdTarget::Start(options));
//
// Differences that cannot be configured away are documented in BENCHMARKS.md (INSTREAM has no
// all-match mode; clamd spools each stream to a temp file before scanning it). NewStream is
// thread-safe.
#ifndef VMSCAN_TESTS_BENCHMARKS_CLAMD_TARGET_H_
#define VMSCAN_TESTS_BENCHMARKS_CLAMD_TARGET_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/benchmarks/process.h"
#include "tests/benchmarks/target.h"

namespace vmscan::bench {

struct ClamdOptions {
  std::string binary = "/usr/sbin/clamd";
  std::string work_dir;  // config, socket and log go below it
  std::string temp_dir;  // TemporaryDirectory; empty: work_dir/tmp
  std::string signatures_dir;
  int threads = 2;               // MaxThreads, = vmscan's workers
  std::vector<std::string> env;  // extra environment, e.g. GLIBC_TUNABLES for experiments
  absl::Duration start_timeout = absl::Minutes(10);
};

class ClamdTarget : public Target {
 public:
  static absl::StatusOr<std::unique_ptr<ClamdTarget>> Start(const ClamdOptions& options);

  std::string name() const override { return "clamd"; }
  std::unique_ptr<Stream> NewStream(int index) override;
  pid_t server_pid() const override { return process_->pid(); }

  double ready_seconds() const { return ready_seconds_; }  // start → answers PING
  ProcessMemory memory_after_load() const { return after_load_; }
  const std::string& log_path() const { return log_path_; }
  void Stop() { process_->Stop(); }

 private:
  ClamdTarget() = default;

  std::unique_ptr<ChildProcess> process_;
  std::string socket_path_;
  std::string log_path_;
  double ready_seconds_ = 0;
  ProcessMemory after_load_;
};

// One INSTREAM exchange on a fresh connection to `socket_path`; the reply without its NUL.
absl::StatusOr<std::string> ClamdCommand(const std::string& socket_path, absl::string_view command,
                                         absl::string_view stream_data, bool instream);

}  // namespace vmscan::bench

#endif  // VMSCAN_TESTS_BENCHMARKS_CLAMD_TARGET_H_
