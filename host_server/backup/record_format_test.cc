#include "host_server/backup/record_format.h"

#include "gtest/gtest.h"

namespace vmscan {
namespace {

TEST(RecordFormatTest, Crc32cKnownVector) {
  // RFC 3720 B.4 check value.
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
}

v1::BackupRecord Sample() {
  v1::BackupRecord record;
  record.set_id("00062a1b2c3d4e5f-9f8e7d6c");
  record.mutable_vm()->set_id("vm-1");
  record.set_subject("hello");
  record.add_threats()->set_name("Eicar-Test-Signature");
  record.set_size(1234);
  return record;
}

TEST(RecordFormatTest, MetadataRoundTrip) {
  absl::StatusOr<v1::BackupRecord> back = DecodeMetadata(EncodeMetadata(Sample()));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->SerializeAsString(), Sample().SerializeAsString());
}

TEST(RecordFormatTest, EveryFlippedByteOfMetadataIsDetected) {
  const std::string good = EncodeMetadata(Sample());
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] ^= 0x20;
    EXPECT_EQ(DecodeMetadata(bad).status().code(), absl::StatusCode::kDataLoss) << "byte " << i;
  }
  EXPECT_EQ(DecodeMetadata(good.substr(0, 4)).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeMetadata(good.substr(0, good.size() - 1)).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(RecordFormatTest, MaskIsAnInvolutionThatHidesTheInput) {
  const std::string plain = std::string("X5O!P%@AP[4\\PZX54(P^)7CC)7}") + std::string(100, '\0');
  std::string masked = plain;
  MaskContent(masked);
  EXPECT_EQ(masked.size(), plain.size());
  EXPECT_EQ(masked.find("X5O!P"), std::string::npos);
  size_t same = 0;
  for (size_t i = 0; i < plain.size(); ++i) same += masked[i] == plain[i];
  EXPECT_LT(same, plain.size() / 16);
  EXPECT_EQ(UnmaskContent(masked), plain);
}

TEST(RecordFormatTest, TotalsRoundTrip) {
  BackupTotals totals{3, uint64_t{1} << 40, 0xfedcba9876543210};
  absl::StatusOr<BackupTotals> back = DecodeTotals(EncodeTotals(totals));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->records, 3u);
  EXPECT_EQ(back->original_bytes, uint64_t{1} << 40);
  EXPECT_EQ(back->stored_bytes, 0xfedcba9876543210u);
  EXPECT_EQ(DecodeTotals("short").status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace vmscan
