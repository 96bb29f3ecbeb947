// Target: one system under test in the benchmark — the in-process libclamav ceiling, vmscan's
// in-process pipeline, vmscan-server over gRPC, or clamd over INSTREAM — seen as a source of
// client streams that each scan one message at a time.
//
//   std::unique_ptr<Stream> stream = target->NewStream(0);
//   ScanReply reply = stream->Scan(message);
//
// A Target is shared by all load threads (NewStream is thread-safe); a Stream is used by one
// thread at a time and stands for one agent, i.e. one connection.
#ifndef VMSCAN_TESTS_BENCHMARKS_TARGET_H_
#define VMSCAN_TESTS_BENCHMARKS_TARGET_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "tests/benchmarks/corpus.h"

namespace vmscan::bench {

enum class Outcome { kClean, kInfected, kUnscannable, kError };

struct ScanReply {
  Outcome outcome = Outcome::kError;
  std::string detail;  // threat names or the error
  // Message bytes sent to the server for this scan (remote systems; a hash-first cache hit: 0).
  uint64_t uploaded_bytes = 0;
};

class Stream {
 public:
  virtual ~Stream() = default;
  virtual ScanReply Scan(const Message& message) = 0;
};

class Target {
 public:
  virtual ~Target() = default;
  virtual std::string name() const = 0;
  virtual std::unique_ptr<Stream> NewStream(int index) = 0;
  // The server process whose CPU and memory a run records; 0 when the scans run in-process.
  virtual pid_t server_pid() const { return 0; }
};

}  // namespace vmscan::bench

#endif  // VMSCAN_TESTS_BENCHMARKS_TARGET_H_
