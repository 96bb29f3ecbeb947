#include "tests/benchmarks/signature_set.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "tests/benchmarks/rng.h"

namespace vmscan::bench {
namespace {

// Hex of random lowercase letters: a body for the normalized-text targets (HTML, mail).
std::string TextHex(Rng& rng, int letters) {
  std::string text;
  for (int i = 0; i < letters; ++i) text.push_back(static_cast<char>('a' + rng.Below(26)));
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : text) {
    hex.push_back(kDigits[c >> 4]);
    hex.push_back(kDigits[c & 15]);
  }
  return hex;
}

std::string NdbLine(Rng& rng, int64_t i) {
  const uint64_t shape = rng.Below(100);
  if (shape < 55) {
    return absl::StrCat("Bench.Body.Any-", i, ":0:*:", rng.Hex(rng.Range(16, 32)));
  }
  if (shape < 70) {
    return absl::StrCat("Win.Trojan.Bench-", i, ":1:*:", rng.Hex(rng.Range(6, 10)), "??",
                        rng.Hex(4), "{4-32}", rng.Hex(6), "(", rng.Hex(1), "|", rng.Hex(1), ")",
                        rng.Hex(4));
  }
  if (shape < 80) {
    return absl::StrCat("Win.Trojan.BenchEP-", i, ":1:EP+0:", rng.Hex(20));
  }
  if (shape < 90) {
    return absl::StrCat("Html.Exploit.Bench-", i,
                        ":3:*:", TextHex(rng, static_cast<int>(rng.Range(20, 40))));
  }
  return absl::StrCat("Email.Phish.Bench-", i,
                      ":4:*:", TextHex(rng, static_cast<int>(rng.Range(20, 40))));
}

std::string LdbLine(Rng& rng, int64_t i) {
  const bool pe = rng.Chance(0.5);
  const int subs = static_cast<int>(rng.Range(2, 3));
  std::string line =
      absl::StrCat(pe ? "Win.Malware.BenchLogic-" : "Doc.Malware.BenchLogic-", i,
                   ";Engine:51-255,Target:", pe ? 1 : 0, ";", subs == 2 ? "0&1" : "0&(1|2)");
  for (int s = 0; s < subs; ++s) absl::StrAppend(&line, ";", rng.Hex(rng.Range(8, 16)));
  return line;
}

}  // namespace

absl::StatusOr<SignatureSetInfo> WriteSignatureSet(const std::string& dir,
                                                   const SignatureSetOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  SignatureSetInfo info;
  info.dir = dir;

  if (!options.bundled_dir.empty()) {
    for (const char* name : {"vmscan.hdb", "vmscan.hsb", "vmscan.ndb"}) {
      const std::filesystem::path from = std::filesystem::path(options.bundled_dir) / name;
      std::ifstream in(from);
      if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", from.string()));
      std::string line;
      std::ofstream out(std::filesystem::path(dir) / name);
      while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        out << line << "\n";
        ++info.bundled;
      }
    }
  }

  Rng rng(options.seed);
  const int64_t md5 = options.hashes * 6 / 10;
  const int64_t sha = options.hashes * 2 / 10;
  const int64_t sections = options.hashes - md5 - sha;
  const int64_t ldb = options.bodies / 5;
  const int64_t ndb = options.bodies - ldb;
  auto write = [&](const char* name, int64_t count, auto line) -> absl::Status {
    if (count <= 0) return absl::OkStatus();
    const std::filesystem::path path = std::filesystem::path(dir) / name;
    std::ofstream out(path);
    for (int64_t i = 0; i < count; ++i) out << line(i) << "\n";
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", path.string()));
    return absl::OkStatus();
  };
  absl::Status status = write("bench.hdb", md5, [&](int64_t i) {
    return absl::StrCat(rng.Hex(16), ":", rng.Range(1000, 5000000), ":Bench.Hash.Md5-", i);
  });
  if (status.ok()) {
    status = write("bench.hsb", sha, [&](int64_t i) {
      return absl::StrCat(rng.Hex(32), ":", rng.Range(1000, 5000000), ":Bench.Hash.Sha256-", i);
    });
  }
  if (status.ok()) {
    status = write("bench.mdb", sections, [&](int64_t i) {
      return absl::StrCat(512 * rng.Range(8, 2048), ":", rng.Hex(16), ":Win.Trojan.BenchSect-", i);
    });
  }
  if (status.ok()) status = write("bench.ndb", ndb, [&](int64_t i) { return NdbLine(rng, i); });
  if (status.ok()) status = write("bench.ldb", ldb, [&](int64_t i) { return LdbLine(rng, i); });
  if (!status.ok()) return status;

  info.signatures = info.bundled + options.hashes + options.bodies;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    info.bytes += entry.file_size(ec);
  }
  return info;
}

}  // namespace vmscan::bench
