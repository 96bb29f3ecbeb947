#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "tests/benchmarks/content.h"
#include "tests/benchmarks/zip_writer.h"

namespace vmscan::bench {
namespace {

// Big-endian helpers for JPEG and PNG.
void PutBe16(std::string* out, uint32_t v) {
  out->push_back(static_cast<char>((v >> 8) & 0xff));
  out->push_back(static_cast<char>(v & 0xff));
}
void PutBe32(std::string* out, uint32_t v) {
  PutBe16(out, v >> 16);
  PutBe16(out, v & 0xffff);
}

// Entropy-coded JPEG data: MSB-first bits with 0xFF byte stuffing.
class BitWriter {
 public:
  void Put(uint32_t bits, int count) {
    for (int i = count - 1; i >= 0; --i) {
      acc_ = static_cast<uint8_t>((acc_ << 1) | ((bits >> i) & 1));
      if (++filled_ == 8) Flush();
    }
  }
  std::string Finish() && {
    while (filled_ != 0) Put(1, 1);  // pad with ones
    return std::move(out_);
  }
  size_t size() const { return out_.size(); }

 private:
  void Flush() {
    out_.push_back(static_cast<char>(acc_));
    if (acc_ == 0xff) out_.push_back('\0');
    acc_ = 0;
    filled_ = 0;
  }
  std::string out_;
  uint8_t acc_ = 0;
  int filled_ = 0;
};

struct HuffTable {
  uint8_t counts[16];  // codes of length 1..16
  std::vector<uint8_t> symbols;
  uint16_t code[256] = {};
  uint8_t length[256] = {};
};

// Canonical codes as JPEG decoders derive them (ITU T.81 Annex C).
void AssignCodes(HuffTable* t) {
  uint16_t code = 0;
  size_t k = 0;
  for (int len = 1; len <= 16; ++len) {
    for (int i = 0; i < t->counts[len - 1]; ++i) {
      t->code[t->symbols[k]] = code++;
      t->length[t->symbols[k]] = static_cast<uint8_t>(len);
      ++k;
    }
    code <<= 1;
  }
}

// Small custom tables (valid, no all-ones code): DC categories 0..5; AC symbols EOB, run 0 with
// sizes 1..4, and a few runs.
HuffTable DcTable() {
  HuffTable t{{0, 2, 3, 1}, {0, 1, 2, 3, 4, 5}};
  AssignCodes(&t);
  return t;
}
HuffTable AcTable() {
  HuffTable t{{0, 2, 3, 1, 1, 1}, {0x01, 0x02, 0x00, 0x03, 0x11, 0x04, 0x21, 0x12}};
  AssignCodes(&t);
  return t;
}

void PutHuffSegment(std::string* out, const HuffTable& t, uint8_t class_id) {
  out->append("\xff\xc4", 2);
  PutBe16(out, static_cast<uint32_t>(2 + 1 + 16 + t.symbols.size()));
  out->push_back(static_cast<char>(class_id));
  out->append(reinterpret_cast<const char*>(t.counts), 16);
  out->append(reinterpret_cast<const char*>(t.symbols.data()), t.symbols.size());
}

void EncodeBlock(Rng& rng, const HuffTable& dc, const HuffTable& ac, int* predictor,
                 BitWriter* bits) {
  // DC difference: category 0..5, steered back towards 0 so that the image stays in range.
  const int category = static_cast<int>(rng.Below(6));
  int diff = 0;
  if (category > 0) {
    const int lo = 1 << (category - 1);
    const int magnitude = lo + static_cast<int>(rng.Below(static_cast<uint64_t>(lo)));
    bool negative = rng.Chance(0.5);
    if (*predictor > 60) negative = true;
    if (*predictor < -60) negative = false;
    diff = negative ? -magnitude : magnitude;
  }
  *predictor += diff;
  bits->Put(dc.code[category], dc.length[category]);
  if (category > 0) {
    const uint32_t raw =
        diff > 0 ? static_cast<uint32_t>(diff) : static_cast<uint32_t>(diff + (1 << category) - 1);
    bits->Put(raw, category);
  }
  // AC: 8..40 coefficients, mostly consecutive, then end-of-block.
  static constexpr uint8_t kSymbols[] = {0x01, 0x01, 0x02, 0x02, 0x02, 0x03,
                                         0x03, 0x04, 0x11, 0x21, 0x12};
  const int n = static_cast<int>(rng.Range(8, 40));
  int k = 1;
  for (int i = 0; i < n && k + 3 <= 63; ++i) {
    const uint8_t symbol = kSymbols[rng.Below(sizeof(kSymbols))];
    const int run = symbol >> 4;
    const int size = symbol & 15;
    bits->Put(ac.code[symbol], ac.length[symbol]);
    bits->Put(static_cast<uint32_t>(rng.Below(1u << size)), size);
    k += run + 1;
  }
  bits->Put(ac.code[0x00], ac.length[0x00]);
}

}  // namespace

std::string Jpeg(Rng& rng, size_t bytes) {
  static const HuffTable kDc = DcTable();
  static const HuffTable kAc = AcTable();
  // About 18 bytes per 8x8 block, as in a photo; rows of blocks until the size is reached.
  const double blocks = std::max(1.0, static_cast<double>(bytes) / 18.0);
  const int blocks_wide = std::clamp(static_cast<int>(std::sqrt(blocks * 1.5)), 1, 512);
  const size_t data_bytes = bytes > 700 ? bytes - 700 : 1;
  BitWriter bits;
  int predictor = 0;
  int rows = 0;
  do {
    for (int b = 0; b < blocks_wide; ++b) EncodeBlock(rng, kDc, kAc, &predictor, &bits);
    ++rows;
  } while (bits.size() < data_bytes && rows < 65535 / 8);

  std::string out("\xff\xd8\xff\xe0", 4);
  PutBe16(&out, 16);
  out.append("JFIF\0\1\1\0\0\1\0\1\0\0", 14);
  out.append("\xff\xdb", 2);  // quantization table 0
  PutBe16(&out, 67);
  out.push_back('\0');
  for (int i = 0; i < 64; ++i) out.push_back(static_cast<char>(4 + i / 4));
  out.append("\xff\xc0", 2);  // baseline, one component
  PutBe16(&out, 11);
  out.push_back(8);
  PutBe16(&out, static_cast<uint32_t>(rows * 8));
  PutBe16(&out, static_cast<uint32_t>(blocks_wide * 8));
  out.append("\x01\x01\x11\x00", 4);
  PutHuffSegment(&out, kDc, 0x00);
  PutHuffSegment(&out, kAc, 0x10);
  out.append("\xff\xda", 2);
  PutBe16(&out, 8);
  out.append("\x01\x01\x00\x00\x3f\x00", 6);
  out += std::move(bits).Finish();
  out.append("\xff\xd9", 2);
  return out;
}

std::string Png(Rng& rng, size_t bytes) {
  // Photo-like pixels compress to roughly 60% at zlib level 1; sized from that estimate.
  const uint32_t width = bytes < (64u << 10) ? 128 : 1024;
  const size_t row_bytes = 1 + 3 * static_cast<size_t>(width);
  const size_t rows = std::max<size_t>(1, static_cast<size_t>(bytes / (row_bytes * 0.6)));
  std::string raw(rows * row_bytes, '\0');
  std::string noise = rng.Bytes(raw.size());
  const int r0 = static_cast<int>(rng.Below(256));
  const int g0 = static_cast<int>(rng.Below(256));
  for (size_t y = 0; y < rows; ++y) {
    char* row = raw.data() + y * row_bytes;
    row[0] = 0;  // filter: none
    for (uint32_t x = 0; x < width; ++x) {
      const uint8_t n = static_cast<uint8_t>(noise[y * row_bytes + x]) & 0x1f;
      row[1 + 3 * x] = static_cast<char>((r0 + x / 4 + n) & 0xff);
      row[2 + 3 * x] = static_cast<char>((g0 + y / 4 + n) & 0xff);
      row[3 + 3 * x] = static_cast<char>(((x + y) / 8 + n) & 0xff);
    }
  }
  auto chunk = [](std::string* out, const char* type, absl::string_view data) {
    PutBe32(out, static_cast<uint32_t>(data.size()));
    std::string typed(type, 4);
    typed.append(data.data(), data.size());
    out->append(typed);
    PutBe32(out, static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(typed.data()),
                                             static_cast<uInt>(typed.size()))));
  };
  std::string ihdr;
  PutBe32(&ihdr, width);
  PutBe32(&ihdr, static_cast<uint32_t>(rows));
  ihdr.append("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB, deflate, no filter, no interlace
  std::string out("\x89PNG\r\n\x1a\n", 8);
  chunk(&out, "IHDR", ihdr);
  chunk(&out, "IDAT", Deflate(raw, /*raw=*/false));
  chunk(&out, "IEND", "");
  return out;
}

}  // namespace vmscan::bench
