#include "tools/vmscanctl/format.h"

#include <google/protobuf/util/json_util.h>

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmscan {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

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

TEST(ParseActionArgTest, NamesAndAlias) {
  EXPECT_EQ(*ParseActionArg("DELETE"), v1::DELETE);
  EXPECT_EQ(*ParseActionArg("delete"), v1::DELETE);
  EXPECT_EQ(*ParseActionArg("DELIVER_DISINFECTED"), v1::DELIVER_DISINFECTED);
  EXPECT_EQ(*ParseActionArg("disinfected"), v1::DELIVER_DISINFECTED);
  EXPECT_FALSE(ParseActionArg("BLOCK").ok());  // never backed up
  EXPECT_FALSE(ParseActionArg("").ok());
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

v1::BackupRecord Record(const std::string& id, const std::string& vm, const std::string& subject) {
  v1::BackupRecord r;
  r.set_id(id);
  r.mutable_vm()->set_id(vm);
  r.set_created_unix_micros(absl::ToUnixMicros(kNow));
  r.set_action(v1::DELIVER_DISINFECTED);
  r.add_threats()->set_name("Eicar-Test-Signature.UNOFFICIAL");
  r.set_subject(subject);
  r.set_size(2048);
  return r;
}

TEST(FormatRecordTableTest, AlignedColumnsSanitizedAndCut) {
  v1::ListBackupsResponse response;
  *response.add_records() = Record("000641c2f3d7a000-0000000a", "vm-a", "Hello");
  *response.add_records() = Record("000641c2f3d7a001-0000000b", "a-much-longer-vm-id",
                                   "\x1b[31mA subject that is certainly longer than forty chars");
  v1::BackupRecord* damaged = response.add_records();
  damaged->set_id("000641c2f3d7a002-0000000c");
  damaged->set_created_unix_micros(absl::ToUnixMicros(kNow));
  damaged->set_damage("metadata checksum mismatch");
  damaged->set_stored_size(100);

  const std::string table = FormatRecordTable(response);
  std::vector<std::string> lines = absl::StrSplit(table, '\n');
  ASSERT_EQ(lines.size(), 6u) << table;  // header, 3 rows, count, ""
  EXPECT_THAT(lines[0], HasSubstr("ID"));
  EXPECT_THAT(lines[0], HasSubstr("TIME (UTC)"));
  // Every row starts its VM column where the header does.
  const size_t vm_column = lines[0].find("VM");
  EXPECT_EQ(lines[1].find("vm-a"), vm_column);
  EXPECT_EQ(lines[2].find("a-much-longer-vm-id"), vm_column);
  EXPECT_EQ(lines[3].find("?"), vm_column);
  EXPECT_THAT(lines[1], HasSubstr("2026-11-27 00:00:00"));
  EXPECT_THAT(lines[1], HasSubstr("DELIVER_DISINFECTED"));
  EXPECT_THAT(lines[1], HasSubstr("2.0 KiB"));
  EXPECT_THAT(table, Not(HasSubstr("\x1b")));
  EXPECT_THAT(lines[2], HasSubstr("?[31mA subject that is certainly long..."));
  EXPECT_THAT(lines[3], HasSubstr("DAMAGED"));
  EXPECT_THAT(lines[3], HasSubstr("metadata checksum mismatch"));
  EXPECT_EQ(lines[4], "3 records");
}

TEST(FormatRecordTableTest, EmptyAndNextPage) {
  EXPECT_EQ(FormatRecordTable(v1::ListBackupsResponse()), "no backup records match\n");
  v1::ListBackupsResponse response;
  *response.add_records() = Record("000641c2f3d7a000-0000000a", "vm-a", "Hello");
  response.set_next_until_unix_micros(absl::ToUnixMicros(kNow));
  EXPECT_THAT(FormatRecordTable(response),
              HasSubstr("1 record (more match: add --until 2026-11-27T00:00:00.000000Z"));
}

TEST(FormatRecordDetailsTest, EveryField) {
  v1::BackupRecord r = Record("000641c2f3d7a000-0000000a", "vm-a", "Hello");
  r.mutable_vm()->set_name("desk-7");
  r.mutable_vm()->set_hypervisor_host("hv1");
  r.set_channel(v1::POP3);
  r.set_direction(v1::INCOMING);
  r.set_envelope_sender("alice@example.org");
  r.add_recipients("bob@example.net");
  r.add_recipients("carol@example.net");
  r.set_message_id("<1@example.org>");
  r.mutable_threats(0)->set_part_path("2");
  r.mutable_threats(0)->set_filename("invoice.com");
  r.mutable_threats(0)->set_content_type("application/octet-stream");
  r.set_sha256(std::string(64, 'a'));
  r.set_stored_size(900);
  const std::string text = FormatRecordDetails(r);
  for (const char* want :
       {"id          000641c2f3d7a000-0000000a\n", "created     2026-11-27 00:00:00.000000 UTC\n",
        "vm          vm-a (name desk-7, host hv1)\n", "group       -\n",
        "channel     POP3, INCOMING\n", "sender      alice@example.org\n",
        "recipients  bob@example.net, carol@example.net\n", "subject     Hello\n",
        "message-id  <1@example.org>\n", "action      DELIVER_DISINFECTED\n",
        "threat      Eicar-Test-Signature.UNOFFICIAL in part 2 \"invoice.com\" "
        "(application/octet-stream)\n",
        "size        2048 bytes (2.0 KiB), stored in 900 bytes\n"}) {
    EXPECT_THAT(text, HasSubstr(want));
  }
  EXPECT_THAT(text, HasSubstr(std::string(64, 'a')));
}

TEST(FormatStatsTest, TotalsAndRatio) {
  v1::BackupStats stats;
  stats.set_records(2);
  stats.set_original_bytes(4096);
  stats.set_stored_bytes(1024);
  stats.set_oldest_unix_micros(absl::ToUnixMicros(kNow));
  stats.set_newest_unix_micros(absl::ToUnixMicros(kNow + absl::Hours(1)));
  stats.set_map_bytes(64 << 20);
  const std::string text = FormatStats(stats);
  EXPECT_THAT(text, HasSubstr("records        2\n"));
  EXPECT_THAT(text, HasSubstr("stored size    1.0 KiB (1024 bytes), 25% of the original\n"));
  EXPECT_THAT(text, HasSubstr("newest         2026-11-27 01:00:00 UTC\n"));
  EXPECT_THAT(FormatStats(v1::BackupStats()), HasSubstr("oldest         -\n"));
}

TEST(ToJsonTest, CanonicalAndParsesBack) {
  v1::BackupRecord r = Record("000641c2f3d7a000-0000000a", "vm-a", "Hello \"quoted\"");
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
