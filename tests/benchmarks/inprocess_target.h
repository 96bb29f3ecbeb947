// The in-process targets, sharing one compiled engine loaded by the benchmark itself:
//
// - CeilingTarget: libclamav on the raw message alone — ClamavEngine::Scan, i.e.
//   cl_scanmap_callback with exactly the options, limits and callbacks vmscan-server uses (mail
//   parsing on). Whatever a service adds on top (part scans, transport) is measured against it.
// - PipelineTarget: vmscan's AnalyzeMessage in-process (raw scan + GMime + a scan of every
//   decoded part): the service without gRPC, to tell the pipeline's cost from the transport's.
//
//   VMSCAN_ASSIGN_OR_RETURN(std::shared_ptr<const ClamavEngine> engine,
//                           LoadBenchEngine(signatures_dir, temp_dir));
//   CeilingTarget ceiling(engine);
#ifndef VMSCAN_TESTS_BENCHMARKS_INPROCESS_TARGET_H_
#define VMSCAN_TESTS_BENCHMARKS_INPROCESS_TARGET_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "host_server/engine/clamav_engine.h"
#include "tests/benchmarks/target.h"

namespace vmscan::bench {

// ClamavEngine::Load with vmscan-server's default limits (DefaultServerConfig()).
absl::StatusOr<std::shared_ptr<const ClamavEngine>> LoadBenchEngine(
    const std::string& signatures_dir, const std::string& temp_dir);

class CeilingTarget : public Target {
 public:
  explicit CeilingTarget(std::shared_ptr<const ClamavEngine> engine) : engine_(std::move(engine)) {}
  std::string name() const override { return "ceiling"; }
  std::unique_ptr<Stream> NewStream(int index) override;

 private:
  std::shared_ptr<const ClamavEngine> engine_;
};

class PipelineTarget : public Target {
 public:
  explicit PipelineTarget(std::shared_ptr<const ClamavEngine> engine)
      : engine_(std::move(engine)) {}
  std::string name() const override { return "pipeline"; }
  std::unique_ptr<Stream> NewStream(int index) override;

 private:
  std::shared_ptr<const ClamavEngine> engine_;
};

}  // namespace vmscan::bench

#endif  // VMSCAN_TESTS_BENCHMARKS_INPROCESS_TARGET_H_
