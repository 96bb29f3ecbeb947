// ExplainPipeline: where vmscan's verdict pipeline spends its time beyond the raw scan, message
// by message and part by part (docs/design.md §3.3: a part libclamav already met inside the raw
// message should cost no more than a hash). For each message of a corpus it times the SHA-256, the
// raw scan, GMime's leaf extraction and each part's scan on the same warm engine, scans each part
// again on a cold engine (no cache entry) for comparison, and checks whether libclamav's own
// mail parser extracted byte-identical content (its temp files kept): only then can libclamav's
// clean cache, keyed by content hash, answer the part scan.
//
//   std::cout << ExplainPipeline(signatures_dir, work_dir, messages);
#ifndef VMSCAN_TESTS_BENCHMARKS_PIPELINE_PROFILE_H_
#define VMSCAN_TESTS_BENCHMARKS_PIPELINE_PROFILE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/benchmarks/corpus.h"

namespace vmscan::bench {

// A Markdown report titled `title`. "Proposed" is the pipeline with the part scans of content
// libclamav already inspected during the raw scan skipped: libclamav's file-inspection callback
// hashes every layer (CRLF and final newlines normalized away) and a leaf with a known hash
// costs only its hash. Timed in-process, one message at a time.
absl::StatusOr<std::string> ExplainPipeline(const std::string& signatures_dir,
                                            const std::string& work_dir,
                                            const std::vector<Message>& messages,
                                            const std::string& title);

}  // namespace vmscan::bench

#endif  // VMSCAN_TESTS_BENCHMARKS_PIPELINE_PROFILE_H_
