// The one adapter between libzstd and vmscan: zstd error codes become absl::Status here
// (ZstdStatus), and its contexts are owned by RAII pointers for the duration of one call.
//
//   VMSCAN_ASSIGN_OR_RETURN(std::string frame, ZstdCompress(message, 3));
//   VMSCAN_ASSIGN_OR_RETURN(std::string back, ZstdDecompress(frame, message.size()));
//
// Thread-safe: every call uses its own context (a context costs far less than the fsync that
// follows every backup).
#ifndef VMSCAN_HOST_SERVER_BACKUP_ZSTD_CODEC_H_
#define VMSCAN_HOST_SERVER_BACKUP_ZSTD_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vmscan {

// Maps a zstd result to a Status: OK unless ZSTD_isError(code). Damaged input (corruption,
// checksum mismatch, wrong size) is DataLoss; allocation failure ResourceExhausted.
absl::Status ZstdStatus(size_t code, absl::string_view what);

// One zstd frame that records the content size and a content checksum, so that damage is
// detected on decompression.
absl::StatusOr<std::string> ZstdCompress(absl::string_view data, int level);

// Decompresses `frame`, which must expand to exactly `expected_size` bytes (the caller knows the
// size, so a damaged header cannot make us allocate an arbitrary amount). DataLoss otherwise.
absl::StatusOr<std::string> ZstdDecompress(absl::string_view frame, uint64_t expected_size);

// The content size written in the frame header, if the header is readable and holds one.
std::optional<uint64_t> ZstdFrameContentSize(absl::string_view frame);

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_BACKUP_ZSTD_CODEC_H_
