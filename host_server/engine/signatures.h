// Which signature directory the server loads, and where the bundled set lives.
//
//   VMSCAN_ASSIGN_OR_RETURN(SignatureSource source,
//                           ChooseSignatures(config.signatures_dir(), "/var/lib/clamav",
//                                            DefaultBundledSignaturesDir()));
//   VMSCAN_LOG(INFO) << "using " << source.kind << " signatures from " << source.dir;
//
// Order: a configured directory always wins (and must be usable: a typo must not silently fall
// back to a weaker set); then the official ClamAV database kept up to date by freshclam; then
// the small set shipped with vmscan (test signatures only: EICAR, the ClamAV test files and
// vmscan's own markers), so that a machine without freshclam still starts and can be tested.
//
// Thread-safe (no state); reads the filesystem and, for the default, the environment.
#ifndef VMSCAN_HOST_SERVER_ENGINE_SIGNATURES_H_
#define VMSCAN_HOST_SERVER_ENGINE_SIGNATURES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vmscan {

struct SignatureSource {
  std::string dir;
  std::string kind;  // "configured", "official" or "bundled"
};

// configured_dir (when non-empty) must exist and hold signature database files, else an error
// (kNotFound / kFailedPrecondition) naming it. official_dir is chosen when it holds main or
// daily (.cvd or .cld). Otherwise bundled_dir, which must hold signature files.
absl::StatusOr<SignatureSource> ChooseSignatures(absl::string_view configured_dir,
                                                 absl::string_view official_dir,
                                                 absl::string_view bundled_dir);

// The first existing directory of: $VMSCAN_SIGNATURES_DIR; <dir of the running binary>/../share/
// vmscan/signatures (an installed copy); <source tree>/deploy/signatures (running from a build
// tree). When none exists, the last one, so that the error that follows names a real candidate.
std::string DefaultBundledSignaturesDir();

// True when `dir` holds at least one file that libclamav loads as signatures (by extension;
// ignore lists and configuration files such as .ign2 or .ftm do not count).
bool HoldsSignatureFiles(absl::string_view dir);

// The names, sizes and modification times of the regular files in `dir`, one line each, sorted:
// it changes whenever freshclam or an administrator replaces, adds or removes a database file.
// The engine version is made from it, and the reload watcher compares it (docs/design.md §6).
absl::StatusOr<std::string> DatabaseFilesFingerprint(absl::string_view dir);

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_ENGINE_SIGNATURES_H_
