#include "guest_agent/milter/milter_decision.h"

#include "gtest/gtest.h"
#include "guest_agent/client/fake_scan_response.h"

namespace vmscan {
namespace {

constexpr auto kTempfail = v1::OnNoScanner::TEMPFAIL;

TEST(MilterDecisionTest, IncomingFollowsTheSvmAction) {
  EXPECT_EQ(DecideMilter(FakeScanResponse(v1::CLEAN, v1::DELIVER), v1::INCOMING, kTempfail).kind,
            MilterOutcome::kAccept);
  EXPECT_EQ(
      DecideMilter(FakeScanResponse(v1::CLEAN, v1::DELIVER), v1::INCOMING, kTempfail).header_value,
      "clean");
  EXPECT_EQ(
      DecideMilter(FakeScanResponse(v1::INFECTED, v1::DELIVER_DISINFECTED), v1::INCOMING, kTempfail)
          .kind,
      MilterOutcome::kReplaceWithCleaned);
  EXPECT_EQ(DecideMilter(FakeScanResponse(v1::INFECTED, v1::DELETE), v1::INCOMING, kTempfail).kind,
            MilterOutcome::kDiscard);
  MilterOutcome block =
      DecideMilter(FakeScanResponse(v1::INFECTED, v1::BLOCK), v1::INCOMING, kTempfail);
  EXPECT_EQ(block.kind, MilterOutcome::kReject);
  EXPECT_EQ(block.rcode, "550");
  EXPECT_EQ(block.xcode, "5.7.1");
}

TEST(MilterDecisionTest, OutgoingThreatIsRejectedWhateverTheAction) {
  for (v1::Action a : {v1::DELIVER_DISINFECTED, v1::DELETE, v1::BLOCK}) {
    MilterOutcome o = DecideMilter(FakeScanResponse(v1::INFECTED, a), v1::OUTGOING, kTempfail);
    EXPECT_EQ(o.kind, MilterOutcome::kReject);
    EXPECT_EQ(o.rcode, "550");
  }
}

TEST(MilterDecisionTest, NoScanner) {
  absl::StatusOr<ScanResponse> none = absl::UnavailableError("no scanner reachable");
  MilterOutcome t = DecideMilter(none, v1::INCOMING, kTempfail);
  EXPECT_EQ(t.kind, MilterOutcome::kTempfail);
  EXPECT_EQ(t.rcode, "451");
  EXPECT_EQ(t.xcode, "4.7.0");
  MilterOutcome d = DecideMilter(none, v1::INCOMING, v1::OnNoScanner::DELIVER_UNSCANNED);
  EXPECT_EQ(d.kind, MilterOutcome::kAccept);
  EXPECT_EQ(d.header_value, "not scanned (no scanner reachable)");
}

TEST(MilterDecisionTest, Direction) {
  std::vector<IpNetwork> nets = {*IpNetwork::Parse("127.0.0.1/32")};
  EXPECT_EQ(MilterDirection("", "127.0.0.1", nets), v1::OUTGOING);
  EXPECT_EQ(MilterDirection("", "127.0.0.2", nets), v1::INCOMING);
  EXPECT_EQ(MilterDirection("alice", "192.0.2.1", nets), v1::OUTGOING);
  EXPECT_EQ(MilterDirection("", "", {}), v1::INCOMING);
}

}  // namespace
}  // namespace vmscan
