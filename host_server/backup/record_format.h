// How a backup record is laid out in LMDB (on-disk format version 1). Three named databases:
//
//   "meta"    id -> [0x01][CRC-32C of the rest, little endian][serialized v1::BackupRecord]
//   "content" id -> zstd frame of the original (content size + checksum) XOR a fixed mask
//   "info"    "totals" -> records, original bytes, stored bytes (3 x uint64 little endian)
//
// The CRC makes a damaged metadata value an error instead of a plausible wrong record (protobuf
// parses most flipped bytes without complaint). The mask keeps byte runs of the original out of
// data.mdb: zstd stores incompressible blocks and short literals verbatim, and a malware
// signature found by a file scanner in data.mdb would get the whole backup store quarantined.
// The mask is fixed: it is not encryption, only "cannot be opened or matched by accident".
#ifndef VMSCAN_HOST_SERVER_BACKUP_RECORD_FORMAT_H_
#define VMSCAN_HOST_SERVER_BACKUP_RECORD_FORMAT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "vmscan/v1/backup.pb.h"

namespace vmscan {

inline constexpr char kMetaDbName[] = "meta";
inline constexpr char kPendingDbName[] = "pending_restores";
inline constexpr char kContentDbName[] = "content";
inline constexpr char kInfoDbName[] = "info";
inline constexpr char kTotalsKey[] = "totals";

// CRC-32C (Castagnoli), as in iSCSI and LevelDB.
uint32_t Crc32c(absl::string_view data);

std::string EncodeMetadata(const v1::BackupRecord& record);
// DataLoss if the value is not exactly what EncodeMetadata wrote.
absl::StatusOr<v1::BackupRecord> DecodeMetadata(absl::string_view value);

// XORs `data` in place with the content mask; applying it twice restores the input.
void MaskContent(std::string& data);
// Unmasked copy of a stored content value.
std::string UnmaskContent(absl::string_view stored);

struct BackupTotals {
  uint64_t records = 0;
  uint64_t original_bytes = 0;
  uint64_t stored_bytes = 0;
};
std::string EncodeTotals(const BackupTotals& totals);
// DataLoss unless `value` is 24 bytes.
absl::StatusOr<BackupTotals> DecodeTotals(absl::string_view value);

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_BACKUP_RECORD_FORMAT_H_
