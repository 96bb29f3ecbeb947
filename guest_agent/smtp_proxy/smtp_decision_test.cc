#include "guest_agent/smtp_proxy/smtp_decision.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "guest_agent/client/fake_scan_response.h"

namespace vmscan {
namespace {

TEST(SmtpDecisionTest, CleanIsRelayedUnchanged) {
  SmtpOutcome o =
      DecideSmtpOut(FakeScanResponse(v1::CLEAN, v1::DELIVER), v1::OnNoScanner::TEMPFAIL);
  EXPECT_TRUE(o.relay);
  EXPECT_TRUE(o.header_value.empty());
}

TEST(SmtpDecisionTest, AThreatIsBlockedWhateverTheAction) {
  for (v1::Action action : {v1::BLOCK, v1::DELETE, v1::DELIVER_DISINFECTED, v1::DELIVER}) {
    SmtpOutcome o =
        DecideSmtpOut(FakeScanResponse(v1::INFECTED, action), v1::OnNoScanner::TEMPFAIL);
    EXPECT_FALSE(o.relay);
    EXPECT_TRUE(absl::StartsWith(o.reply, "550 5.7.1 ")) << o.reply;
    EXPECT_TRUE(absl::StrContains(o.reply, "Eicar-Test-Signature")) << o.reply;
  }
}

TEST(SmtpDecisionTest, Unscannable) {
  ScanResponse deliver = FakeScanResponse(v1::UNSCANNABLE, v1::DELIVER);
  deliver.result.set_unscannable_reason(v1::ENCRYPTED);
  SmtpOutcome o = DecideSmtpOut(deliver, v1::OnNoScanner::TEMPFAIL);
  EXPECT_TRUE(o.relay);
  EXPECT_EQ(o.header_value, "unscannable (ENCRYPTED)");
  SmtpOutcome blocked =
      DecideSmtpOut(FakeScanResponse(v1::UNSCANNABLE, v1::BLOCK), v1::OnNoScanner::TEMPFAIL);
  EXPECT_FALSE(blocked.relay);
  EXPECT_TRUE(absl::StartsWith(blocked.reply, "550 5.7.1 ")) << blocked.reply;
}

TEST(SmtpDecisionTest, NoScanner) {
  absl::StatusOr<ScanResponse> none = absl::UnavailableError("no scanner reachable");
  SmtpOutcome tempfail = DecideSmtpOut(none, v1::OnNoScanner::TEMPFAIL);
  EXPECT_FALSE(tempfail.relay);
  EXPECT_TRUE(absl::StartsWith(tempfail.reply, "451 4.7.0 ")) << tempfail.reply;
  SmtpOutcome deliver = DecideSmtpOut(none, v1::OnNoScanner::DELIVER_UNSCANNED);
  EXPECT_TRUE(deliver.relay);
  EXPECT_EQ(deliver.header_value, "not scanned (no scanner reachable)");
}

TEST(SmtpDecisionTest, SvmErrors) {
  SmtpOutcome big = DecideSmtpOut(absl::ResourceExhaustedError("message too large"),
                                  v1::OnNoScanner::DELIVER_UNSCANNED);
  EXPECT_TRUE(absl::StartsWith(big.reply, "552 5.3.4 ")) << big.reply;
  SmtpOutcome busy =
      DecideSmtpOut(absl::ResourceExhaustedError("queue full"), v1::OnNoScanner::TEMPFAIL);
  EXPECT_TRUE(absl::StartsWith(busy.reply, "451 ")) << busy.reply;
  SmtpOutcome internal =
      DecideSmtpOut(absl::InternalError("boom"), v1::OnNoScanner::DELIVER_UNSCANNED);
  EXPECT_FALSE(internal.relay);
  EXPECT_TRUE(absl::StartsWith(internal.reply, "451 ")) << internal.reply;
}

}  // namespace
}  // namespace vmscan
