// Generators of realistic mail content for the benchmark corpus: English-like text, HTML
// newsletters, and attachments whose structure libclamav really parses — baseline JPEGs that
// decode (libclamav decodes images for its fuzzy hash), PNGs, PDFs with deflated content streams
// and embedded JPEGs, OOXML documents (docx, xlsx) and plain zip archives.
//
//   Rng rng(seed);
//   std::string pdf = Pdf(rng, 300 << 10);  // about 300 KiB
//
// Text in content_text.cc, images in content_images.cc, documents and archives in
// content_documents.cc. Every generator takes a target size in bytes and lands near it (within ~15%
// above a few KiB); the output depends only on the Rng's state. Stateless and thread-safe (each
// caller owns its Rng).
#ifndef VMSCAN_TESTS_BENCHMARKS_CONTENT_H_
#define VMSCAN_TESTS_BENCHMARKS_CONTENT_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "tests/benchmarks/rng.h"

namespace vmscan::bench {

// `count` words of English-like prose, no line breaks.
std::string Words(Rng& rng, int count);
// One capitalized sentence of 6 to 18 words.
std::string Sentence(Rng& rng);
// Paragraphs of prose wrapped at 72 columns, CRLF line ends.
std::string Text(Rng& rng, size_t bytes);
// An HTML newsletter: tables, styled paragraphs, tracking links, remote images.
std::string Html(Rng& rng, size_t bytes);
// A comma-separated table.
std::string Csv(Rng& rng, size_t bytes);

std::string Jpeg(Rng& rng, size_t bytes);  // grayscale baseline JPEG, decodable
std::string Png(Rng& rng, size_t bytes);   // RGB PNG, smooth gradient plus noise
std::string Pdf(Rng& rng, size_t bytes);   // text pages (FlateDecode) and DCT images
std::string Docx(Rng& rng, size_t bytes);  // WordprocessingML with embedded images
std::string Xlsx(Rng& rng, size_t bytes);  // SpreadsheetML with numbers and shared strings
std::string Zip(Rng& rng, size_t bytes);   // text, csv, images and a document

// RFC 2045 encodings with CRLF line ends: base64 in 76-column lines, quoted-printable.
std::string Base64Lines(absl::string_view data);
std::string QuotedPrintable(absl::string_view text);

}  // namespace vmscan::bench

#endif  // VMSCAN_TESTS_BENCHMARKS_CONTENT_H_
