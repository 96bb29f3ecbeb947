// The sscanf fast path: the same answers as glibc for every input (compared against glibc's own
// scanners on hand-picked and random inputs), bound in this binary, and reached by libclamav's
// logical-signature evaluation, whose detections stay what the expressions say.
#include "host_server/engine/sscanf_fast_path/sscanf_fast_path.h"

#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "host_server/engine/clamav_engine.h"

// glibc's scanners by symbol name, past this binary's interposed sscanf.
extern "C" int GlibcGnuVsscanf(const char* input, const char* format,
                               va_list args) __asm__("vsscanf");
extern "C" int GlibcC99Vsscanf(const char* input, const char* format,
                               va_list args) __asm__("__isoc99_vsscanf");
// The entry point glibc 2.38 headers compile sscanf to; this glibc's headers may not, so it is
// called by its symbol name.
extern "C" int Isoc23Sscanf(const char* input, const char* format, ...) __asm__("__isoc23_sscanf");

namespace vmscan {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr unsigned kUnset = 0xdeadbeef;

int GlibcScan(bool c99, const char* input, const char* format, ...) {
  va_list args;
  va_start(args, format);
  int result = c99 ? GlibcC99Vsscanf(input, format, args) : GlibcGnuVsscanf(input, format, args);
  va_end(args);
  return result;
}

struct Outcome {
  int result;
  unsigned first;
  unsigned second;
  bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  return os << "{result " << o.result << ", first " << o.first << ", second " << o.second << "}";
}

// sscanf as this process answers it: through the interposed symbol, as libclamav calls it.
Outcome ViaSscanf(const std::string& input, const char* format) {
  Outcome o{0, kUnset, kUnset};
  o.result = std::sscanf(input.c_str(), format, &o.first, &o.second);  // NOLINT(runtime/printf)
  return o;
}

// The same through __isoc23_sscanf, as a libclamav built with glibc 2.38 headers calls it.
Outcome ViaIsoc23(const std::string& input, const char* format) {
  Outcome o{0, kUnset, kUnset};
  o.result = Isoc23Sscanf(input.c_str(), format, &o.first, &o.second);
  return o;
}

Outcome ViaGlibc(bool c99, const std::string& input, const char* format) {
  Outcome o{0, kUnset, kUnset};
  o.result = GlibcScan(c99, input.c_str(), format, &o.first, &o.second);
  return o;
}

// Every answer, fast or not, equals both of glibc's, through either entry point; returns whether
// the fast path answered.
bool ExpectSameAsGlibc(const std::string& input, const char* format) {
  const unsigned long long before = sscanf_internal::FastAnswersOnThisThread();  // NOLINT
  const Outcome ours = ViaSscanf(input, format);
  const bool fast = sscanf_internal::FastAnswersOnThisThread() != before;
  EXPECT_EQ(ours, ViaGlibc(/*c99=*/true, input, format)) << "'" << input << "' " << format;
  EXPECT_EQ(ours, ViaGlibc(/*c99=*/false, input, format)) << "'" << input << "' " << format;
  const unsigned long long before_c23 = sscanf_internal::FastAnswersOnThisThread();  // NOLINT
  EXPECT_EQ(ViaIsoc23(input, format), ours) << "'" << input << "' " << format;
  EXPECT_EQ(sscanf_internal::FastAnswersOnThisThread() != before_c23, fast)
      << "__isoc23_sscanf takes the same path: '" << input << "' " << format;
  return fast;
}

TEST(SscanfFastPathTest, IsBoundInThisBinary) {
  EXPECT_TRUE(SscanfFastPathBound("sscanf"));
  EXPECT_TRUE(SscanfFastPathBound("__isoc99_sscanf"));
  EXPECT_FALSE(SscanfFastPathBound("vsscanf")) << "not one of ours";
}

TEST(SscanfFastPathTest, AnswersLibclamavsExpressionsItself) {
  // The shapes cli_ac_chklsig hands over: a subsignature number, then the rest of the expression.
  for (const char* input : {"0", "7&1", "12|(3&4)", "123456789", "0)>1", "5;tail"}) {
    EXPECT_TRUE(ExpectSameAsGlibc(input, "%u")) << input;
  }
  for (const char* input : {"1,2", "1,2)", "10,3&5", "7", "7)", "7&1", "0,0"}) {
    EXPECT_TRUE(ExpectSameAsGlibc(input, "%u,%u")) << input;
  }
}

TEST(SscanfFastPathTest, LeavesEverythingElseToGlibc) {
  for (const char* input : {"", " 5", "\t5", "+5", "-5", "1234567890", "4294967295", "4294967296",
                            "99999999999999999999", "x", "&1", "(1"}) {
    EXPECT_FALSE(ExpectSameAsGlibc(input, "%u")) << input;
  }
  for (const char* input : {"5,", "5, 6", "5,+6", "5,-6", "5,x", "5,1234567890", " 5,6", "-5,6"}) {
    EXPECT_FALSE(ExpectSameAsGlibc(input, "%u,%u")) << input;
  }
  // Formats that only begin like a fast one are glibc's too, every conversion of them done.
  const unsigned long long before = sscanf_internal::FastAnswersOnThisThread();  // NOLINT
  unsigned a = 0, b = 0;
  int consumed = -1;
  EXPECT_EQ(std::sscanf("12,34;", "%u,%u%n", &a, &b, &consumed), 2);  // NOLINT(runtime/printf)
  EXPECT_EQ(consumed, 5);
  consumed = -1;
  EXPECT_EQ(std::sscanf("12;", "%u%n", &a, &consumed), 1);  // NOLINT(runtime/printf)
  EXPECT_EQ(consumed, 2);
  EXPECT_EQ(std::sscanf("12 x", "%u x", &a), 1);  // NOLINT(runtime/printf)
  EXPECT_EQ(sscanf_internal::FastAnswersOnThisThread(), before);
  // Other formats, arguments of other types: glibc's answers, through the interposed symbol.
  char word[16] = {};
  int number = 0;
  EXPECT_EQ(std::sscanf("abc 42", "%15s %d", word, &number), 2);  // NOLINT(runtime/printf)
  EXPECT_STREQ(word, "abc");
  EXPECT_EQ(number, 42);
  double real = 0;
  EXPECT_EQ(std::sscanf("2.5", "%lf", &real), 1);  // NOLINT(runtime/printf)
  EXPECT_EQ(real, 2.5);
  EXPECT_EQ(std::sscanf("", "%d", &number), EOF);  // NOLINT(runtime/printf)
}

TEST(SscanfFastPathTest, RandomInputsMatchGlibc) {
  std::mt19937 rng(20261127);
  const std::string alphabet = "0123456789012345678901234567890123456789,,&|()<>= +-x";
  int fast = 0;
  for (int i = 0; i < 50000; ++i) {
    std::string input(rng() % 14, ' ');
    for (char& c : input) c = alphabet[rng() % alphabet.size()];
    const char* format = (i % 2 == 0) ? "%u" : "%u,%u";
    if (ExpectSameAsGlibc(input, format)) ++fast;
    if (HasFailure()) return;  // one counterexample is enough
  }
  EXPECT_GT(fast, 10000);  // the inputs do exercise the fast path
}

// libclamav through the fast path: logical signatures with subsignature counts ("%u" after '>')
// and a block modifier with a distinct-subsignature minimum ("%u,%u"), each on either side of
// its threshold.
class LogicalSignatureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           absl::StrCat("vmscan-sscanf-test-", ::getpid(), "-", ++counter_);
    std::filesystem::create_directories(dir_ / "sigs");
    std::ofstream ldb(dir_ / "sigs" / "test.ldb");
    ldb << "Vmscan.Test.LsigAnd;Engine:51-255,Target:0;0&1;" << Hex("ALPHA-MARK-41") << ";"
        << Hex("BRAVO-MARK-42") << "\n"
        << "Vmscan.Test.LsigCount;Engine:51-255,Target:0;0>2;" << Hex("COUNT-MARK-43") << "\n"
        << "Vmscan.Test.LsigBlock;Engine:51-255,Target:0;(0|1|2)>1,2;" << Hex("CHARLIE-MARK-44")
        << ";" << Hex("DELTA-MARK-45") << ";" << Hex("ECHO-MARK-46") << "\n";
    ldb.close();
    ClamavEngineOptions options;
    options.signatures_dir = (dir_ / "sigs").string();
    options.temp_dir = (dir_ / "tmp").string();
    absl::StatusOr<std::unique_ptr<ClamavEngine>> engine = ClamavEngine::Load(options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(*engine);
  }
  void TearDown() override {
    engine_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  static std::string Hex(const std::string& text) { return absl::BytesToHexString(text); }

  std::vector<std::string> Threats(const std::string& text) {
    absl::StatusOr<EngineVerdict> verdict = engine_->Scan(text, "sample.txt", ScanBounds());
    EXPECT_TRUE(verdict.ok()) << verdict.status();
    return verdict.ok() ? verdict->threats : std::vector<std::string>{"<error>"};
  }

  static inline int counter_ = 0;
  std::filesystem::path dir_;
  std::unique_ptr<ClamavEngine> engine_;
};

TEST_F(LogicalSignatureTest, ExpressionsDecideAsWrittenThroughTheFastPath) {
  const unsigned long long before = sscanf_internal::FastAnswersOnThisThread();  // NOLINT
  EXPECT_THAT(Threats("x ALPHA-MARK-41 y BRAVO-MARK-42 z"),
              ElementsAre("Vmscan.Test.LsigAnd.UNOFFICIAL"));
  EXPECT_GT(sscanf_internal::FastAnswersOnThisThread(), before);
  EXPECT_THAT(Threats("x ALPHA-MARK-41 y only"), IsEmpty());

  EXPECT_THAT(Threats("COUNT-MARK-43 COUNT-MARK-43 COUNT-MARK-43"),
              ElementsAre("Vmscan.Test.LsigCount.UNOFFICIAL"));
  EXPECT_THAT(Threats("COUNT-MARK-43 COUNT-MARK-43"), IsEmpty());

  EXPECT_THAT(Threats("CHARLIE-MARK-44 and DELTA-MARK-45"),
              ElementsAre("Vmscan.Test.LsigBlock.UNOFFICIAL"));
  // Two matches of one subsignature: the count is over 1, but only one distinct subsignature.
  EXPECT_THAT(Threats("CHARLIE-MARK-44 and CHARLIE-MARK-44"), IsEmpty());
}

}  // namespace
}  // namespace vmscan
