#include "tests/benchmarks/inprocess_target.h"

#include "absl/strings/str_join.h"
#include "host_server/scan/mail_analysis.h"
#include "host_server/service/server_config.h"

namespace vmscan::bench {
namespace {

class CeilingStream : public Stream {
 public:
  explicit CeilingStream(const ClamavEngine* engine) : engine_(engine) {}
  ScanReply Scan(const Message& message) override {
    absl::StatusOr<EngineVerdict> verdict = engine_->Scan(message.data, "message", ScanBounds());
    if (!verdict.ok()) return {Outcome::kError, verdict.status().ToString()};
    if (!verdict->threats.empty()) {
      return {Outcome::kInfected, absl::StrJoin(verdict->threats, ",")};
    }
    if (verdict->unscannable.has_value())
      return {Outcome::kUnscannable, verdict->unscannable_detail};
    return {Outcome::kClean, ""};
  }

 private:
  const ClamavEngine* engine_;
};

class PipelineStream : public Stream {
 public:
  explicit PipelineStream(const ClamavEngine* engine) : engine_(engine) {}
  ScanReply Scan(const Message& message) override {
    absl::StatusOr<MailAnalysis> analysis = AnalyzeMessage(*engine_, message.data, ScanBounds());
    if (!analysis.ok()) return {Outcome::kError, analysis.status().ToString()};
    switch (analysis->verdict) {
      case v1::INFECTED:
        return {Outcome::kInfected, ""};
      case v1::UNSCANNABLE:
        return {Outcome::kUnscannable, analysis->unscannable_detail};
      case v1::CLEAN:
        return {Outcome::kClean, ""};
      default:
        return {Outcome::kError, "no verdict"};
    }
  }

 private:
  const ClamavEngine* engine_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<const ClamavEngine>> LoadBenchEngine(
    const std::string& signatures_dir, const std::string& temp_dir) {
  ClamavEngineOptions options;
  options.signatures_dir = signatures_dir;
  options.temp_dir = temp_dir;
  options.limits = DefaultServerConfig().limits();
  absl::StatusOr<std::unique_ptr<ClamavEngine>> engine = ClamavEngine::Load(options);
  if (!engine.ok()) return engine.status();
  return std::shared_ptr<const ClamavEngine>(std::move(*engine));
}

std::unique_ptr<Stream> CeilingTarget::NewStream(int /*index*/) {
  return std::make_unique<CeilingStream>(engine_.get());
}

std::unique_ptr<Stream> PipelineTarget::NewStream(int /*index*/) {
  return std::make_unique<PipelineStream>(engine_.get());
}

}  // namespace vmscan::bench
