#include "host_server/backup/record_format.h"

#include <array>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace vmscan {
namespace {

constexpr char kMetadataVersion = 0x01;
constexpr size_t kMetadataHeader = 5;  // version byte + CRC.

constexpr std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
    table[i] = crc;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kCrcTable = MakeCrcTable();

// Part of on-disk format 1: never change it. 64 bytes from a xorshift32 seeded with a constant.
constexpr std::array<uint8_t, 64> MakeMask() {
  std::array<uint8_t, 64> mask{};
  uint32_t x = 0x766d7363;  // "vmsc"
  for (uint8_t& b : mask) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<uint8_t>(x >> 24);
  }
  return mask;
}
constexpr std::array<uint8_t, 64> kMask = MakeMask();

void PutFixed(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t GetFixed(absl::string_view in, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

}  // namespace

uint32_t Crc32c(absl::string_view data) {
  uint32_t crc = 0xffffffffu;
  for (char c : data) crc = kCrcTable[(crc ^ static_cast<uint8_t>(c)) & 0xff] ^ (crc >> 8);
  return crc ^ 0xffffffffu;
}

std::string EncodeMetadata(const v1::BackupRecord& record) {
  std::string body = record.SerializeAsString();
  std::string out;
  out.reserve(kMetadataHeader + body.size());
  out.push_back(kMetadataVersion);
  PutFixed(out, Crc32c(body), 4);
  out += body;
  return out;
}

absl::StatusOr<v1::BackupRecord> DecodeMetadata(absl::string_view value) {
  if (value.size() < kMetadataHeader) {
    return absl::DataLossError(absl::StrCat("metadata truncated to ", value.size(), " bytes"));
  }
  if (value[0] != kMetadataVersion) {
    return absl::DataLossError(
        absl::StrCat("unknown metadata format ", static_cast<int>(static_cast<uint8_t>(value[0]))));
  }
  absl::string_view body = value.substr(kMetadataHeader);
  if (GetFixed(value.substr(1), 4) != Crc32c(body)) {
    return absl::DataLossError("metadata checksum mismatch");
  }
  v1::BackupRecord record;
  if (!record.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return absl::DataLossError("metadata does not parse");
  }
  return record;
}

void MaskContent(std::string& data) {
  for (size_t i = 0; i < data.size(); ++i) data[i] ^= static_cast<char>(kMask[i % kMask.size()]);
}

std::string UnmaskContent(absl::string_view stored) {
  std::string out(stored);
  MaskContent(out);
  return out;
}

std::string EncodeTotals(const BackupTotals& totals) {
  std::string out;
  PutFixed(out, totals.records, 8);
  PutFixed(out, totals.original_bytes, 8);
  PutFixed(out, totals.stored_bytes, 8);
  return out;
}

absl::StatusOr<BackupTotals> DecodeTotals(absl::string_view value) {
  if (value.size() != 24) {
    return absl::DataLossError(absl::StrCat("totals are ", value.size(), " bytes, want 24"));
  }
  BackupTotals totals;
  totals.records = GetFixed(value, 8);
  totals.original_bytes = GetFixed(value.substr(8), 8);
  totals.stored_bytes = GetFixed(value.substr(16), 8);
  return totals;
}

}  // namespace vmscan
