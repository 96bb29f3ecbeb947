// FakeScanEngine: a ScanEngine for unit tests. It finds what it is told to find, by substring, and
// remembers every call with the bounds it was given, so a test can check what its code under test
// asked of the engine.
//
//   FakeScanEngine engine;
//   engine.AddThreat("BAD", "Fake.Threat");                        // any object holding "BAD"
//   engine.AddUnscannable("LOCKED", v1::ENCRYPTED, "Fake.Encrypted");
//   engine.inspected_exact = {"ok stuff"};  // what the raw scan reports as inspected
//   ... AnalyzeMessage(engine, message, bounds) ...
//   EXPECT_THAT(engine.PartScans(), ElementsAre("1", "2"));
//
// Markers are plain substrings of the bytes scanned: a marker inside base64 is only seen in the
// decoded part, never in the raw message (a raw scan "blind" to encodings, like a weak parser).
//
// Thread-safe once configured: Scan() may run on many threads; configure before the first scan.
#ifndef VMSCAN_HOST_SERVER_ENGINE_FAKE_SCAN_ENGINE_H_
#define VMSCAN_HOST_SERVER_ENGINE_FAKE_SCAN_ENGINE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/sha256.h"
#include "host_server/engine/inspected_content.h"
#include "host_server/engine/scan_bounds.h"
#include "host_server/engine/scan_engine.h"

namespace vmscan {

class FakeScanEngine : public ScanEngine {
 public:
  // One engine call.
  struct Call {
    std::string name;  // "message" for the raw scan, a part path for a part scan
    std::string data;
    ScanBounds bounds;
    bool recording_inspected = false;  // ScanRecordingInspected() rather than Scan()
  };

  void AddThreat(std::string marker, std::string threat) {
    threats_.push_back({std::move(marker), std::move(threat)});
  }
  void AddUnscannable(std::string marker, v1::UnscannableReason reason, std::string detail) {
    unscannable_.push_back({std::move(marker), reason, std::move(detail)});
  }

  absl::StatusOr<EngineVerdict> Scan(absl::string_view data, absl::string_view name,
                                     const ScanBounds& bounds) const override {
    Record(data, name, bounds, /*recording_inspected=*/false);
    return Verdict(data);
  }

  // Reports `inspected_exact` (byte for byte) and `inspected_text` (normalized text) as what the
  // scan inspected, whatever `data` holds.
  absl::StatusOr<EngineVerdict> ScanRecordingInspected(absl::string_view data,
                                                       absl::string_view name,
                                                       const ScanBounds& bounds) const override {
    Record(data, name, bounds, /*recording_inspected=*/true);
    EngineVerdict verdict = Verdict(data);
    for (const std::string& object : inspected_exact) {
      verdict.inspected.exact.insert(Sha256Hex(object));
    }
    for (const std::string& object : inspected_text) {
      verdict.inspected.text.insert(TextFingerprint(object));
    }
    return verdict;
  }

  std::string version() const override { return "fake-1"; }
  uint64_t signature_count() const override { return threats_.size() + unscannable_.size(); }

  std::vector<Call> calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  // The names of the objects scanned with Scan() (for AnalyzeMessage: the part scans), in order.
  std::vector<std::string> PartScans() const {
    std::vector<std::string> names;
    for (const Call& call : calls()) {
      if (!call.recording_inspected) names.push_back(call.name);
    }
    return names;
  }

  std::vector<std::string> inspected_exact;
  std::vector<std::string> inspected_text;

 private:
  struct Threat {
    std::string marker;
    std::string name;
  };
  struct Unscannable {
    std::string marker;
    v1::UnscannableReason reason;
    std::string detail;
  };

  void Record(absl::string_view data, absl::string_view name, const ScanBounds& bounds,
              bool recording_inspected) const {
    absl::MutexLock lock(&mu_);
    calls_.push_back({std::string(name), std::string(data), bounds, recording_inspected});
  }

  EngineVerdict Verdict(absl::string_view data) const {
    EngineVerdict verdict;
    for (const Threat& threat : threats_) {
      if (absl::StrContains(data, threat.marker)) verdict.threats.push_back(threat.name);
    }
    for (const Unscannable& u : unscannable_) {
      if (absl::StrContains(data, u.marker) && !verdict.unscannable) {
        verdict.unscannable = u.reason;
        verdict.unscannable_detail = u.detail;
      }
    }
    return verdict;
  }

  std::vector<Threat> threats_;
  std::vector<Unscannable> unscannable_;
  mutable absl::Mutex mu_;
  mutable std::vector<Call> calls_ ABSL_GUARDED_BY(mu_);
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_ENGINE_FAKE_SCAN_ENGINE_H_
