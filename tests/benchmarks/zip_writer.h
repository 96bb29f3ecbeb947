// ZipWriter: builds a PKZIP archive in memory (stored or raw-deflate members, CRC-32 from zlib),
// for the office-like documents and zip attachments of the benchmark corpus.
//
//   ZipWriter zip;
//   zip.Add("word/document.xml", xml, /*deflate=*/true);
//   zip.Add("word/media/image1.jpeg", jpeg, /*deflate=*/false);
//   std::string bytes = std::move(zip).Finish();
//
// No encryption, no zip64 (members and archives stay far below 4 GiB). Not thread-safe.
#ifndef VMSCAN_TESTS_BENCHMARKS_ZIP_WRITER_H_
#define VMSCAN_TESTS_BENCHMARKS_ZIP_WRITER_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace vmscan::bench {

// zlib deflate at `level`; `raw` omits the zlib header (zip members), otherwise a zlib stream
// (PDF FlateDecode, PNG IDAT).
std::string Deflate(absl::string_view data, bool raw, int level = 1);

class ZipWriter {
 public:
  // A deflated member that does not shrink is stored instead, as zip tools do.
  void Add(absl::string_view name, absl::string_view data, bool deflate);
  std::string Finish() &&;

 private:
  std::string body_;
  std::string central_;
  uint16_t entries_ = 0;
};

}  // namespace vmscan::bench

#endif  // VMSCAN_TESTS_BENCHMARKS_ZIP_WRITER_H_
