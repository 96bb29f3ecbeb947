#include "host_server/backup/backup_id.h"

#include <limits>

#include "gtest/gtest.h"

namespace vmscan {
namespace {

TEST(BackupIdTest, FormatIsFixedWidthLowerHex) {
  EXPECT_EQ(FormatBackupId(0x62a1b2c3d4e5f, 0x9f8e7d6c), "00062a1b2c3d4e5f-9f8e7d6c");
  EXPECT_EQ(FormatBackupId(0, 0), "0000000000000000-00000000");
  EXPECT_EQ(FormatBackupId(1, 1).size(), kBackupIdLength);
}

TEST(BackupIdTest, RoundTrip) {
  for (int64_t micros :
       {int64_t{0}, int64_t{1}, int64_t{1732680000123456}, std::numeric_limits<int64_t>::max()}) {
    absl::StatusOr<int64_t> parsed = ParseBackupId(FormatBackupId(micros, 0xdeadbeef));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, micros);
  }
}

TEST(BackupIdTest, SortsByTime) {
  EXPECT_LT(FormatBackupId(0xff, 0xffffffff), FormatBackupId(0x100, 0));
  EXPECT_LT(BackupIdLowerBound(5), FormatBackupId(5, 0x1));
  EXPECT_LT(FormatBackupId(4, 0xffffffff), BackupIdLowerBound(5));
}

TEST(BackupIdTest, RejectsMalformed) {
  for (const char* bad :
       {"", "00062a1b2c3d4e5f", "00062a1b2c3d4e5f-9f8e7d6", "00062a1b2c3d4e5f-9f8e7d6c0",
        "00062A1B2C3D4E5F-9F8E7D6C", "00062a1b2c3d4e5f_9f8e7d6c", "00062a1b2c3d4e5g-9f8e7d6c",
        "80062a1b2c3d4e5f-9f8e7d6c", "../../etc/passwd-00000000"}) {
    absl::StatusOr<int64_t> parsed = ParseBackupId(bad);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace vmscan
