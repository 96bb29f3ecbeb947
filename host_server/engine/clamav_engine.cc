#include "host_server/engine/clamav_engine.h"

#include <clamav.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/logging.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "host_server/engine/clamav_verdict.h"
#include "host_server/engine/inspected_content.h"
#include "host_server/engine/scan_bounds.h"
#include "host_server/engine/signatures.h"

namespace vmscan {
namespace {

// What one scan collects through libclamav's callbacks. Lives on the scanning thread's stack.
struct ScanState {
  uint64_t max_file_bytes = 0;            // the engine's effective per-file limit
  std::vector<std::string> alerts;        // every alert name, in the order libclamav reported them
  std::string first_error;                // the first error libclamav logged during the scan
  std::string blocked;                    // why OnArchiveMember blocked content, if it did
  InspectedContent* inspected = nullptr;  // where OnFileInspection records, when asked to
  // Per-scan bounds (a VM's policy) and what OnFileInspection counted against them.
  ScanBounds bounds;
  absl::Time started;
  uint64_t layers = 0;
  uint64_t layer_bytes = 0;
  std::string bound_hit;  // which bound stopped the scan; empty if none did
  bool bound_hit_time = false;
};

// Checks one layer against the scan's bounds; true when one is exceeded (recorded in `state`).
bool ExceedsBounds(ScanState& state, size_t file_size, uint32_t recursion_level) {
  const ScanBounds& b = state.bounds;
  if (b.none()) return false;
  if (!state.bound_hit.empty()) return true;
  ++state.layers;
  state.layer_bytes += file_size;
  if (b.max_recursion != 0 && recursion_level > b.max_recursion) {
    state.bound_hit =
        absl::StrCat("nesting depth ", recursion_level, " is over this VM's limit of ",
                     b.max_recursion, " (limits.max_recursion)");
  } else if (b.max_file_bytes != 0 && file_size > b.max_file_bytes) {
    state.bound_hit =
        absl::StrCat("an embedded object of ", file_size, " bytes is over this VM's limit of ",
                     b.max_file_bytes, " (limits.max_file_bytes)");
  } else if (b.max_files != 0 && state.layers > b.max_files) {
    state.bound_hit =
        absl::StrCat("more than ", b.max_files, " embedded objects (this VM's limits.max_files)");
  } else if (b.max_scan_bytes != 0 && state.layer_bytes > b.max_scan_bytes) {
    state.bound_hit = absl::StrCat("more than ", b.max_scan_bytes,
                                   " bytes to scan (this VM's limits.max_scan_bytes)");
  } else if (b.max_scan_time_ms != 0 &&
             absl::Now() - state.started > absl::Milliseconds(b.max_scan_time_ms)) {
    state.bound_hit = absl::StrCat("scan time over this VM's limit of ", b.max_scan_time_ms,
                                   " ms (limits.max_scan_time_ms)");
    state.bound_hit_time = true;
  }
  return !state.bound_hit.empty();
}

// libclamav hands its message callback no scan context for some messages (notably "Can't
// create temporary directory for scan", logged before the scan context exists), so errors are
// tied to the scan running on the same thread through this pointer instead. It only ever
// points at a ScanState on this thread's stack, for the duration of one cl_scanmap_callback.
thread_local ScanState* t_current_scan = nullptr;

// How libclamav names a detection that a file-inspection callback returned.
constexpr absl::string_view kCallbackDetectionPrefix = "Detected.By.Callback";

class CurrentScan {
 public:
  explicit CurrentScan(ScanState* state) : previous_(t_current_scan) { t_current_scan = state; }
  ~CurrentScan() { t_current_scan = previous_; }
  CurrentScan(const CurrentScan&) = delete;
  CurrentScan& operator=(const CurrentScan&) = delete;

 private:
  ScanState* previous_;
};

void OnClamavMessage(enum cl_msg severity, const char* /*fullmsg*/, const char* msg,
                     void* /*context*/) {
  absl::string_view text = absl::StripTrailingAsciiWhitespace(msg != nullptr ? msg : "");
  switch (severity) {
    case CL_MSG_ERROR:
      if (t_current_scan != nullptr && t_current_scan->first_error.empty()) {
        t_current_scan->first_error = std::string(text);
      }
      VMSCAN_LOG(ERROR) << "libclamav: " << text;
      break;
    case CL_MSG_WARN:
      VMSCAN_LOG(WARNING) << "libclamav: " << text;
      break;
    default:
      VMSCAN_LOG(DEBUG) << "libclamav: " << text;
      break;
  }
}

// Called for every alert: with CL_SCAN_GENERAL_ALLMATCHES libclamav keeps scanning after a
// match and reports each one, heuristic alerts included (verified by clamav_engine_test).
void OnVirusFound(int /*fd*/, const char* virname, void* context) {
  if (context == nullptr || virname == nullptr) return;
  static_cast<ScanState*>(context)->alerts.emplace_back(virname);
}

// libclamav's zip reader does not skip a member bigger than max_file_bytes: it silently cuts
// the member's output at the limit, scans the start and reports clean with no "limits exceeded"
// alert (libclamav/unzip.c, unz(): "trimming output size to maxfilesize"), whereas tar, gzip
// and others raise Heuristics.Limits.Exceeded.MaxFileSize. The archive metadata callback sees
// the member's declared size first; blocking it there raises an alert, which also keeps the
// archive out of the clean cache, and ClamavVerdict() turns it into LIMITS_EXCEEDED.
cl_error_t OnArchiveMember(const char* container_type, unsigned long /*container_size*/,
                           const char* filename, unsigned long real_size, int /*is_encrypted*/,
                           unsigned int /*index*/, void* context) {
  auto* state = static_cast<ScanState*>(context);
  if (state == nullptr || state->max_file_bytes == 0 || real_size <= state->max_file_bytes) {
    return CL_CLEAN;
  }
  if (state->blocked.empty()) {
    state->blocked =
        absl::StrCat("vmscan: ", container_type != nullptr ? container_type : "archive",
                     " member '", filename != nullptr ? filename : "?", "' is ", real_size,
                     " bytes, over max_file_bytes ", state->max_file_bytes);
  }
  return CL_VIRUS;
}

// The types libclamav gives text it decoded: its mail parser's text parts are typed by content
// (ASCII, UTF-8, UTF-16, HTML, or mail when they look like a message).
bool IsTextType(absl::string_view type) {
  return absl::StartsWith(type, "CL_TYPE_TEXT_") || absl::StartsWith(type, "CL_TYPE_HTML") ||
         type == "CL_TYPE_MAIL";
}

// Called for every layer libclamav is about to scan, the object itself included, also when the
// layer is then answered from the clean cache; libclamav does not descend into a cached layer,
// so its children are missing from the record, which only costs the caller part scans
// (checked by clamav_engine_test). Layers libclamav rewrote to make matching easier (normalized
// HTML, scripts) are its own derivative, not content anybody else would extract: left out.
cl_error_t OnFileInspection(int /*fd*/, const char* type, const char** /*ancestors*/,
                            size_t /*parent_file_size*/, const char* /*file_name*/,
                            size_t file_size, const char* file_buffer, uint32_t recursion_level,
                            uint32_t layer_attributes, void* context) {
  auto* state = static_cast<ScanState*>(context);
  // Over a bound: stop with a detection, the one way that keeps this layer (and its parents)
  // out of libclamav's clean cache; ScanImpl turns it into UNSCANNABLE.
  if (state != nullptr && ExceedsBounds(*state, file_size, recursion_level)) return CL_VIRUS;
  if (state == nullptr || state->inspected == nullptr || file_buffer == nullptr) return CL_CLEAN;
  if ((layer_attributes & LAYER_ATTRIBUTES_NORMALIZED) != 0) return CL_CLEAN;
  const absl::string_view bytes(file_buffer, file_size);
  state->inspected->exact.insert(Sha256Hex(bytes));
  // The object itself (level 0) is the whole message with its headers: no decoded text part
  // can equal it, so its text fingerprint (a normalized copy, hashed) would never be used.
  if (recursion_level > 0 && type != nullptr && IsTextType(type)) {
    state->inspected->text.insert(TextFingerprint(bytes));
  }
  return CL_CLEAN;
}

absl::Status InitClamavOnce() {
  static absl::once_flag once;
  static cl_error_t init_result = CL_SUCCESS;
  absl::call_once(once, [] {
    cl_set_clcb_msg(&OnClamavMessage);  // first, so that cl_init's own messages are routed
    init_result = cl_init(CL_INIT_DEFAULT);
  });
  if (init_result != CL_SUCCESS) {
    return absl::InternalError(absl::StrCat("cl_init failed: ", cl_strerror(init_result)));
  }
  return absl::OkStatus();
}

// The same options for every scan: libclamav's clean cache is keyed by content only, so a
// "clean" cached under weaker options would be wrongly reused by a stronger scan. Any change
// here must also change kScanOptionsTag, which goes into the engine version.
constexpr absl::string_view kScanOptionsTag = "options v1";

cl_scan_options ScanOptions() {
  cl_scan_options options{};
  options.general = CL_SCAN_GENERAL_ALLMATCHES | CL_SCAN_GENERAL_HEURISTICS;
  options.parse = ~0u;  // every parser: archives, mail, documents, executables, ...
  options.heuristic = CL_SCAN_HEURISTIC_ENCRYPTED_ARCHIVE | CL_SCAN_HEURISTIC_ENCRYPTED_DOC |
                      CL_SCAN_HEURISTIC_EXCEEDS_MAX;
  options.mail = 0;
  options.dev = 0;
  return options;
}

std::string ErrnoText(int error) {
  return std::error_code(error, std::generic_category()).message();
}

// Makes `dir` usable as libclamav's private temp directory and returns its absolute path (the
// server may change its working directory later).
absl::StatusOr<std::string> PrepareTempDir(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("engine temp_dir is empty");
  std::error_code ec;
  std::filesystem::path path = std::filesystem::absolute(dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("engine temp dir '", dir, "': ", ec.message()));
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      return absl::FailedPreconditionError(
          absl::StrCat("engine temp dir '", path.string(), "': ", ErrnoText(errno)));
    }
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
    if (ec || (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot create engine temp dir '", path.string(),
                       "': ", ec ? ec.message() : ErrnoText(errno)));
    }
    if (::stat(path.c_str(), &st) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("engine temp dir '", path.string(), "': ", ErrnoText(errno)));
    }
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("engine temp dir '", path.string(), "' is not a directory"));
  }
  if (::access(path.c_str(), W_OK | X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("engine temp dir '", path.string(), "' is not writable: ", ErrnoText(errno)));
  }
  return path.string();
}

// Everything besides the database files that decides what a scan reports: a verdict cached
// under one version must be what the same bytes would get again.
std::string EngineIdentity(const v1::ScanLimits& limits) {
  return absl::StrCat("libclamav ", cl_retver(), "; limits ", limits.max_scan_bytes(), " ",
                      limits.max_file_bytes(), " ", limits.max_recursion(), " ", limits.max_files(),
                      " ", limits.max_scan_time_ms(), "; ", kScanOptionsTag);
}

absl::Status SetLimit(cl_engine* engine, cl_engine_field field, const char* what, uint64_t value) {
  if (value == 0) return absl::OkStatus();  // keep libclamav's default
  if (value > static_cast<uint64_t>(LLONG_MAX)) {
    return absl::InvalidArgumentError(absl::StrCat("scan limit ", what, " is too large: ", value));
  }
  cl_error_t rc = cl_engine_set_num(engine, field, static_cast<long long>(value));
  if (rc != CL_SUCCESS) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot set scan limit ", what, " to ", value, ": ", cl_strerror(rc)));
  }
  return absl::OkStatus();
}

absl::Status ApplyLimits(cl_engine* engine, const v1::ScanLimits& limits) {
  VMSCAN_RETURN_IF_ERROR(
      SetLimit(engine, CL_ENGINE_MAX_SCANSIZE, "max_scan_bytes", limits.max_scan_bytes()));
  VMSCAN_RETURN_IF_ERROR(
      SetLimit(engine, CL_ENGINE_MAX_FILESIZE, "max_file_bytes", limits.max_file_bytes()));
  VMSCAN_RETURN_IF_ERROR(
      SetLimit(engine, CL_ENGINE_MAX_RECURSION, "max_recursion", limits.max_recursion()));
  VMSCAN_RETURN_IF_ERROR(SetLimit(engine, CL_ENGINE_MAX_FILES, "max_files", limits.max_files()));
  VMSCAN_RETURN_IF_ERROR(
      SetLimit(engine, CL_ENGINE_MAX_SCANTIME, "max_scan_time_ms", limits.max_scan_time_ms()));
  return absl::OkStatus();
}

struct FmapCloser {
  void operator()(cl_fmap_t* map) const { cl_fmap_close(map); }
};

}  // namespace

void ClamavEngine::EngineDeleter::operator()(cl_engine* engine) const { cl_engine_free(engine); }

ClamavEngine::ClamavEngine(std::unique_ptr<cl_engine, EngineDeleter> engine,
                           uint64_t signature_count, uint64_t max_file_bytes, std::string version)
    : engine_(std::move(engine)),
      signature_count_(signature_count),
      max_file_bytes_(max_file_bytes),
      version_(std::move(version)) {}

ClamavEngine::~ClamavEngine() = default;

absl::StatusOr<std::unique_ptr<ClamavEngine>> ClamavEngine::Load(
    const ClamavEngineOptions& options) {
  const absl::Time start = absl::Now();
  VMSCAN_RETURN_IF_ERROR(InitClamavOnce());

  const std::string& dir = options.signatures_dir;
  if (dir.empty()) return absl::InvalidArgumentError("signature directory is not set");
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return absl::NotFoundError(absl::StrCat("signature dir '", dir, "' does not exist"));
    }
    return absl::FailedPreconditionError(
        absl::StrCat("signature dir '", dir, "': ", ErrnoText(errno)));
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("signature dir '", dir, "' is not a directory"));
  }
  VMSCAN_ASSIGN_OR_RETURN(std::string temp_dir, PrepareTempDir(options.temp_dir));
  VMSCAN_ASSIGN_OR_RETURN(std::string files, DatabaseFilesFingerprint(dir));

  std::unique_ptr<cl_engine, EngineDeleter> engine(cl_engine_new());
  if (engine == nullptr) return absl::ResourceExhaustedError("cl_engine_new failed");
  cl_error_t rc = cl_engine_set_str(engine.get(), CL_ENGINE_TMPDIR, temp_dir.c_str());
  if (rc != CL_SUCCESS) {
    return absl::InternalError(
        absl::StrCat("cannot set engine temp dir '", temp_dir, "': ", cl_strerror(rc)));
  }
  VMSCAN_RETURN_IF_ERROR(ApplyLimits(engine.get(), options.limits));
  cl_engine_set_clcb_virus_found(engine.get(), &OnVirusFound);
  cl_engine_set_clcb_meta(engine.get(), &OnArchiveMember);
  cl_engine_set_clcb_file_inspection(engine.get(), &OnFileInspection);
  int error = CL_SUCCESS;
  long long max_file_bytes = cl_engine_get_num(engine.get(), CL_ENGINE_MAX_FILESIZE, &error);
  if (error != CL_SUCCESS || max_file_bytes < 0) {
    return absl::InternalError(absl::StrCat("cannot read the engine's max file size: ",
                                            cl_strerror(static_cast<cl_error_t>(error))));
  }

  unsigned int signatures = 0;
  rc = cl_load(dir.c_str(), engine.get(), &signatures, CL_DB_STDOPT);
  if (rc != CL_SUCCESS) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot load signatures from '", dir, "': ", cl_strerror(rc)));
  }
  if (signatures == 0) {
    // A directory of ignore lists only: an engine that finds nothing is never wanted.
    return absl::FailedPreconditionError(
        absl::StrCat("signature dir '", dir, "' holds no signatures"));
  }
  rc = cl_engine_compile(engine.get());
  if (rc != CL_SUCCESS) {
    return absl::InternalError(
        absl::StrCat("cannot compile signatures from '", dir, "': ", cl_strerror(rc)));
  }

  VMSCAN_ASSIGN_OR_RETURN(std::string files_after, DatabaseFilesFingerprint(dir));
  if (files_after != files) {
    return absl::UnavailableError(
        absl::StrCat("signature dir '", dir, "' changed while it was being loaded; retry"));
  }
  std::string fingerprint =
      Sha256Hex(absl::StrCat(files, "\n", EngineIdentity(options.limits))).substr(0, 12);
  std::string version = absl::StrCat(signatures, "-", fingerprint);
  long long db_version = cl_engine_get_num(engine.get(), CL_ENGINE_DB_VERSION, &error);
  if (error == CL_SUCCESS && db_version > 0) absl::StrAppend(&version, "-v", db_version);

  VMSCAN_LOG(DEBUG) << "loaded " << signatures << " signatures from " << dir << " (version "
                    << version << ") in " << absl::ToDoubleMilliseconds(absl::Now() - start)
                    << " ms; temp dir " << temp_dir;
  return std::unique_ptr<ClamavEngine>(new ClamavEngine(
      std::move(engine), signatures, static_cast<uint64_t>(max_file_bytes), std::move(version)));
}

absl::StatusOr<EngineVerdict> ClamavEngine::Scan(absl::string_view data, absl::string_view name,
                                                 const ScanBounds& bounds) const {
  return ScanImpl(data, name, bounds, /*record_inspected=*/false);
}

absl::StatusOr<EngineVerdict> ClamavEngine::ScanRecordingInspected(absl::string_view data,
                                                                   absl::string_view name,
                                                                   const ScanBounds& bounds) const {
  return ScanImpl(data, name, bounds, /*record_inspected=*/true);
}

absl::StatusOr<EngineVerdict> ClamavEngine::ScanImpl(absl::string_view data, absl::string_view name,
                                                     const ScanBounds& bounds,
                                                     bool record_inspected) const {
  // libclamav cannot map zero bytes, and there is nothing in them to find.
  if (data.empty()) return EngineVerdict{};

  std::unique_ptr<cl_fmap_t, FmapCloser> map(cl_fmap_open_memory(data.data(), data.size()));
  if (map == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot map ", data.size(), " bytes of '", name, "' for scanning"));
  }
  const std::string filename(name);
  cl_scan_options options = ScanOptions();
  ScanState state;
  state.max_file_bytes = max_file_bytes_;
  state.bounds = bounds;  // OnFileInspection gets `state` as its context
  state.started = absl::Now();
  InspectedContent inspected;
  if (record_inspected) state.inspected = &inspected;
  const char* virname = nullptr;
  unsigned long scanned = 0;  // NOLINT(runtime/int): libclamav's type
  cl_error_t rc;
  {
    CurrentScan current(&state);
    rc = cl_scanmap_callback(map.get(), filename.c_str(), &virname, &scanned, engine_.get(),
                             &options, &state);
  }
  // The callback reports every alert; the out-parameter (the last alert) is a safety net.
  if (rc == CL_VIRUS && virname != nullptr &&
      std::find(state.alerts.begin(), state.alerts.end(), virname) == state.alerts.end()) {
    state.alerts.emplace_back(virname);
  }
  if (!state.bound_hit.empty()) {
    // The callback's detection is ours, not a threat: keep only the real alerts, if any.
    state.alerts.erase(std::remove_if(state.alerts.begin(), state.alerts.end(),
                                      [](const std::string& a) {
                                        return absl::StartsWith(a, kCallbackDetectionPrefix);
                                      }),
                       state.alerts.end());
    if (state.alerts.empty()) rc = CL_CLEAN;
  }
  EngineVerdict verdict = ClamavVerdict(rc, state.alerts, state.first_error, state.blocked);
  if (!state.bound_hit.empty() && !verdict.unscannable) {
    verdict.unscannable = state.bound_hit_time ? v1::TIMEOUT : v1::LIMITS_EXCEEDED;
    verdict.unscannable_detail = state.bound_hit;
  }
  verdict.inspected = std::move(inspected);
  VMSCAN_LOG(DEBUG) << "scanned '" << name << "' (" << data.size() << " bytes): " << cl_strerror(rc)
                    << ", threats [" << absl::StrJoin(verdict.threats, ", ") << "]"
                    << (verdict.unscannable
                            ? absl::StrCat(", unscannable: ", verdict.unscannable_detail)
                            : std::string())
                    << (record_inspected
                            ? absl::StrCat(", inspected ", verdict.inspected.exact.size(),
                                           " objects (", verdict.inspected.text.size(), " text)")
                            : std::string());
  return verdict;
}

}  // namespace vmscan
