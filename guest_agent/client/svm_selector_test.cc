#include "guest_agent/client/svm_selector.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmscan {
namespace {

using ::testing::ElementsAre;

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

// An SVM's answer to ListSvms: itself with `host` and `load`, then `peers` (address, host).
v1::SvmList Answer(const std::string& self, const std::string& host, double load,
                   std::vector<std::pair<std::string, std::string>> peers = {},
                   bool overloaded = false) {
  v1::SvmList list;
  v1::SvmInfo* info = list.add_svms();
  info->set_address(self);
  info->set_hypervisor_host(host);
  info->set_load(load);
  info->set_overloaded(overloaded);
  info->set_self(true);
  for (const auto& [address, peer_host] : peers) {
    info = list.add_svms();
    info->set_address(address);
    info->set_hypervisor_host(peer_host);
    info->set_load(-1);
  }
  return list;
}

TEST(SvmSelectorTest, BeforeAnyAnswerTheConfiguredOrderHolds) {
  SvmSelector selector("esx-1", {"b:1", "a:1", "c:1"}, absl::Seconds(10));
  EXPECT_THAT(selector.Order(kT0), ElementsAre("b:1", "a:1", "c:1"));
  EXPECT_EQ(selector.Ranking(kT0)[0].state(), "unknown");
}

TEST(SvmSelectorTest, OwnHypervisorHostFirstThenLeastLoaded) {
  SvmSelector selector("esx-2", {"a:1", "b:1", "c:1"}, absl::Seconds(10));
  selector.Refresh({{"a:1", Answer("a:1", "esx-1", 0.5)},
                    {"b:1", Answer("b:1", "esx-2", 1.5)},  // busier, but on this VM's host
                    {"c:1", Answer("c:1", "esx-3", 0.1)}},
                   true, kT0);
  EXPECT_THAT(selector.Order(kT0), ElementsAre("b:1", "c:1", "a:1"));
  std::vector<v1::SvmChoice> ranking = selector.Ranking(kT0);
  EXPECT_EQ(ranking[0].state(), "up");
  EXPECT_THAT(ranking[0].reason(), ::testing::HasSubstr("on this VM's hypervisor host"));
  EXPECT_THAT(ranking[1].reason(), ::testing::HasSubstr("load 0.10"));
}

TEST(SvmSelectorTest, AFailedSvmIsTriedLastUntilRetryOrUntilItAnswers) {
  SvmSelector selector("esx-1", {"own:1", "other:1"}, absl::Seconds(10));
  selector.Refresh(
      {{"own:1", Answer("own:1", "esx-1", 0)}, {"other:1", Answer("other:1", "esx-2", 0)}}, true,
      kT0);
  ASSERT_THAT(selector.Order(kT0), ElementsAre("own:1", "other:1"));

  selector.Failed("own:1", absl::UnavailableError("own:1: not reachable"), kT0);
  EXPECT_THAT(selector.Order(kT0 + absl::Seconds(1)), ElementsAre("other:1", "own:1"));
  std::vector<v1::SvmChoice> ranking = selector.Ranking(kT0 + absl::Seconds(1));
  EXPECT_EQ(ranking[1].state(), "down");
  EXPECT_EQ(ranking[1].last_error(), "own:1: not reachable");
  // Retry time passed: back in its place, to be tried first again.
  EXPECT_THAT(selector.Order(kT0 + absl::Seconds(10)), ElementsAre("own:1", "other:1"));

  // It fails again; a refresh in which it answers brings it back at once.
  selector.Failed("own:1", absl::UnavailableError("down"), kT0 + absl::Seconds(20));
  EXPECT_THAT(selector.Order(kT0 + absl::Seconds(21)), ElementsAre("other:1", "own:1"));
  selector.Refresh({{"own:1", Answer("own:1", "esx-1", 0)}}, true, kT0 + absl::Seconds(22));
  EXPECT_THAT(selector.Order(kT0 + absl::Seconds(22)), ElementsAre("own:1", "other:1"));
}

TEST(SvmSelectorTest, ARefreshThatFailsMarksTheSvmDown) {
  SvmSelector selector("esx-1", {"own:1", "other:1"}, absl::Seconds(10));
  selector.Refresh({{"own:1", absl::DeadlineExceededError("no answer in 1s")},
                    {"other:1", Answer("other:1", "esx-2", 0)}},
                   true, kT0);
  EXPECT_THAT(selector.Order(kT0), ElementsAre("other:1", "own:1"));
}

TEST(SvmSelectorTest, OverloadedSvmsComeAfterTheOthersEvenOnTheOwnHost) {
  SvmSelector selector("esx-1", {"own:1", "other:1"}, absl::Seconds(10));
  selector.Refresh({{"own:1", Answer("own:1", "esx-1", 17.0, {}, /*overloaded=*/true)},
                    {"other:1", Answer("other:1", "esx-2", 0.3)}},
                   true, kT0);
  EXPECT_THAT(selector.Order(kT0), ElementsAre("other:1", "own:1"));
  EXPECT_EQ(selector.Ranking(kT0)[1].state(), "overloaded");
  // A scan refused with a full queue counts the same until the SVM reports otherwise.
  selector.Refresh({{"own:1", Answer("own:1", "esx-1", 0.1)}}, true, kT0);
  EXPECT_THAT(selector.Order(kT0), ElementsAre("own:1", "other:1"));
  selector.Overloaded("own:1");
  EXPECT_THAT(selector.Order(kT0), ElementsAre("other:1", "own:1"));
}

TEST(SvmSelectorTest, LearnsPeersFromTheDirectoryAndForgetsThemWhenNoLongerListed) {
  SvmSelector selector("esx-3", {"a:1"}, absl::Seconds(10));
  selector.Refresh({{"a:1", Answer("a:1", "esx-1", 0.0, {{"c:1", "esx-3"}, {"b:1", "esx-2"}})}},
                   true, kT0);
  // c is on this VM's host: first, though nobody has heard its load yet.
  EXPECT_THAT(selector.Order(kT0), ElementsAre("c:1", "a:1", "b:1"));
  selector.Refresh({{"a:1", Answer("a:1", "esx-1", 0.0, {{"b:1", "esx-2"}})},
                    {"b:1", Answer("b:1", "esx-2", 0.0)},
                    {"c:1", absl::UnavailableError("gone")}},
                   true, kT0);
  EXPECT_THAT(selector.Order(kT0), ElementsAre("a:1", "b:1"));  // c no longer listed: dropped
}

TEST(SvmSelectorTest, WithoutDiscoveryOnlyTheConfiguredSvmsAreUsed) {
  SvmSelector selector("esx-3", {"a:1"}, absl::Seconds(10));
  selector.Refresh({{"a:1", Answer("a:1", "esx-1", 0.0, {{"c:1", "esx-3"}})}}, false, kT0);
  EXPECT_THAT(selector.Order(kT0), ElementsAre("a:1"));
}

TEST(SvmSelectorTest, ReportsEachChangeOfTheFirstChoiceOnce) {
  SvmSelector selector("esx-1", {"own:1", "other:1"}, absl::Seconds(10));
  selector.Refresh(
      {{"own:1", Answer("own:1", "esx-1", 0)}, {"other:1", Answer("other:1", "esx-2", 0)}}, true,
      kT0);
  std::optional<std::string> line = selector.ChoiceChange(kT0);
  ASSERT_TRUE(line.has_value());
  EXPECT_THAT(*line, ::testing::HasSubstr("SVM choice: own:1 (on this VM's hypervisor host"));
  EXPECT_FALSE(selector.ChoiceChange(kT0).has_value());
  selector.Failed("own:1", absl::UnavailableError("own:1: not reachable"), kT0);
  line = selector.ChoiceChange(kT0);
  ASSERT_TRUE(line.has_value());
  EXPECT_THAT(*line, ::testing::HasSubstr("SVM choice: other:1"));
  EXPECT_THAT(*line, ::testing::HasSubstr("was own:1 (failed (own:1: not reachable)"));
}

}  // namespace
}  // namespace vmscan
