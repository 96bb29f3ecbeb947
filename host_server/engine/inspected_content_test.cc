#include "host_server/engine/inspected_content.h"

#include "common/sha256.h"
#include "gtest/gtest.h"

namespace vmscan {
namespace {

TEST(TextFingerprintTest, CrlfAndLfLineEndsAreTheSameText) {
  EXPECT_EQ(TextFingerprint("a\r\nb\r\nc"), TextFingerprint("a\nb\nc"));
  EXPECT_EQ(TextFingerprint("a\r\nb\r\nc"), Sha256Hex("a\nb\nc"));
}

TEST(TextFingerprintTest, TrailingLineEndsAreDropped) {
  EXPECT_EQ(TextFingerprint("hello\r\n"), TextFingerprint("hello\n\n"));
  EXPECT_EQ(TextFingerprint("hello\r\n\r\n\n"), Sha256Hex("hello"));
  EXPECT_EQ(TextFingerprint("\r\n\n"), Sha256Hex(""));
}

TEST(TextFingerprintTest, OtherCarriageReturnsAreContent) {
  EXPECT_NE(TextFingerprint("a\rb"), TextFingerprint("ab"));
  EXPECT_NE(TextFingerprint("a\r"), TextFingerprint("a"));
  EXPECT_EQ(TextFingerprint("a\r\r\nb"), Sha256Hex("a\r\nb"));  // only the CR before LF goes
  EXPECT_NE(TextFingerprint("x\ny"), TextFingerprint("xy"));
}

TEST(InspectedContentTest, ExactMatchesAnyPartTextMatchesOnlyTextBodies) {
  InspectedContent inspected;
  EXPECT_FALSE(inspected.Covers("hello", true));
  inspected.exact.insert(Sha256Hex("binary\r\n"));
  inspected.text.insert(TextFingerprint("line one\nline two\n"));
  EXPECT_TRUE(inspected.Covers("binary\r\n", false));
  EXPECT_FALSE(inspected.Covers("binary\n", false));
  EXPECT_TRUE(inspected.Covers("line one\r\nline two\r\n", true));
  EXPECT_FALSE(inspected.Covers("line one\r\nline two\r\n", false));
  EXPECT_FALSE(inspected.Covers("line one\r\nline 2\r\n", true));
}

}  // namespace
}  // namespace vmscan
