#include "guest_agent/smtp_proxy/data_reader.h"

#include <random>
#include <string>

#include "gtest/gtest.h"

namespace vmscan {
namespace {

struct Decoded {
  bool done;
  size_t used;
  bool bare;
  bool too_large;
  std::string message;
};

Decoded Decode(absl::string_view data, bool normalize = false, uint64_t max = 1 << 20,
               size_t piece = 0) {
  DataReader reader(max, normalize);
  size_t used = 0;
  if (piece == 0) piece = data.size();
  while (used < data.size() && !reader.done()) {
    absl::string_view chunk = data.substr(used, piece);
    used += reader.Consume(chunk);
  }
  return {reader.done(), used, reader.bare_line_ending(), reader.too_large(), reader.message()};
}

TEST(DataReaderTest, EndsOnlyAtCrlfDotCrlfAndLeavesWhatFollows) {
  const std::string data = "Subject: x\r\n\r\nhello\r\n.\r\nQUIT\r\n";
  for (size_t piece : {0, 1, 2, 3, 7}) {
    Decoded d = Decode(data, false, 1 << 20, piece);
    EXPECT_TRUE(d.done);
    EXPECT_EQ(d.message, "Subject: x\r\n\r\nhello\r\n");
    EXPECT_EQ(data.substr(d.used), "QUIT\r\n") << "piece " << piece;
    EXPECT_FALSE(d.bare);
  }
}

TEST(DataReaderTest, UndoesDotStuffingAndDotStuffRedoesIt) {
  Decoded d = Decode("..leading dot\r\n...\r\nx.\r\n.\r\n");
  ASSERT_TRUE(d.done);
  EXPECT_EQ(d.message, ".leading dot\r\n..\r\nx.\r\n");
  EXPECT_EQ(DotStuff(d.message), "..leading dot\r\n...\r\nx.\r\n.\r\n");
  EXPECT_EQ(DotStuff(""), ".\r\n");
  EXPECT_EQ(DotStuff("no final newline"), "no final newline\r\n.\r\n");
}

TEST(DataReaderTest, EmptyMessage) {
  Decoded d = Decode(".\r\n");
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.message, "");
}

// The smuggling variants: none of them ends DATA, each is flagged, and the real end still works.
TEST(DataReaderTest, SmugglingEndingsDoNotEndDataAndAreRefused) {
  for (const std::string bad : {"\n.\n", "\n.\r\n", "\r\n.\n", "\r.\r", "\r.\r\n", "\n.\r"}) {
    const std::string data = "body" + bad + "MAIL FROM:<evil@x>\r\n.\r\nrest";
    Decoded d = Decode(data);
    EXPECT_TRUE(d.done);
    EXPECT_TRUE(d.bare) << "not flagged";
    EXPECT_EQ(data.substr(d.used), "rest") << "ended early";
  }
}

TEST(DataReaderTest, NormalizeTurnsBareEndingsIntoCrlfButNeverIntoAnEnd) {
  Decoded d = Decode("a\nb\rc\r\n.\r\n", /*normalize=*/true);
  ASSERT_TRUE(d.done);
  EXPECT_FALSE(d.bare);
  EXPECT_EQ(d.message, "a\r\nb\r\nc\r\n");
  // "<LF>.<CRLF>" becomes a data line holding a dot, which DotStuff doubles for the upstream.
  Decoded smuggle = Decode("x\n.\r\nMAIL FROM:<e@x>\r\n.\r\n", true);
  ASSERT_TRUE(smuggle.done);
  EXPECT_EQ(smuggle.message, "x\r\n.\r\nMAIL FROM:<e@x>\r\n");
  EXPECT_EQ(DotStuff(smuggle.message), "x\r\n..\r\nMAIL FROM:<e@x>\r\n.\r\n");
  Decoded lf_dot_lf = Decode("x\r\n.\nMAIL\r\n.\r\n", true);
  ASSERT_TRUE(lf_dot_lf.done);
  EXPECT_EQ(lf_dot_lf.message, "x\r\n.\r\nMAIL\r\n");
}

TEST(DataReaderTest, DotStuffDoublesDotsAfterBareEndingsToo) {
  EXPECT_EQ(DotStuff("a\n.\r\nb\r.x\r\n"), "a\n..\r\nb\r..x\r\n.\r\n");
}

TEST(DataReaderTest, TooLargeKeepsLookingForTheEnd) {
  std::string data(5000, 'a');
  data += "\r\n.\r\nQUIT\r\n";
  Decoded d = Decode(data, false, 1024, 100);
  EXPECT_TRUE(d.done);
  EXPECT_TRUE(d.too_large);
  EXPECT_TRUE(d.message.empty());
  EXPECT_EQ(data.substr(d.used), "QUIT\r\n");
}

TEST(DataReaderTest, EightBitAndNulBytesPassUnchanged) {
  std::string body("caf\xc3\xa9 \x00\xff\r\n", 10);
  Decoded d = Decode(body + ".\r\n");
  ASSERT_TRUE(d.done);
  EXPECT_EQ(d.message, body);
}

// Stuffing in pieces (the relay's way) gives the same stream as stuffing at once, wherever the
// pieces are cut: between CR and LF, right before a dot, one byte at a time.
TEST(DataReaderTest, DotStufferInPiecesEqualsDotStuff) {
  std::mt19937 rng(11);
  const char alphabet[] = {'a', '.', '\r', '\n', 'b'};
  for (int round = 0; round < 3000; ++round) {
    std::string message(rng() % 60, 'a');
    for (char& c : message) c = alphabet[rng() % sizeof(alphabet)];
    std::string pieces;
    DotStuffer stuffer;
    for (size_t pos = 0; pos < message.size();) {
      const size_t n = 1 + rng() % 7;
      stuffer.Add(absl::string_view(message).substr(pos, n), &pieces);
      pos += n;
    }
    stuffer.Finish(&pieces);
    ASSERT_EQ(pieces, DotStuff(message)) << "round " << round;
  }
}

TEST(DataReaderTest, FindLineBreakAgreesWithFindFirstOf) {
  std::mt19937 rng(7);
  const char alphabet[] = {'a', '.', '\r', '\n', '\0', 'x'};
  for (int round = 0; round < 2000; ++round) {
    std::string s(rng() % 1200, 'a');
    const unsigned density = 1 + rng() % 400;  // from dense line breaks to none in a window
    for (char& c : s) {
      if (rng() % density == 0) c = alphabet[rng() % sizeof(alphabet)];
    }
    for (size_t pos = 0; pos <= s.size() + 1; pos += 1 + rng() % 37) {
      ASSERT_EQ(FindLineBreak(s, pos), absl::string_view(s).find_first_of("\r\n", pos))
          << "round " << round << " pos " << pos;
    }
  }
  EXPECT_EQ(FindLineBreak("", 0), absl::string_view::npos);
  EXPECT_EQ(FindLineBreak(std::string(1000, 'a') + "\n", 3), 1000u);
  EXPECT_EQ(FindLineBreak(std::string(300, 'a') + "\r\n", 0), 300u);
}

}  // namespace
}  // namespace vmscan
