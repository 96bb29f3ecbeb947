#include "host_server/backup/zstd_codec.h"

#include <zstd_errors.h>

#include <string>

#include "gtest/gtest.h"
#include "tests/testing/test_mail.h"

namespace vmscan {
namespace {

using ::vmscan::testing::RandomBytes;

TEST(ZstdCodecTest, RoundTripsTextBinaryAndEmpty) {
  const std::string text(100000, 'a');
  for (const std::string& input :
       {std::string(), std::string("\0\x01\0", 3), text, RandomBytes(70000)}) {
    absl::StatusOr<std::string> frame = ZstdCompress(input, 3);
    ASSERT_TRUE(frame.ok()) << frame.status();
    EXPECT_EQ(ZstdFrameContentSize(*frame), input.size());
    absl::StatusOr<std::string> back = ZstdDecompress(*frame, input.size());
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, input);
  }
  EXPECT_LT(ZstdCompress(text, 3)->size(), text.size() / 100);
}

TEST(ZstdCodecTest, DamageIsDataLoss) {
  const std::string input = RandomBytes(5000) + std::string(5000, 'x');
  std::string frame = *ZstdCompress(input, 3);
  // A flipped byte in the body: caught by the frame checksum at the latest.
  std::string flipped = frame;
  flipped[frame.size() / 2] ^= 0x01;
  EXPECT_EQ(ZstdDecompress(flipped, input.size()).status().code(), absl::StatusCode::kDataLoss);
  // Truncated.
  EXPECT_EQ(ZstdDecompress(frame.substr(0, frame.size() - 3), input.size()).status().code(),
            absl::StatusCode::kDataLoss);
  // Not a zstd frame at all.
  EXPECT_EQ(ZstdDecompress("not zstd", 8).status().code(), absl::StatusCode::kDataLoss);
  // The caller's size disagrees with the header.
  EXPECT_EQ(ZstdDecompress(frame, input.size() + 1).status().code(), absl::StatusCode::kDataLoss);
}

TEST(ZstdCodecTest, StatusAdapter) {
  EXPECT_TRUE(ZstdStatus(0, "x").ok());
  absl::Status bad = ZstdStatus(static_cast<size_t>(-ZSTD_error_checksum_wrong), "decode");
  EXPECT_EQ(bad.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(bad.message().find("decode: "), absl::string_view::npos);
  EXPECT_EQ(ZstdStatus(static_cast<size_t>(-ZSTD_error_memory_allocation), "x").code(),
            absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace vmscan
