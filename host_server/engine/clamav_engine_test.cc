// ClamavEngine against the real libclamav and the bundled signature set (deploy/signatures).
// Needs the Debian packages clamav-testfiles, libpython3.11-testsuite and zip
// (scripts/install-deps.sh); a missing one fails the test that needs it, loudly.
#include "host_server/engine/clamav_engine.h"

#include <clamav.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "common/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/test_mail.h"

namespace vmscan {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::Optional;
using ::testing::UnorderedElementsAre;

// libclamav appends ".UNOFFICIAL" to every name from a database that is not a signed CVD.
constexpr char kEicarName[] = "Eicar-Test-Signature.UNOFFICIAL";
constexpr char kClamExeName[] = "Vmscan.Test.ClamExe.UNOFFICIAL";
constexpr char kMarkerName[] = "Vmscan.Test.Marker.UNOFFICIAL";
constexpr char kHashOnlyName[] = "Vmscan.Test.HashOnly.UNOFFICIAL";

constexpr char kEicar[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
constexpr char kMarker[] = "VMSCAN-TEST-THREAT-7f3a9c";
constexpr char kHashOnlyObject[] = "vmscan hash-only test object v1\n";

constexpr char kTestFilesDir[] = "/usr/share/clamav-testfiles";

std::string BundledDir() { return VMSCAN_SOURCE_DIR "/deploy/signatures"; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void WriteFile(const std::string& path, absl::string_view content) {
  std::ofstream out(path, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::string RandomBytes(size_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(rng() & 0xff);
  return bytes;
}

std::string TestDirPath() {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return absl::StrCat(::testing::TempDir(), "/engine_test_", info->name(), "_", ::getpid());
}

// A fresh, empty directory for the running test; removed when the test ends.
std::string NewTestDir() {
  std::string dir = TestDirPath();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir, ec);
  EXPECT_FALSE(ec) << dir << ": " << ec.message();
  return dir;
}

// Runs `zip` in `dir` and returns the archive's bytes. `flags` e.g. "-P secret" or "-0".
std::string Zip(const std::string& dir, const std::string& flags,
                const std::vector<std::pair<std::string, std::string>>& files) {
  std::vector<std::string> names;
  for (const auto& [name, content] : files) {
    WriteFile(absl::StrCat(dir, "/", name), content);
    names.push_back(absl::StrCat("'", name, "'"));
  }
  std::string command = absl::StrCat("cd '", dir, "' && rm -f out.zip && zip -q ", flags,
                                     " out.zip ", absl::StrJoin(names, " "));
  int rc = std::system(command.c_str());
  EXPECT_EQ(rc, 0) << "`" << command << "` failed; is the zip package installed?";
  return ReadFile(dir + "/out.zip");
}

std::string MailWithAttachment(absl::string_view text, absl::string_view filename,
                               absl::string_view attachment) {
  const std::string wrapped = testing::Base64Lines(attachment, "\r\n");
  return absl::StrCat(
      "From: alice@example.com\r\nTo: bob@example.com\r\nSubject: report\r\n"
      "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
      "--b1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n",
      text,
      "\r\n--b1\r\nContent-Type: application/octet-stream\r\n"
      "Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"",
      filename, "\"\r\n\r\n", wrapped, "--b1--\r\n");
}

absl::StatusOr<std::unique_ptr<ClamavEngine>> LoadEngine(const std::string& signatures_dir,
                                                         const std::string& temp_dir,
                                                         const v1::ScanLimits& limits = {}) {
  ClamavEngineOptions options;
  options.signatures_dir = signatures_dir;
  options.temp_dir = temp_dir;
  options.limits = limits;
  return ClamavEngine::Load(options);
}

class ClamavEngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    temp_dir_ =
        new std::string(absl::StrCat(::testing::TempDir(), "/engine_test_tmp_", ::getpid()));
    auto start = std::chrono::steady_clock::now();
    absl::StatusOr<std::unique_ptr<ClamavEngine>> engine = LoadEngine(BundledDir(), *temp_dir_);
    load_ms_ =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (engine.ok()) {
      engine_ = engine->release();
    } else {
      load_error_ = new std::string(engine.status().ToString());
    }
  }

  static void TearDownTestSuite() {
    delete engine_;
    engine_ = nullptr;
    std::error_code ec;
    std::filesystem::remove_all(*temp_dir_, ec);
  }

  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(TestDirPath(), ec);
  }

  void SetUp() override {
    ASSERT_NE(engine_, nullptr) << "bundled set failed to load: "
                                << (load_error_ ? *load_error_ : "");
  }

  static EngineVerdict MustScan(const ScanEngine& engine, absl::string_view data,
                                absl::string_view name) {
    absl::StatusOr<EngineVerdict> verdict = engine.Scan(data, name, ScanBounds());
    EXPECT_TRUE(verdict.ok()) << name << ": " << verdict.status();
    return verdict.ok() ? *std::move(verdict) : EngineVerdict{};
  }

  static EngineVerdict MustScan(absl::string_view data, absl::string_view name) {
    return MustScan(*engine_, data, name);
  }

  static ClamavEngine* engine_;
  static std::string* temp_dir_;
  static std::string* load_error_;
  static double load_ms_;
};

ClamavEngine* ClamavEngineTest::engine_ = nullptr;
std::string* ClamavEngineTest::temp_dir_ = nullptr;
std::string* ClamavEngineTest::load_error_ = nullptr;
double ClamavEngineTest::load_ms_ = 0;

TEST_F(ClamavEngineTest, BundledSetLoadsWithCountAndStableVersion) {
  // vmscan.ndb 3 + vmscan.hdb 2 + vmscan.hsb 2.
  EXPECT_EQ(engine_->signature_count(), 7u);
  EXPECT_THAT(engine_->version(), MatchesRegex("7-[0-9a-f]{12}"));
  absl::StatusOr<std::unique_ptr<ClamavEngine>> again = LoadEngine(BundledDir(), *temp_dir_);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->version(), engine_->version());
  std::cout << "[ measure  ] engine load with the bundled set: " << load_ms_ << " ms\n";
}

TEST_F(ClamavEngineTest, VersionChangesWhenADatabaseFileChanges) {
  std::string dir = NewTestDir();
  std::error_code ec;
  std::filesystem::copy(BundledDir(), dir, std::filesystem::copy_options::recursive, ec);
  ASSERT_FALSE(ec) << ec.message();
  absl::StatusOr<std::unique_ptr<ClamavEngine>> before = LoadEngine(dir, *temp_dir_);
  ASSERT_TRUE(before.ok()) << before.status();
  {
    std::ofstream out(dir + "/vmscan.ndb", std::ios::app);
    out << "Vmscan.Test.Extra:0:*:564d5343414e2d45585452412d54455354\n";
  }
  absl::StatusOr<std::unique_ptr<ClamavEngine>> after = LoadEngine(dir, *temp_dir_);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ((*after)->signature_count(), (*before)->signature_count() + 1);
  EXPECT_NE((*after)->version(), (*before)->version());
}

TEST_F(ClamavEngineTest, VersionChangesWithLimitsButNotWithTheUnusedMessageLimit) {
  v1::ScanLimits limits;
  limits.set_max_file_bytes(1 << 20);
  absl::StatusOr<std::unique_ptr<ClamavEngine>> limited =
      LoadEngine(BundledDir(), *temp_dir_, limits);
  ASSERT_TRUE(limited.ok()) << limited.status();
  EXPECT_NE((*limited)->version(), engine_->version());

  limits.set_max_message_bytes(12345);  // enforced before the engine; not its business
  absl::StatusOr<std::unique_ptr<ClamavEngine>> same = LoadEngine(BundledDir(), *temp_dir_, limits);
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ((*same)->version(), (*limited)->version());
}

TEST_F(ClamavEngineTest, EicarAloneIsOneThreat) {
  EngineVerdict verdict = MustScan(kEicar, "eicar.com");
  // Three signatures (body, MD5, SHA-256) carry the name; it is reported once.
  EXPECT_THAT(verdict.threats, ElementsAre(kEicarName));
  EXPECT_EQ(verdict.unscannable, std::nullopt);
}

TEST_F(ClamavEngineTest, CleanTextIsCleanAndScannable) {
  EngineVerdict verdict = MustScan("Hello Bob,\r\nthe meeting is at ten.\r\n", "note.txt");
  EXPECT_THAT(verdict.threats, IsEmpty());
  EXPECT_EQ(verdict.unscannable, std::nullopt);
  EXPECT_THAT(verdict.unscannable_detail, IsEmpty());
}

TEST_F(ClamavEngineTest, EmptyObjectIsClean) {
  EngineVerdict verdict = MustScan("", "empty");
  EXPECT_FALSE(verdict.infected());
  EXPECT_EQ(verdict.unscannable, std::nullopt);
}

TEST_F(ClamavEngineTest, EicarBase64InMailIsFoundThroughMailParsing) {
  std::string mail = MailWithAttachment("see attached", "eicar.com", kEicar);
  ASSERT_EQ(mail.find(kEicar), std::string::npos);  // only the decoder can reveal it
  EXPECT_THAT(MustScan(mail, "mail").threats, ElementsAre(kEicarName));
}

TEST_F(ClamavEngineTest, MarkerIsFoundInHeadersAndPlainText) {
  std::string mail =
      absl::StrCat("From: a@example.com\r\nSubject: hi ", kMarker, "\r\n\r\nnothing here\r\n");
  EXPECT_THAT(MustScan(mail, "mail").threats, ElementsAre(kMarkerName));
  EXPECT_THAT(MustScan(absl::StrCat("abc ", kMarker, " def"), "text").threats,
              ElementsAre(kMarkerName));
}

TEST_F(ClamavEngineTest, HashOnlySignatureMatchesTheExactObjectOnly) {
  EXPECT_THAT(MustScan(kHashOnlyObject, "exact").threats, ElementsAre(kHashOnlyName));
  EXPECT_THAT(MustScan(absl::StrCat(kHashOnlyObject, "x"), "longer").threats, IsEmpty());
  EXPECT_THAT(MustScan(absl::StrCat("x", kHashOnlyObject), "prefixed").threats, IsEmpty());
  // Inside a mail it is found once the part is decoded.
  EXPECT_THAT(MustScan(MailWithAttachment("hi", "obj.txt", kHashOnlyObject), "mail").threats,
              ElementsAre(kHashOnlyName));
}

TEST_F(ClamavEngineTest, EicarInZipIsAThreat) {
  std::string zip = Zip(NewTestDir(), "", {{"eicar.com", kEicar}});
  EXPECT_THAT(MustScan(zip, "eicar.zip").threats, ElementsAre(kEicarName));
}

TEST_F(ClamavEngineTest, ZipWithTwoDifferentThreatsReportsBoth) {
  std::string zip = Zip(NewTestDir(), "",
                        {{"eicar.com", kEicar}, {"note.txt", absl::StrCat("x ", kMarker, " y")}});
  EngineVerdict verdict = MustScan(zip, "two.zip");
  EXPECT_THAT(verdict.threats, UnorderedElementsAre(kEicarName, kMarkerName));
  EXPECT_EQ(verdict.unscannable, std::nullopt);
}

TEST_F(ClamavEngineTest, EncryptedZipIsUnscannableNotClean) {
  std::string zip = Zip(NewTestDir(), "-P secret", {{"eicar.com", kEicar}});
  EngineVerdict verdict = MustScan(zip, "encrypted.zip");
  EXPECT_THAT(verdict.threats, IsEmpty());
  EXPECT_THAT(verdict.unscannable, Optional(v1::ENCRYPTED));
  EXPECT_EQ(verdict.unscannable_detail, "Heuristics.Encrypted.Zip");
}

std::vector<std::string> ClamavTestFiles() {
  std::vector<std::string> paths;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(kTestFilesDir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->is_regular_file()) paths.push_back(it->path().string());
  }
  EXPECT_FALSE(ec) << kTestFilesDir << ": " << ec.message() << " (install clamav-testfiles)";
  std::sort(paths.begin(), paths.end());
  return paths;
}

TEST_F(ClamavEngineTest, EveryClamavTestFileIsDetected) {
  std::vector<std::string> paths = ClamavTestFiles();
  ASSERT_EQ(paths.size(), 44u) << "clamav-testfiles 1.4 ships 44 files";
  for (const std::string& path : paths) {
    std::string data = ReadFile(path);
    ASSERT_FALSE(data.empty()) << path;
    EXPECT_THAT(MustScan(data, path).threats, Contains(kClamExeName)) << path;
  }
}

// The hash of clam.exe alone also finds all 44 (libclamav rebuilds the exact file), so the body
// signature is checked on its own: it must find all 44 and the program inside a larger file.
TEST_F(ClamavEngineTest, ClamExeBodySignatureAloneDetectsEveryTestFile) {
  std::string dir = NewTestDir();
  std::string body_line;
  std::istringstream ndb(ReadFile(BundledDir() + "/vmscan.ndb"));
  for (std::string line; std::getline(ndb, line);) {
    if (line.rfind("Vmscan.Test.ClamExe:", 0) == 0) body_line = line;
  }
  ASSERT_FALSE(body_line.empty()) << "no Vmscan.Test.ClamExe line in vmscan.ndb";
  WriteFile(dir + "/body.ndb", body_line + "\n");
  absl::StatusOr<std::unique_ptr<ClamavEngine>> body_only = LoadEngine(dir, *temp_dir_);
  ASSERT_TRUE(body_only.ok()) << body_only.status();
  ASSERT_EQ((*body_only)->signature_count(), 1u);

  std::vector<std::string> paths = ClamavTestFiles();
  ASSERT_EQ(paths.size(), 44u);
  for (const std::string& path : paths) {
    EXPECT_THAT(MustScan(**body_only, ReadFile(path), path).threats, ElementsAre(kClamExeName))
        << path;
  }
  std::string embedded =
      absl::StrCat(RandomBytes(1000, 7), ReadFile(absl::StrCat(kTestFilesDir, "/clam.exe")),
                   RandomBytes(1000, 8));
  EXPECT_THAT(MustScan(**body_only, embedded, "embedded").threats, ElementsAre(kClamExeName));
}

TEST_F(ClamavEngineTest, CleanRealMessagesHaveNoThreat) {
  const std::vector<testing::CorpusMessage> corpus = testing::PythonEmailCorpus();
  ASSERT_EQ(corpus.size(), 47u) << "install libpython3.11-testsuite";
  for (const auto& [path, raw] : corpus) {
    EngineVerdict verdict = MustScan(raw, path);
    EXPECT_THAT(verdict.threats, IsEmpty()) << path;
    EXPECT_EQ(verdict.unscannable, std::nullopt) << path << ": " << verdict.unscannable_detail;
  }
}

TEST_F(ClamavEngineTest, ObjectOverMaxFileBytesIsLimitsExceeded) {
  v1::ScanLimits limits;
  limits.set_max_file_bytes(100 * 1024);
  absl::StatusOr<std::unique_ptr<ClamavEngine>> tight =
      LoadEngine(BundledDir(), *temp_dir_, limits);
  ASSERT_TRUE(tight.ok()) << tight.status();
  std::string big = absl::StrCat(RandomBytes(300 * 1024, 1), kEicar);
  EngineVerdict verdict = MustScan(**tight, big, "big.bin");
  EXPECT_THAT(verdict.threats, IsEmpty());
  EXPECT_THAT(verdict.unscannable, Optional(v1::LIMITS_EXCEEDED));
  EXPECT_THAT(verdict.unscannable_detail, HasSubstr("Heuristics.Limits.Exceeded."));
  // The default engine reads it all.
  EXPECT_THAT(MustScan(big, "big.bin").threats, ElementsAre(kEicarName));
}

// libclamav's zip reader cuts a member over max_file_bytes short and reports clean; the engine
// must see the member's size and report LIMITS_EXCEEDED instead, every time.
TEST_F(ClamavEngineTest, ZipMemberOverMaxFileBytesIsLimitsExceededNotCutShort) {
  v1::ScanLimits limits;
  limits.set_max_file_bytes(100 * 1024);
  absl::StatusOr<std::unique_ptr<ClamavEngine>> tight =
      LoadEngine(BundledDir(), *temp_dir_, limits);
  ASSERT_TRUE(tight.ok()) << tight.status();
  std::string member = absl::StrCat(std::string(300 * 1024, 'A'), kMarker, "\n");
  std::string dir = NewTestDir();
  std::string zip = Zip(dir, "-9", {{"big.txt", member}});
  ASSERT_LT(zip.size(), 100 * 1024u);  // the archive itself is within the limit
  for (int round = 1; round <= 2; ++round) {
    EngineVerdict verdict = MustScan(**tight, zip, "big.zip");
    EXPECT_THAT(verdict.threats, IsEmpty()) << "round " << round;
    EXPECT_THAT(verdict.unscannable, Optional(v1::LIMITS_EXCEEDED)) << "round " << round;
    EXPECT_THAT(verdict.unscannable_detail, HasSubstr("'big.txt'")) << "round " << round;
  }
  // Other members are still scanned.
  std::string mixed = Zip(dir, "-9", {{"big.txt", member}, {"eicar.com", kEicar}});
  EngineVerdict verdict = MustScan(**tight, mixed, "mixed.zip");
  EXPECT_THAT(verdict.threats, ElementsAre(kEicarName));
  EXPECT_THAT(verdict.unscannable, Optional(v1::LIMITS_EXCEEDED));
  // With default limits the marker at the end of the member is found.
  EXPECT_THAT(MustScan(zip, "big.zip").threats, ElementsAre(kMarkerName));
}

TEST_F(ClamavEngineTest, TooDeepNestingIsLimitsExceeded) {
  v1::ScanLimits limits;
  limits.set_max_recursion(2);
  absl::StatusOr<std::unique_ptr<ClamavEngine>> shallow =
      LoadEngine(BundledDir(), *temp_dir_, limits);
  ASSERT_TRUE(shallow.ok()) << shallow.status();
  std::string dir = NewTestDir();
  std::string inner = Zip(dir, "", {{"marker.txt", kMarker}});
  std::string middle = Zip(dir, "", {{"inner.zip", inner}});
  std::string outer = Zip(dir, "", {{"middle.zip", middle}});
  EngineVerdict verdict = MustScan(**shallow, outer, "outer.zip");
  EXPECT_THAT(verdict.unscannable, Optional(v1::LIMITS_EXCEEDED));
  EXPECT_THAT(verdict.unscannable_detail, HasSubstr("MaxRecursion"));
  EXPECT_THAT(MustScan(outer, "outer.zip").threats, ElementsAre(kMarkerName));
}

// The clean cache must never turn "skipped because of a limit" into "clean": scanning the
// same bytes again, or the skipped part on its own, must not find a cached clean verdict.
TEST_F(ClamavEngineTest, CacheNeverRemembersLimitedContentAsClean) {
  v1::ScanLimits limits;
  limits.set_max_file_bytes(64 * 1024);
  limits.set_max_scan_bytes(64 * 1024);
  absl::StatusOr<std::unique_ptr<ClamavEngine>> tight =
      LoadEngine(BundledDir(), *temp_dir_, limits);
  ASSERT_TRUE(tight.ok()) << tight.status();

  // The marker sits in a part too big to be scanned; the (compressed) archive is small.
  std::string part = absl::StrCat(std::string(100 * 1024, 'A'), kMarker);
  std::string dir = NewTestDir();
  std::string zip = Zip(dir, "-9", {{"a.txt", "hello\n"}, {"big.txt", part}});
  ASSERT_LT(zip.size(), 16 * 1024u);

  for (int round = 1; round <= 3; ++round) {
    EngineVerdict verdict = MustScan(**tight, zip, "limited.zip");
    EXPECT_THAT(verdict.threats, IsEmpty()) << "round " << round;
    EXPECT_THAT(verdict.unscannable, Optional(v1::LIMITS_EXCEEDED)) << "round " << round;
  }
  // The part alone is still too big: unscannable, not a cached clean.
  EXPECT_THAT(MustScan(**tight, part, "big.txt").unscannable, Optional(v1::LIMITS_EXCEEDED));

  // A part skipped because the scan budget ran out (not for its own size) is found when it is
  // scanned alone: it was never cached as clean.
  v1::ScanLimits budget;
  budget.set_max_scan_bytes(100 * 1024);
  absl::StatusOr<std::unique_ptr<ClamavEngine>> limited =
      LoadEngine(BundledDir(), *temp_dir_, budget);
  ASSERT_TRUE(limited.ok()) << limited.status();
  std::string small_part = absl::StrCat(std::string(30 * 1024, 'C'), kMarker, "\n");
  std::string budget_zip =
      Zip(dir, "-9", {{"1-filler.txt", std::string(90 * 1024, 'B')}, {"2-small.txt", small_part}});
  for (int round = 1; round <= 2; ++round) {
    EngineVerdict verdict = MustScan(**limited, budget_zip, "budget.zip");
    EXPECT_THAT(verdict.threats, IsEmpty()) << "round " << round;
    EXPECT_THAT(verdict.unscannable, Optional(v1::LIMITS_EXCEEDED)) << "round " << round;
  }
  EXPECT_THAT(MustScan(**limited, small_part, "2-small.txt").threats, ElementsAre(kMarkerName));
}

TEST_F(ClamavEngineTest, TinyScanTimeIsTimeout) {
  v1::ScanLimits limits;
  limits.set_max_scan_time_ms(1);
  absl::StatusOr<std::unique_ptr<ClamavEngine>> hurried =
      LoadEngine(BundledDir(), *temp_dir_, limits);
  ASSERT_TRUE(hurried.ok()) << hurried.status();
  std::vector<std::pair<std::string, std::string>> files;
  for (int i = 0; i < 400; ++i) {
    files.emplace_back(absl::StrCat("f", i, ".txt"),
                       absl::StrCat("file ", i, "\n", RandomBytes(2000, 100 + i)));
  }
  std::string zip = Zip(NewTestDir(), "", files);
  EngineVerdict verdict = MustScan(**hurried, zip, "many.zip");
  EXPECT_THAT(verdict.unscannable, Optional(v1::TIMEOUT)) << verdict.unscannable_detail;
}

TEST_F(ClamavEngineTest, ConcurrentScansGiveCorrectResults) {
  std::string dir = NewTestDir();
  struct Case {
    std::string name;
    std::string data;
    std::vector<std::string> threats;
    std::optional<v1::UnscannableReason> unscannable;
  };
  std::vector<Case> cases = {
      {"eicar", kEicar, {kEicarName}, std::nullopt},
      {"clean", "just some words\n", {}, std::nullopt},
      {"marker.zip", Zip(dir, "", {{"m.txt", kMarker}}), {kMarkerName}, std::nullopt},
      {"encrypted.zip", Zip(dir, "-P secret", {{"e.txt", "secret words\n"}}), {}, v1::ENCRYPTED},
      {"mail", MailWithAttachment("hi", "e.com", kEicar), {kEicarName}, std::nullopt},
      {"clam.exe",
       ReadFile(absl::StrCat(kTestFilesDir, "/clam.exe")),
       {kClamExeName},
       std::nullopt},
  };
  constexpr int kThreads = 8;
  constexpr int kRounds = 40;
  std::atomic<int> failures{0};
  absl::Mutex mu;
  std::vector<std::string> messages;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        const Case& c = cases[(t + round) % cases.size()];
        absl::StatusOr<EngineVerdict> verdict = engine_->Scan(c.data, c.name, ScanBounds());
        if (!verdict.ok() || verdict->threats != c.threats ||
            verdict->unscannable != c.unscannable) {
          ++failures;
          absl::MutexLock lock(&mu);
          messages.push_back(absl::StrCat(c.name, ": ",
                                          verdict.ok() ? absl::StrJoin(verdict->threats, ",") +
                                                             " / " + verdict->unscannable_detail
                                                       : verdict.status().ToString()));
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0) << absl::StrJoin(messages, "\n");
}

TEST_F(ClamavEngineTest, TempDirIsLeftEmptyAfterScans) {
  MustScan(MailWithAttachment("hi", "e.com", kEicar), "mail");
  MustScan(Zip(NewTestDir(), "", {{"a.txt", "hello\n"}}), "a.zip");
  std::error_code ec;
  EXPECT_TRUE(std::filesystem::is_empty(*temp_dir_, ec)) << *temp_dir_;
  EXPECT_FALSE(ec) << ec.message();
  struct stat st;
  ASSERT_EQ(::stat(temp_dir_->c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

// libclamav returns CL_CLEAN when it cannot create its per-scan temp directory; the engine
// must turn that into ENGINE_ERROR, never into a clean verdict.
TEST_F(ClamavEngineTest, MissingTempDirAtScanTimeIsEngineErrorNotClean) {
  std::string temp = NewTestDir() + "/tmp";
  absl::StatusOr<std::unique_ptr<ClamavEngine>> engine = LoadEngine(BundledDir(), temp);
  ASSERT_TRUE(engine.ok()) << engine.status();
  std::error_code ec;
  std::filesystem::remove_all(temp, ec);
  ASSERT_FALSE(ec) << ec.message();
  EngineVerdict verdict = MustScan(**engine, kEicar, "eicar.com");
  EXPECT_THAT(verdict.unscannable, Optional(v1::ENGINE_ERROR));
  EXPECT_THAT(verdict.unscannable_detail, HasSubstr("temporary directory"));
}

TEST_F(ClamavEngineTest, LoadFromMissingDirNamesIt) {
  std::string missing = NewTestDir() + "/no-such-signatures";
  absl::StatusOr<std::unique_ptr<ClamavEngine>> engine = LoadEngine(missing, *temp_dir_);
  EXPECT_EQ(engine.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(engine.status().message(), HasSubstr(missing));
}

TEST_F(ClamavEngineTest, LoadFromEmptyDirFailsWithLibclamavReason) {
  std::string empty = NewTestDir();
  absl::StatusOr<std::unique_ptr<ClamavEngine>> engine = LoadEngine(empty, *temp_dir_);
  EXPECT_EQ(engine.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(engine.status().message(), HasSubstr(empty));
  EXPECT_THAT(engine.status().message(), HasSubstr("cannot load signatures"));
}

TEST_F(ClamavEngineTest, LoadFromIgnoreListOnlyDirFails) {
  std::string dir = NewTestDir();
  WriteFile(dir + "/local.ign2", "Eicar-Test-Signature\n");
  absl::StatusOr<std::unique_ptr<ClamavEngine>> engine = LoadEngine(dir, *temp_dir_);
  EXPECT_EQ(engine.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(engine.status().message(), HasSubstr("holds no signatures"));
}

TEST_F(ClamavEngineTest, LoadOfMalformedDatabaseFails) {
  std::string dir = NewTestDir();
  WriteFile(dir + "/bad.ndb", "this is not a signature\n");
  absl::StatusOr<std::unique_ptr<ClamavEngine>> engine = LoadEngine(dir, *temp_dir_);
  EXPECT_EQ(engine.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(engine.status().message(), HasSubstr(dir));
  EXPECT_THAT(engine.status().message(), HasSubstr(cl_strerror(CL_EMALFDB)));
}

TEST_F(ClamavEngineTest, UnusableTempDirFailsLoad) {
  std::string dir = NewTestDir();
  WriteFile(dir + "/file", "x");
  absl::StatusOr<std::unique_ptr<ClamavEngine>> engine =
      LoadEngine(BundledDir(), dir + "/file/tmp");
  EXPECT_EQ(engine.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(engine.status().message(), HasSubstr(dir + "/file/tmp"));
  EXPECT_EQ(LoadEngine(BundledDir(), "").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ClamavEngineTest, MissingTempDirIsCreatedPrivate) {
  std::string temp = NewTestDir() + "/a/b/engine-tmp";
  absl::StatusOr<std::unique_ptr<ClamavEngine>> engine = LoadEngine(BundledDir(), temp);
  ASSERT_TRUE(engine.ok()) << engine.status();
  struct stat st;
  ASSERT_EQ(::stat(temp.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_THAT(MustScan(**engine, kEicar, "eicar.com").threats, ElementsAre(kEicarName));
}

// Measures what spec §3.3 relies on: a decoded part already met inside the raw message costs
// about a hash when scanned on its own, thanks to libclamav's clean cache.
TEST_F(ClamavEngineTest, DecodedPartAfterRawMessageHitsTheCache) {
  auto time_ms = [](const ScanEngine& engine, const std::string& data) {
    auto start = std::chrono::steady_clock::now();
    absl::StatusOr<EngineVerdict> verdict = engine.Scan(data, "timed", ScanBounds());
    EXPECT_TRUE(verdict.ok() && !verdict->infected() && !verdict->unscannable);
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
        .count();
  };
  std::string text;
  for (int i = 0; i < 3000; ++i) absl::StrAppend(&text, "Line ", i, " of an ordinary letter.\r\n");
  double uncached = 1e9, cached = 1e9, message_ms = 1e9;
  for (uint32_t seed = 10; seed < 13; ++seed) {
    std::string part = RandomBytes(700 * 1024, seed);  // ~1 MB message with its base64
    std::string other = RandomBytes(700 * 1024, seed + 100);
    std::string mail = MailWithAttachment(text, "data.bin", part);
    uncached = std::min(uncached, time_ms(*engine_, other));
    message_ms = std::min(message_ms, time_ms(*engine_, mail));
    cached = std::min(cached, time_ms(*engine_, part));
  }
  std::cout << "[ measure  ] ~1 MB clean message: " << message_ms
            << " ms; 700 KB part alone: " << uncached << " ms uncached, " << cached
            << " ms after the message (cache hit)\n";
  EXPECT_LT(cached, uncached / 2) << "the decoded part was not served from libclamav's cache";
}

// What ScanRecordingInspected() reports is what AnalyzeMessage relies on to skip part scans:
// the message itself, a base64 attachment byte for byte, and the CRLF text part in its
// normalized form (libclamav's mail parser stores it with LF line ends).
TEST_F(ClamavEngineTest, RecordsTheMessageItsPartsAndTextInNormalizedForm) {
  const std::string text = "Dear Bob,\r\nthe figures are attached.\r\n\r\nAlice";
  const std::string attachment = RandomBytes(4096, 7);
  const std::string mail = MailWithAttachment(text, "data.bin", attachment);
  absl::StatusOr<EngineVerdict> verdict =
      engine_->ScanRecordingInspected(mail, "message", ScanBounds());
  ASSERT_TRUE(verdict.ok()) << verdict.status();
  EXPECT_FALSE(verdict->infected());
  EXPECT_FALSE(verdict->unscannable.has_value());
  EXPECT_TRUE(verdict->inspected.exact.contains(Sha256Hex(mail)));
  EXPECT_TRUE(verdict->inspected.exact.contains(Sha256Hex(attachment)));
  EXPECT_TRUE(verdict->inspected.Covers(attachment, /*is_text_body=*/false));
  // Neither form of the text part is byte-identical to libclamav's, the normalized one is.
  EXPECT_FALSE(verdict->inspected.exact.contains(Sha256Hex(text)));
  EXPECT_FALSE(verdict->inspected.exact.contains(Sha256Hex(text + "\r\n")));
  EXPECT_TRUE(verdict->inspected.text.contains(TextFingerprint(text)));
  EXPECT_TRUE(verdict->inspected.Covers(text + "\r\n", /*is_text_body=*/true));
  EXPECT_FALSE(verdict->inspected.Covers(text + "\r\n", /*is_text_body=*/false));
  // Content that is not in the message is not covered.
  EXPECT_FALSE(verdict->inspected.Covers(RandomBytes(4096, 8), /*is_text_body=*/false));
  EXPECT_FALSE(verdict->inspected.Covers("Dear Bob,\r\nthe figures", /*is_text_body=*/true));
}

TEST_F(ClamavEngineTest, PlainScanRecordsNothing) {
  const std::string mail = MailWithAttachment("hello\r\n", "data.bin", RandomBytes(512, 9));
  EngineVerdict verdict = MustScan(mail, "message");
  EXPECT_TRUE(verdict.inspected.empty());
}

// The record does not depend on libclamav's clean cache for parts: a message whose parts were
// all scanned before (each one a cache hit now) records them as the first message did. Only a
// message that is itself a cache hit records less (libclamav does not open it again), which
// costs part scans, never a verdict.
TEST_F(ClamavEngineTest, PartsThatAreCacheHitsAreStillRecorded) {
  const std::string text = "Quarterly numbers below.\r\nRegards\r\n";
  const std::string attachment = RandomBytes(8192, 11);
  const std::string mail = MailWithAttachment(text, "q.bin", attachment);
  absl::StatusOr<EngineVerdict> first =
      engine_->ScanRecordingInspected(mail, "first", ScanBounds());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->inspected.exact.contains(Sha256Hex(attachment)));
  MustScan(attachment, "part");
  const std::string copy = absl::StrCat("Delivered-To: carol@example.com\r\n", mail);
  absl::StatusOr<EngineVerdict> second =
      engine_->ScanRecordingInspected(copy, "copy", ScanBounds());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->inspected.exact.contains(Sha256Hex(copy)));
  EXPECT_TRUE(second->inspected.exact.contains(Sha256Hex(attachment)));
  EXPECT_TRUE(second->inspected.text.contains(TextFingerprint(text)));

  absl::StatusOr<EngineVerdict> again =
      engine_->ScanRecordingInspected(mail, "again", ScanBounds());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->infected());
  EXPECT_TRUE(again->inspected.exact.contains(Sha256Hex(mail)));
  EXPECT_FALSE(again->inspected.exact.contains(Sha256Hex(attachment)));
}

TEST_F(ClamavEngineTest, InfectedMessageStillRecordsAndReportsTheThreat) {
  const std::string mail = MailWithAttachment("see attached\r\n", "eicar.com", kEicar);
  absl::StatusOr<EngineVerdict> verdict =
      engine_->ScanRecordingInspected(mail, "message", ScanBounds());
  ASSERT_TRUE(verdict.ok()) << verdict.status();
  EXPECT_THAT(verdict->threats, ElementsAre(kEicarName));
  EXPECT_TRUE(verdict->inspected.exact.contains(Sha256Hex(kEicar)));
}

}  // namespace
}  // namespace vmscan
