#include "host_server/engine/signatures.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace vmscan {
namespace {

// Extensions of files that carry detections, from ClamAV's signature format documentation.
constexpr absl::string_view kSignatureExtensions[] = {
    ".cvd", ".cld", ".cud",                                   // signed containers
    ".hdb", ".hsb", ".hdu", ".hsu",                           // file hashes
    ".mdb", ".msb", ".mdu", ".msu", ".imp",                   // PE section / import hashes
    ".ndb", ".ndu", ".ldb", ".ldu", ".idb",  ".cdb", ".cbc",  // body, logical, icon, ...
    ".pdb", ".gdb", ".wdb", ".yar", ".yara", ".db"};          // phishing, YARA, legacy

// The files whose presence marks an official database as freshclam maintains it.
constexpr absl::string_view kOfficialDatabases[] = {"main.cvd", "main.cld", "daily.cvd",
                                                    "daily.cld"};

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool IsRegularFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool HoldsOfficialDatabase(const std::string& dir) {
  for (absl::string_view name : kOfficialDatabases) {
    if (IsRegularFile(absl::StrCat(dir, "/", name))) return true;
  }
  return false;
}

// Checks a directory that was named explicitly (configured or bundled).
absl::Status CheckUsable(const std::string& dir, absl::string_view what) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return absl::NotFoundError(absl::StrCat(what, " signature dir '", dir, "' does not exist"));
    }
    return absl::FailedPreconditionError(
        absl::StrCat(what, " signature dir '", dir,
                     "': ", std::error_code(errno, std::generic_category()).message()));
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " signature dir '", dir, "' is not a directory"));
  }
  if (!HoldsSignatureFiles(dir)) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " signature dir '", dir, "' holds no signature database files"));
  }
  return absl::OkStatus();
}

}  // namespace

bool HoldsSignatureFiles(absl::string_view dir) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(std::string(dir), ec), end; !ec && it != end;
       it.increment(ec)) {
    std::string extension = absl::AsciiStrToLower(it->path().extension().string());
    for (absl::string_view known : kSignatureExtensions) {
      if (extension == known && IsRegularFile(it->path().string())) return true;
    }
  }
  return false;
}

absl::StatusOr<SignatureSource> ChooseSignatures(absl::string_view configured_dir,
                                                 absl::string_view official_dir,
                                                 absl::string_view bundled_dir) {
  if (!configured_dir.empty()) {
    std::string dir(configured_dir);
    if (absl::Status status = CheckUsable(dir, "configured"); !status.ok()) return status;
    return SignatureSource{std::move(dir), "configured"};
  }
  if (!official_dir.empty()) {
    std::string dir(official_dir);
    if (IsDirectory(dir) && HoldsOfficialDatabase(dir)) {
      return SignatureSource{std::move(dir), "official"};
    }
  }
  std::string dir(bundled_dir);
  if (dir.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("no signatures: no configured dir, no official database in '", official_dir,
                     "' and no bundled set"));
  }
  if (absl::Status status = CheckUsable(dir, "bundled"); !status.ok()) {
    return absl::Status(
        status.code(),
        absl::StrCat(status.message(), " (and no official database in '", official_dir, "')"));
  }
  return SignatureSource{std::move(dir), "bundled"};
}

std::string DefaultBundledSignaturesDir() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("VMSCAN_SIGNATURES_DIR"); env != nullptr && *env != '\0') {
    candidates.emplace_back(env);
  }
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    candidates.push_back(
        (exe.parent_path() / ".." / "share" / "vmscan" / "signatures").lexically_normal().string());
  }
  candidates.emplace_back(VMSCAN_SOURCE_DIR "/deploy/signatures");
  for (const std::string& candidate : candidates) {
    if (IsDirectory(candidate)) return candidate;
  }
  return candidates.back();
}

absl::StatusOr<std::string> DatabaseFilesFingerprint(absl::string_view dir_view) {
  const std::string dir(dir_view);
  std::error_code ec;
  std::vector<std::string> entries;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    struct stat st;
    if (::stat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    entries.push_back(absl::StrCat(it->path().filename().string(), "\t", st.st_size, "\t",
                                   st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec));
  }
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot list signature dir '", dir, "': ", ec.message()));
  }
  std::sort(entries.begin(), entries.end());
  return absl::StrJoin(entries, "\n");
}

}  // namespace vmscan
