#include "tests/benchmarks/pipeline_profile.h"

#include <clamav.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/sha256.h"
#include "host_server/mail/mime_parts.h"
#include "host_server/service/server_config.h"
#include "tests/benchmarks/inprocess_target.h"

namespace vmscan::bench {
namespace {

double MsSince(absl::Time start) { return absl::ToDoubleMilliseconds(absl::Now() - start); }

// libclamav's mail parser turns CRLF into LF and may add a final newline: the form in which its
// extraction and GMime's decoding can be compared.
std::string Normalized(absl::string_view data) {
  std::string out;
  out.reserve(data.size());
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] == '\r' && i + 1 < data.size() && data[i + 1] == '\n') continue;
    out.push_back(data[i]);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// Collects Normalized() hashes of every layer libclamav inspects (its file-inspection callback,
// which sees each object before it is scanned: the message, each part its parser extracts, ...).
cl_error_t OnInspect(int /*fd*/, const char* /*type*/, const char** /*ancestors*/,
                     size_t /*parent_size*/, const char* /*name*/, size_t size, const char* buffer,
                     uint32_t /*level*/, uint32_t /*attributes*/, void* context) {
  if (context != nullptr && buffer != nullptr) {
    static_cast<std::set<std::string>*>(context)->insert(
        Sha256Hex(Normalized(absl::string_view(buffer, size))));
  }
  return CL_CLEAN;
}

// A libclamav engine with ClamavEngine's options and limits plus the file-inspection callback;
// with `keep_temp`, libclamav leaves its temp files (what its parsers extracted) in place.
class ProbeEngine {
 public:
  ~ProbeEngine() {
    if (engine_ != nullptr) cl_engine_free(engine_);
  }
  absl::Status Load(const std::string& signatures_dir, const std::string& temp_dir,
                    bool keep_temp) {
    temp_dir_ = temp_dir;
    std::filesystem::create_directories(temp_dir_);
    engine_ = cl_engine_new();
    cl_engine_set_str(engine_, CL_ENGINE_TMPDIR, temp_dir_.c_str());
    if (keep_temp) cl_engine_set_num(engine_, CL_ENGINE_KEEPTMP, 1);
    const v1::ScanLimits limits = DefaultServerConfig().limits();
    cl_engine_set_num(engine_, CL_ENGINE_MAX_SCANSIZE, limits.max_scan_bytes());
    cl_engine_set_num(engine_, CL_ENGINE_MAX_FILESIZE, limits.max_file_bytes());
    cl_engine_set_num(engine_, CL_ENGINE_MAX_RECURSION, limits.max_recursion());
    cl_engine_set_num(engine_, CL_ENGINE_MAX_FILES, limits.max_files());
    cl_engine_set_num(engine_, CL_ENGINE_MAX_SCANTIME, limits.max_scan_time_ms());
    cl_engine_set_clcb_file_inspection(engine_, &OnInspect);
    unsigned int count = 0;
    if (cl_load(signatures_dir.c_str(), engine_, &count, CL_DB_STDOPT) != CL_SUCCESS ||
        cl_engine_compile(engine_) != CL_SUCCESS) {
      return absl::InternalError("cannot load the signatures for the probe engine");
    }
    return absl::OkStatus();
  }

  // Scans `raw` as ClamavEngine does; `inspected` gets the normalized hash of every layer.
  void Scan(const std::string& raw, std::set<std::string>* inspected) {
    cl_scan_options options{};  // as ClamavEngine's ScanOptions()
    options.general = CL_SCAN_GENERAL_ALLMATCHES | CL_SCAN_GENERAL_HEURISTICS;
    options.parse = ~0u;
    options.heuristic = CL_SCAN_HEURISTIC_ENCRYPTED_ARCHIVE | CL_SCAN_HEURISTIC_ENCRYPTED_DOC |
                        CL_SCAN_HEURISTIC_EXCEEDS_MAX;
    cl_fmap_t* map = cl_fmap_open_memory(raw.data(), raw.size());
    const char* virname = nullptr;
    unsigned long scanned = 0;  // NOLINT(runtime/int): libclamav's type
    cl_scanmap_callback(map, "message", &virname, &scanned, engine_, &options, inspected);
    cl_fmap_close(map);
  }

  // SHA-256 of every file left in the temp dir (keep_temp), which is then emptied.
  std::set<std::string> TakeExtracted() {
    std::set<std::string> hashes;
    std::error_code ec;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(temp_dir_, ec)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      hashes.insert(Sha256Hex(std::string(std::istreambuf_iterator<char>(in), {})));
    }
    for (const auto& entry : std::filesystem::directory_iterator(temp_dir_, ec)) {
      std::filesystem::remove_all(entry.path(), ec);
    }
    return hashes;
  }

 private:
  cl_engine* engine_ = nullptr;
  std::string temp_dir_;
};

struct TypeStats {
  int parts = 0;
  uint64_t bytes = 0;
  double warm_ms = 0;         // the part scan as the pipeline runs it, after the raw scan
  double cold_ms = 0;         // the same bytes on an engine that never saw them
  int same_bytes = 0;         // libclamav's mail parser extracted exactly these bytes
  int seen_normalized = 0;    // libclamav inspected these bytes modulo CRLF and final newlines
  double unseen_warm_ms = 0;  // part scans left if the seen ones were skipped
};

}  // namespace

absl::StatusOr<std::string> ExplainPipeline(const std::string& signatures_dir,
                                            const std::string& work_dir,
                                            const std::vector<Message>& messages,
                                            const std::string& title) {
  absl::StatusOr<std::shared_ptr<const ClamavEngine>> warm =
      LoadBenchEngine(signatures_dir, work_dir + "/warm-tmp");
  if (!warm.ok()) return warm.status();
  absl::StatusOr<std::shared_ptr<const ClamavEngine>> cold =
      LoadBenchEngine(signatures_dir, work_dir + "/cold-tmp");
  if (!cold.ok()) return cold.status();
  ProbeEngine kept;
  if (absl::Status s = kept.Load(signatures_dir, work_dir + "/kept-tmp", true); !s.ok()) return s;
  ProbeEngine probe;
  if (absl::Status s = probe.Load(signatures_dir, work_dir + "/probe-tmp", false); !s.ok()) {
    return s;
  }

  double sha_ms = 0, raw_ms = 0, probe_ms = 0, mime_ms = 0, parts_ms = 0, unseen_ms = 0;
  uint64_t raw_bytes = 0;
  std::map<std::string, TypeStats> types;
  for (const Message& m : messages) {
    raw_bytes += m.data.size();
    absl::Time t = absl::Now();
    (void)Sha256Hex(m.data);
    sha_ms += MsSince(t);
    t = absl::Now();
    (void)(*warm)->Scan(m.data, "message", ScanBounds());
    raw_ms += MsSince(t);
    std::set<std::string> inspected;
    t = absl::Now();
    probe.Scan(m.data, &inspected);
    probe_ms += MsSince(t);
    (void)probe.TakeExtracted();
    t = absl::Now();
    absl::StatusOr<std::vector<MimeLeaf>> leaves = ExtractLeafParts(m.data);
    mime_ms += MsSince(t);
    if (!leaves.ok()) continue;
    kept.Scan(m.data, nullptr);
    const std::set<std::string> extracted = kept.TakeExtracted();
    for (const MimeLeaf& leaf : *leaves) {
      TypeStats& s = types[leaf.content_type];
      ++s.parts;
      s.bytes += leaf.decoded.size();
      t = absl::Now();
      (void)(*warm)->Scan(leaf.decoded, leaf.path, ScanBounds());
      const double warm_part = MsSince(t);
      s.warm_ms += warm_part;
      parts_ms += warm_part;
      t = absl::Now();
      (void)(*cold)->Scan(leaf.decoded, leaf.path, ScanBounds());
      s.cold_ms += MsSince(t);
      if (extracted.count(Sha256Hex(leaf.decoded)) > 0) ++s.same_bytes;
      t = absl::Now();
      const bool seen = inspected.count(Sha256Hex(Normalized(leaf.decoded))) > 0;
      const double compare_ms = MsSince(t);
      if (seen) {
        ++s.seen_normalized;
        unseen_ms += compare_ms;  // a seen part costs its hash
      } else {
        s.unseen_warm_ms += warm_part;
        unseen_ms += warm_part + compare_ms;
      }
    }
  }

  const double now_total = raw_ms + sha_ms + mime_ms + parts_ms;
  const double proposed_total = probe_ms + sha_ms + mime_ms + unseen_ms;
  std::string out = absl::StrFormat(
      "### %s: %d messages, %.1f MB\n\n"
      "| step | now: ms | × raw scan | proposed: ms | × raw scan |\n|---|---:|---:|---:|---:|\n"
      "| raw scan (the ceiling) | %.0f | 1.00 | %.0f (with the inspection callback) | %.3f |\n"
      "| SHA-256 | %.0f | %.3f | %.0f | %.3f |\n"
      "| GMime leaf extraction | %.0f | %.3f | %.0f | %.3f |\n"
      "| part scans | %.0f | %.3f | %.0f (only parts libclamav did not inspect) | %.3f |\n"
      "| pipeline total | %.0f | %.3f | %.0f | %.3f |\n\n",
      title, messages.size(), raw_bytes / 1e6, raw_ms, probe_ms, probe_ms / raw_ms, sha_ms,
      sha_ms / raw_ms, sha_ms, sha_ms / raw_ms, mime_ms, mime_ms / raw_ms, mime_ms,
      mime_ms / raw_ms, parts_ms, parts_ms / raw_ms, unseen_ms, unseen_ms / raw_ms, now_total,
      now_total / raw_ms, proposed_total, proposed_total / raw_ms);
  out +=
      "| part type | parts | MB | part scan ms (after raw) | same bytes cold ms | warm ÷ cold | "
      "byte-identical to libclamav's extraction | inspected by libclamav modulo CRLF | part scan "
      "ms left if those were skipped |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& [type, s] : types) {
    out += absl::StrFormat("| %s | %d | %.2f | %.0f | %.0f | %.2f | %d of %d | %d of %d | %.0f |\n",
                           type, s.parts, s.bytes / 1e6, s.warm_ms, s.cold_ms,
                           s.cold_ms > 0 ? s.warm_ms / s.cold_ms : 0.0, s.same_bytes, s.parts,
                           s.seen_normalized, s.parts, s.unseen_warm_ms);
  }
  return out + "\n";
}

}  // namespace vmscan::bench
