#include "tools/vmscanctl/backup_format.h"

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmscan {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const absl::Time kNow = absl::FromUnixSeconds(1795737600);  // 2026-11-27T00:00:00Z

TEST(ParseActionArgTest, NamesAndAlias) {
  EXPECT_EQ(*ParseActionArg("DELETE"), v1::DELETE);
  EXPECT_EQ(*ParseActionArg("delete"), v1::DELETE);
  EXPECT_EQ(*ParseActionArg("DELIVER_DISINFECTED"), v1::DELIVER_DISINFECTED);
  EXPECT_EQ(*ParseActionArg("disinfected"), v1::DELIVER_DISINFECTED);
  EXPECT_FALSE(ParseActionArg("BLOCK").ok());  // never backed up
  EXPECT_FALSE(ParseActionArg("").ok());
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

}  // namespace
}  // namespace vmscan
