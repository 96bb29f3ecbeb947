#include "tests/benchmarks/zip_writer.h"

#include <zlib.h>

#include <cstdlib>
#include <iostream>

namespace vmscan::bench {
namespace {

void Put16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v & 0xff));
  out->push_back(static_cast<char>(v >> 8));
}

void Put32(std::string* out, uint32_t v) {
  Put16(out, static_cast<uint16_t>(v & 0xffff));
  Put16(out, static_cast<uint16_t>(v >> 16));
}

constexpr uint16_t kDosDate = (1 << 5) | 1;  // 1980-01-01: the corpus must not depend on "now"

}  // namespace

std::string Deflate(absl::string_view data, bool raw, int level) {
  z_stream stream{};
  if (deflateInit2(&stream, level, Z_DEFLATED, raw ? -15 : 15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    std::cerr << "deflateInit2 failed\n";
    std::abort();
  }
  std::string out(deflateBound(&stream, data.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  if (deflate(&stream, Z_FINISH) != Z_STREAM_END) {
    std::cerr << "deflate failed\n";
    std::abort();
  }
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

void ZipWriter::Add(absl::string_view name, absl::string_view data, bool deflate) {
  const uint32_t crc = static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
  std::string packed;
  uint16_t method = 0;
  if (deflate) {
    packed = Deflate(data, /*raw=*/true);
    if (packed.size() < data.size()) {
      method = 8;
    } else {
      packed.clear();
    }
  }
  const absl::string_view stored = method == 8 ? absl::string_view(packed) : data;
  const uint32_t offset = static_cast<uint32_t>(body_.size());

  Put32(&body_, 0x04034b50);
  Put16(&body_, 20);  // version needed: 2.0
  Put16(&body_, 0);   // flags
  Put16(&body_, method);
  Put16(&body_, 0);  // time
  Put16(&body_, kDosDate);
  Put32(&body_, crc);
  Put32(&body_, static_cast<uint32_t>(stored.size()));
  Put32(&body_, static_cast<uint32_t>(data.size()));
  Put16(&body_, static_cast<uint16_t>(name.size()));
  Put16(&body_, 0);  // extra
  body_.append(name.data(), name.size());
  body_.append(stored.data(), stored.size());

  Put32(&central_, 0x02014b50);
  Put16(&central_, 0x0314);  // made by: Unix, 2.0
  Put16(&central_, 20);
  Put16(&central_, 0);
  Put16(&central_, method);
  Put16(&central_, 0);
  Put16(&central_, kDosDate);
  Put32(&central_, crc);
  Put32(&central_, static_cast<uint32_t>(stored.size()));
  Put32(&central_, static_cast<uint32_t>(data.size()));
  Put16(&central_, static_cast<uint16_t>(name.size()));
  Put16(&central_, 0);  // extra
  Put16(&central_, 0);  // comment
  Put16(&central_, 0);  // disk
  Put16(&central_, 0);  // internal attributes
  Put32(&central_, 0100644u << 16);
  Put32(&central_, offset);
  central_.append(name.data(), name.size());
  ++entries_;
}

std::string ZipWriter::Finish() && {
  const uint32_t central_offset = static_cast<uint32_t>(body_.size());
  std::string out = std::move(body_);
  out.append(central_);
  Put32(&out, 0x06054b50);
  Put16(&out, 0);
  Put16(&out, 0);
  Put16(&out, entries_);
  Put16(&out, entries_);
  Put32(&out, static_cast<uint32_t>(central_.size()));
  Put32(&out, central_offset);
  Put16(&out, 0);
  return out;
}

}  // namespace vmscan::bench
