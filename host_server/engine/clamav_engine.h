// ClamavEngine: the production ScanEngine, one compiled libclamav engine over one signature
// directory.
//
//   ClamavEngineOptions options;
//   options.signatures_dir = "/var/lib/clamav";
//   options.temp_dir = "/var/lib/vmscan/engine-tmp";
//   VMSCAN_ASSIGN_OR_RETURN(std::unique_ptr<ClamavEngine> engine, ClamavEngine::Load(options));
//   VMSCAN_ASSIGN_OR_RETURN(EngineVerdict verdict, engine->Scan(message, "message", bounds));
//
// Every scan uses the same options (all-match, heuristics, every parser, alerts for encrypted
// content and exceeded limits). Keeping them constant is what makes libclamav's clean-object
// cache safe to keep on: a part whose bytes were already scanned inside the raw message costs
// only a hash when it is scanned again on its own. libclamav never caches an object whose scan
// hit a limit or raised any alert, so a cached "clean" never hides skipped content.
//
// Per-scan bounds (scan_bounds.h) are checked on every layer libclamav opens, in its
// file-inspection callback, which gets them through the scan's callback context.
//
// Content that could not be scanned completely is reported as unscannable, never as clean:
// libclamav's own "Heuristics.*" alerts for limits and encryption, zip members over
// max_file_bytes (which libclamav alone would cut short and call clean), and errors libclamav
// logs during a scan (it returns "clean" when it cannot even create its temp directory).
//
// Ownership and thread-safety: the object owns its cl_engine and is immutable after Load();
// Scan() may run on any number of threads at once (per-scan state lives on the caller's
// stack). A signature reload builds a new ClamavEngine and swaps the shared_ptr.
#ifndef VMSCAN_HOST_SERVER_ENGINE_CLAMAV_ENGINE_H_
#define VMSCAN_HOST_SERVER_ENGINE_CLAMAV_ENGINE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "host_server/engine/scan_engine.h"
#include "vmscan/v1/config.pb.h"

struct cl_engine;

namespace vmscan {

struct ClamavEngineOptions {
  // Directory of signature databases (.cvd/.cld, .hdb, .ndb, ...); see ChooseSignatures().
  std::string signatures_dir;
  // Private directory for libclamav's per-scan temp files (decoded mail parts, unpacked
  // archives). Created with mode 0700 when missing. Must not be shared with other programs.
  std::string temp_dir;
  // Engine limits; a zero field keeps libclamav's own default. max_message_bytes is ignored
  // (the service enforces it before anything reaches the engine).
  v1::ScanLimits limits;
};

class ClamavEngine : public ScanEngine {
 public:
  // Loads and compiles the signatures. Errors name the directory and libclamav's reason:
  // kNotFound (no such directory), kFailedPrecondition (no usable databases, bad temp dir),
  // kUnavailable (the directory changed while loading: retry), kInternal (libclamav failed).
  static absl::StatusOr<std::unique_ptr<ClamavEngine>> Load(const ClamavEngineOptions& options);

  ~ClamavEngine() override;
  ClamavEngine(const ClamavEngine&) = delete;
  ClamavEngine& operator=(const ClamavEngine&) = delete;

  absl::StatusOr<EngineVerdict> Scan(absl::string_view data, absl::string_view name,
                                     const ScanBounds& bounds) const override;
  // Records every layer libclamav inspects (through its file-inspection callback), exact and,
  // for layers it typed as text, in the normalized text form; see inspected_content.h.
  absl::StatusOr<EngineVerdict> ScanRecordingInspected(absl::string_view data,
                                                       absl::string_view name,
                                                       const ScanBounds& bounds) const override;

  // "<signature count>-<12 hex digits of SHA-256 over the database files' names, sizes and
  // mtimes, libclamav's version and the limits>", then "-v<n>" when the set carries an official
  // database version n. Anything that could change a verdict changes it.
  std::string version() const override { return version_; }
  uint64_t signature_count() const override { return signature_count_; }

 private:
  struct EngineDeleter {
    void operator()(cl_engine* engine) const;
  };

  absl::StatusOr<EngineVerdict> ScanImpl(absl::string_view data, absl::string_view name,
                                         const ScanBounds& bounds, bool record_inspected) const;

  ClamavEngine(std::unique_ptr<cl_engine, EngineDeleter> engine, uint64_t signature_count,
               uint64_t max_file_bytes, std::string version);

  std::unique_ptr<cl_engine, EngineDeleter> engine_;
  uint64_t signature_count_;
  uint64_t max_file_bytes_;  // effective CL_ENGINE_MAX_FILESIZE (libclamav's default if unset)
  std::string version_;
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_ENGINE_CLAMAV_ENGINE_H_
