#include "tools/vmscanctl/terminal_text.h"

#include <google/protobuf/util/json_util.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "vmscan/v1/backup.pb.h"

namespace vmscan {
namespace {

using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1795737600);  // 2026-11-27T00:00:00Z

TEST(ParseAgeTest, UnitsAndErrors) {
  EXPECT_EQ(*ParseAge("90s"), absl::Seconds(90));
  EXPECT_EQ(*ParseAge("45m"), absl::Minutes(45));
  EXPECT_EQ(*ParseAge("2h"), absl::Hours(2));
  EXPECT_EQ(*ParseAge("1h30m"), absl::Minutes(90));
  EXPECT_EQ(*ParseAge("30d"), absl::Hours(24 * 30));
  EXPECT_EQ(*ParseAge("2w"), absl::Hours(24 * 14));
  for (const char* bad : {"", "0", "0d", "-2h", "2", "d", "1.5d", "inf", "2x", "30 days"}) {
    absl::StatusOr<absl::Duration> age = ParseAge(bad);
    EXPECT_EQ(age.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(age.status().message(), HasSubstr(absl::StrCat("\"", bad, "\""))) << bad;
  }
}

TEST(ParseTimeArgTest, Rfc3339DateAndAge) {
  EXPECT_EQ(*ParseTimeArg("2026-11-27T00:00:00Z", kNow), kNow);
  EXPECT_EQ(*ParseTimeArg("2026-11-27T01:00:00.5+01:00", kNow), kNow + absl::Milliseconds(500));
  EXPECT_EQ(*ParseTimeArg("2026-11-27", kNow), kNow);
  EXPECT_EQ(*ParseTimeArg("2h", kNow), kNow - absl::Hours(2));
  EXPECT_EQ(*ParseTimeArg("30d", kNow), kNow - absl::Hours(24 * 30));
  EXPECT_EQ(*ParseTimeArg(FormatRfc3339(absl::ToUnixMicros(kNow) + 7), kNow),
            kNow + absl::Microseconds(7));  // what the list footer prints reads back exactly
  for (const char* bad :
       {"yesterday", "2026-13-01", "2026-11-27T25:00:00Z", "2026-11-27 10:00", "", "-1h"}) {
    absl::StatusOr<absl::Time> t = ParseTimeArg(bad, kNow);
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(t.status().message(), HasSubstr("RFC 3339")) << bad;
  }
}

TEST(FormatTest, TimesAndSizes) {
  EXPECT_EQ(FormatUtc(absl::ToUnixMicros(kNow) + 1234567), "2026-11-27 00:00:01");
  EXPECT_EQ(FormatUtc(absl::ToUnixMicros(kNow) + 1234567, true), "2026-11-27 00:00:01.234567");
  EXPECT_EQ(FormatRfc3339(absl::ToUnixMicros(kNow) + 5), "2026-11-27T00:00:00.000005Z");
  EXPECT_EQ(HumanBytes(0), "0 B");
  EXPECT_EQ(HumanBytes(1023), "1023 B");
  EXPECT_EQ(HumanBytes(1024), "1.0 KiB");
  EXPECT_EQ(HumanBytes(1536), "1.5 KiB");
  EXPECT_EQ(HumanBytes(uint64_t{50} << 20), "50.0 MiB");
}

TEST(SanitizeTest, ControlBidiAndInvalidBytesBecomeQuestionMarks) {
  EXPECT_EQ(SanitizeForTerminal("Invoice \xC3\xA9t\xC3\xA9 \xE2\x82\xAC"),
            "Invoice \xC3\xA9t\xC3\xA9 \xE2\x82\xAC");  // UTF-8 stays
  EXPECT_EQ(SanitizeForTerminal("a\x1b]0;pwned\x07z"), "a?]0;pwned?z");
  EXPECT_EQ(SanitizeForTerminal("tab\there\r\n"), "tab?here??");
  EXPECT_EQ(SanitizeForTerminal("x\xC2\x9B"
                                "31mred"),
            "x?31mred");                                              // C1 CSI
  EXPECT_EQ(SanitizeForTerminal("exe.\xE2\x80\xAEtxt"), "exe.?txt");  // RIGHT-TO-LEFT OVERRIDE
  EXPECT_EQ(SanitizeForTerminal("bad \xFF\xC3 end"), "bad ?? end");   // invalid, truncated
  EXPECT_EQ(SanitizeForTerminal("\xC0\xAF"), "??");                   // overlong '/'
  EXPECT_EQ(SanitizeForTerminal(std::string("nul\0x", 5)), "nul?x");
}

TEST(TruncateTest, CutsOnCodePoints) {
  EXPECT_EQ(Truncate("short", 10), "short");
  EXPECT_EQ(Truncate("exactly-10", 10), "exactly-10");
  EXPECT_EQ(Truncate("a longer subject line", 10), "a longe...");
  // Ten two-byte letters cut to 7 code points + "...", never inside a letter.
  EXPECT_EQ(Truncate("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
                     "\xC3\xA9\xC3\xA9",
                     10),
            "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9...");
}

TEST(DisplayTextTest, SanitizedOrADash) {
  EXPECT_EQ(DisplayText(""), "-");
  EXPECT_EQ(DisplayText("desk-7"), "desk-7");
  EXPECT_EQ(DisplayText("a\x1b[2Jb"), "a?[2Jb");
}

TEST(ToJsonTest, CanonicalAndParsesBack) {
  v1::BackupRecord r;
  r.set_id("000641c2f3d7a000-0000000a");
  r.mutable_vm()->set_id("vm-a");
  r.set_created_unix_micros(absl::ToUnixMicros(kNow));
  r.set_action(v1::DELIVER_DISINFECTED);
  r.set_subject("Hello \"quoted\"");
  const std::string json = ToJson(r);
  EXPECT_THAT(json, HasSubstr("\"action\":\"DELIVER_DISINFECTED\""));
  EXPECT_THAT(json, HasSubstr("\"createdUnixMicros\":\""));
  EXPECT_THAT(json, HasSubstr("\"damage\":\"\""));  // every field printed
  v1::BackupRecord back;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &back).ok());
  EXPECT_EQ(back.SerializeAsString(), r.SerializeAsString());
}

}  // namespace
}  // namespace vmscan
