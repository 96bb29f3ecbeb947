#include "host_server/engine/clamav_verdict.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmscan {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Optional;

TEST(ClamavVerdictTest, CleanIsCleanWithoutUnscannable) {
  EngineVerdict v = ClamavVerdict(CL_CLEAN, {}, "");
  EXPECT_FALSE(v.infected());
  EXPECT_EQ(v.unscannable, std::nullopt);
  EXPECT_THAT(v.unscannable_detail, IsEmpty());
}

TEST(ClamavVerdictTest, ThreatsAreDeduplicatedInFirstSeenOrder) {
  EngineVerdict v =
      ClamavVerdict(CL_VIRUS,
                    {"Eicar-Test-Signature.UNOFFICIAL", "Vmscan.Test.Marker.UNOFFICIAL",
                     "Eicar-Test-Signature.UNOFFICIAL"},
                    "");
  EXPECT_THAT(v.threats,
              ElementsAre("Eicar-Test-Signature.UNOFFICIAL", "Vmscan.Test.Marker.UNOFFICIAL"));
  EXPECT_EQ(v.unscannable, std::nullopt);
}

TEST(ClamavVerdictTest, EncryptedHeuristicIsUnscannableNotThreat) {
  EngineVerdict v = ClamavVerdict(CL_VIRUS, {"Heuristics.Encrypted.Zip"}, "");
  EXPECT_FALSE(v.infected());
  EXPECT_THAT(v.unscannable, Optional(v1::ENCRYPTED));
  EXPECT_EQ(v.unscannable_detail, "Heuristics.Encrypted.Zip");
}

TEST(ClamavVerdictTest, ScanTimeHeuristicIsTimeout) {
  EngineVerdict v = ClamavVerdict(CL_VIRUS, {"Heuristics.Limits.Exceeded.MaxScanTime"}, "");
  EXPECT_THAT(v.unscannable, Optional(v1::TIMEOUT));
  EXPECT_FALSE(v.infected());
}

TEST(ClamavVerdictTest, OtherLimitHeuristicsAreLimitsExceeded) {
  for (const char* name :
       {"Heuristics.Limits.Exceeded.MaxFileSize", "Heuristics.Limits.Exceeded.MaxScanSize",
        "Heuristics.Limits.Exceeded.MaxRecursion", "Heuristics.Limits.Exceeded.MaxFiles",
        "Heuristics.Limits.Exceeded.EmailMIMEPartsPerMessage"}) {
    EngineVerdict v = ClamavVerdict(CL_VIRUS, {name}, "");
    EXPECT_THAT(v.unscannable, Optional(v1::LIMITS_EXCEEDED)) << name;
    EXPECT_EQ(v.unscannable_detail, name);
    EXPECT_FALSE(v.infected()) << name;
  }
}

TEST(ClamavVerdictTest, OtherHeuristicsAreThreats) {
  EngineVerdict v = ClamavVerdict(CL_VIRUS, {"Heuristics.Phishing.Email.SpoofedDomain"}, "");
  EXPECT_THAT(v.threats, ElementsAre("Heuristics.Phishing.Email.SpoofedDomain"));
  EXPECT_EQ(v.unscannable, std::nullopt);
}

TEST(ClamavVerdictTest, ThreatAndUnscannableTogetherFirstReasonWinsAllDetailsKept) {
  EngineVerdict v = ClamavVerdict(
      CL_VIRUS,
      {"Heuristics.Limits.Exceeded.MaxFileSize", "Win.Test.A", "Heuristics.Encrypted.Zip"}, "");
  EXPECT_THAT(v.threats, ElementsAre("Win.Test.A"));
  EXPECT_THAT(v.unscannable, Optional(v1::LIMITS_EXCEEDED));
  EXPECT_EQ(v.unscannable_detail,
            "Heuristics.Limits.Exceeded.MaxFileSize; Heuristics.Encrypted.Zip");
}

TEST(ClamavVerdictTest, OurCallbackBlockIsLimitsExceededWithItsReason) {
  EngineVerdict v =
      ClamavVerdict(CL_VIRUS, {kCallbackAlert, kCallbackAlert}, "", "member 'big' is too big");
  EXPECT_FALSE(v.infected());
  EXPECT_THAT(v.unscannable, Optional(v1::LIMITS_EXCEEDED));
  EXPECT_EQ(v.unscannable_detail, "member 'big' is too big");

  EXPECT_EQ(ClamavVerdict(CL_VIRUS, {kCallbackAlert}, "").unscannable_detail, kCallbackAlert);
}

TEST(ClamavVerdictTest, TimeoutReturnCode) {
  EngineVerdict v = ClamavVerdict(CL_ETIMEOUT, {}, "");
  EXPECT_THAT(v.unscannable, Optional(v1::TIMEOUT));
  EXPECT_EQ(v.unscannable_detail, cl_strerror(CL_ETIMEOUT));
}

TEST(ClamavVerdictTest, LimitReturnCodes) {
  for (cl_error_t rc : {CL_EMAXSIZE, CL_EMAXFILES, CL_EMAXREC}) {
    EngineVerdict v = ClamavVerdict(rc, {}, "");
    EXPECT_THAT(v.unscannable, Optional(v1::LIMITS_EXCEEDED)) << rc;
    EXPECT_EQ(v.unscannable_detail, cl_strerror(rc));
  }
}

TEST(ClamavVerdictTest, OtherReturnCodesAreEngineErrorsWithLibclamavText) {
  for (cl_error_t rc : {CL_EMEM, CL_ETMPDIR, CL_EFORMAT, CL_EREAD, CL_ERROR}) {
    EngineVerdict v = ClamavVerdict(rc, {}, "");
    EXPECT_THAT(v.unscannable, Optional(v1::ENGINE_ERROR)) << rc;
    EXPECT_EQ(v.unscannable_detail, cl_strerror(rc));
  }
}

TEST(ClamavVerdictTest, ThreatFoundBeforeAnErrorIsKept) {
  EngineVerdict v = ClamavVerdict(CL_ETIMEOUT, {"Win.Test.A"}, "");
  EXPECT_THAT(v.threats, ElementsAre("Win.Test.A"));
  EXPECT_THAT(v.unscannable, Optional(v1::TIMEOUT));
}

TEST(ClamavVerdictTest, LoggedErrorTurnsCleanIntoEngineError) {
  EngineVerdict v = ClamavVerdict(CL_CLEAN, {}, "Can't create temporary directory for scan: /x");
  EXPECT_THAT(v.unscannable, Optional(v1::ENGINE_ERROR));
  EXPECT_THAT(v.unscannable_detail, HasSubstr("Can't create temporary directory"));
}

TEST(ClamavVerdictTest, NamelessDetectionIsEngineError) {
  EngineVerdict v = ClamavVerdict(CL_VIRUS, {}, "");
  EXPECT_THAT(v.unscannable, Optional(v1::ENGINE_ERROR));
  EXPECT_FALSE(v.infected());
}

TEST(ClamavVerdictTest, CallbackVerdictsAreClean) {
  for (cl_error_t rc : {CL_VERIFIED, CL_BREAK}) {
    EngineVerdict v = ClamavVerdict(rc, {}, "");
    EXPECT_EQ(v.unscannable, std::nullopt) << rc;
    EXPECT_FALSE(v.infected());
  }
}

}  // namespace
}  // namespace vmscan
