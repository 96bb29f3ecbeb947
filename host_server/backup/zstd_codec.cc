#include "host_server/backup/zstd_codec.h"

#include <zstd.h>
#include <zstd_errors.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace vmscan {
namespace {

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* ctx) const { ZSTD_freeCCtx(ctx); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* ctx) const { ZSTD_freeDCtx(ctx); }
};

absl::StatusCode CodeFor(ZSTD_ErrorCode code) {
  switch (code) {
    case ZSTD_error_memory_allocation:
      return absl::StatusCode::kResourceExhausted;
    case ZSTD_error_prefix_unknown:
    case ZSTD_error_frameParameter_unsupported:
    case ZSTD_error_frameParameter_windowTooLarge:
    case ZSTD_error_corruption_detected:
    case ZSTD_error_checksum_wrong:
    case ZSTD_error_literals_headerWrong:
    case ZSTD_error_tableLog_tooLarge:
    case ZSTD_error_maxSymbolValue_tooLarge:
    case ZSTD_error_maxSymbolValue_tooSmall:
    case ZSTD_error_dictionary_corrupted:
    case ZSTD_error_dictionary_wrong:
    case ZSTD_error_srcSize_wrong:
    case ZSTD_error_dstSize_tooSmall:
      return absl::StatusCode::kDataLoss;
    default:
      return absl::StatusCode::kInternal;
  }
}

}  // namespace

absl::Status ZstdStatus(size_t code, absl::string_view what) {
  if (!ZSTD_isError(code)) return absl::OkStatus();
  return absl::Status(CodeFor(ZSTD_getErrorCode(code)),
                      absl::StrCat(what, ": ", ZSTD_getErrorName(code)));
}

absl::StatusOr<std::string> ZstdCompress(absl::string_view data, int level) {
  std::unique_ptr<ZSTD_CCtx, CCtxDeleter> ctx(ZSTD_createCCtx());
  if (ctx == nullptr) return absl::ResourceExhaustedError("zstd: cannot create a context");
  VMSCAN_RETURN_IF_ERROR(
      ZstdStatus(ZSTD_CCtx_setParameter(ctx.get(), ZSTD_c_compressionLevel, level), "zstd level"));
  VMSCAN_RETURN_IF_ERROR(
      ZstdStatus(ZSTD_CCtx_setParameter(ctx.get(), ZSTD_c_checksumFlag, 1), "zstd checksum"));
  // One-shot compression writes the content size into the frame header by itself.
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t n = ZSTD_compress2(ctx.get(), out.data(), out.size(), data.data(), data.size());
  VMSCAN_RETURN_IF_ERROR(ZstdStatus(n, "zstd compress"));
  out.resize(n);
  return out;
}

absl::StatusOr<std::string> ZstdDecompress(absl::string_view frame, uint64_t expected_size) {
  std::optional<uint64_t> header_size = ZstdFrameContentSize(frame);
  if (!header_size.has_value() || *header_size != expected_size) {
    return absl::DataLossError(
        absl::StrCat("zstd frame header does not announce the expected ", expected_size, " bytes"));
  }
  std::unique_ptr<ZSTD_DCtx, DCtxDeleter> ctx(ZSTD_createDCtx());
  if (ctx == nullptr) return absl::ResourceExhaustedError("zstd: cannot create a context");
  std::string out(expected_size, '\0');
  size_t n = ZSTD_decompressDCtx(ctx.get(), out.data(), out.size(), frame.data(), frame.size());
  VMSCAN_RETURN_IF_ERROR(ZstdStatus(n, "zstd decompress"));
  if (n != expected_size) {
    return absl::DataLossError(
        absl::StrCat("zstd frame expanded to ", n, " bytes, expected ", expected_size));
  }
  return out;
}

std::optional<uint64_t> ZstdFrameContentSize(absl::string_view frame) {
  unsigned long long size = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR) return std::nullopt;
  return size;
}

}  // namespace vmscan
