// A synthetic signature database of realistic size and shape, for benchmarking the engine's load
// time, memory and scan cost where the official ClamAV database cannot be downloaded.
//
//   SignatureSetOptions options;  // 1M hash + 100k body signatures
//   options.bundled_dir = SourcePath("deploy/signatures");
//   VMSCAN_ASSIGN_OR_RETURN(SignatureSetInfo info, WriteSignatureSet(dir, options));
//
// Shape, after the official main/daily databases: hash signatures split 60% MD5 file hashes
// (.hdb), 20% SHA-256 (.hsb), 20% PE section hashes (.mdb); body signatures 80% extended
// (.ndb: any file type, PE with wildcards, gaps and alternatives, PE entry point, normalized HTML,
// mail) and 20% logical (.ldb, two or three subsignatures). Hashes and bodies are random, so no
// real content matches them; the bundled test signatures (EICAR, the ClamAV test executable) are
// copied in so that detection still works. Deterministic for a seed.
#ifndef VMSCAN_TESTS_BENCHMARKS_SIGNATURE_SET_H_
#define VMSCAN_TESTS_BENCHMARKS_SIGNATURE_SET_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace vmscan::bench {

struct SignatureSetOptions {
  uint64_t seed = 7;
  int64_t hashes = 1000000;
  int64_t bodies = 100000;
  std::string bundled_dir;  // *.hdb, *.hsb, *.ndb copied as they are; empty: none
};

struct SignatureSetInfo {
  std::string dir;
  int64_t signatures = 0;  // lines written, bundled ones included (libclamav's count)
  int64_t bundled = 0;
  uint64_t bytes = 0;  // total size of the database files
};

// Creates `dir` (it must not exist or be empty) and writes the databases into it.
absl::StatusOr<SignatureSetInfo> WriteSignatureSet(const std::string& dir,
                                                   const SignatureSetOptions& options);

}  // namespace vmscan::bench

#endif  // VMSCAN_TESTS_BENCHMARKS_SIGNATURE_SET_H_
