#include "tests/benchmarks/content.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "tests/benchmarks/zip_writer.h"

namespace vmscan::bench {
namespace {

constexpr const char* kWords[] = {
    "the",         "of",        "and",      "to",           "in",        "a",         "is",
    "that",        "for",       "it",       "as",           "was",       "with",      "be",
    "by",          "on",        "not",      "he",           "this",      "are",       "or",
    "his",         "from",      "at",       "which",        "but",       "have",      "an",
    "they",        "you",       "were",     "their",        "one",       "all",       "we",
    "can",         "her",       "has",      "there",        "been",      "if",        "more",
    "when",        "will",      "would",    "who",          "so",        "no",        "meeting",
    "report",      "quarter",   "budget",   "project",      "customer",  "delivery",  "invoice",
    "attached",    "please",    "review",   "schedule",     "update",    "team",      "office",
    "contract",    "proposal",  "figures",  "forecast",     "revenue",   "support",   "server",
    "network",     "migration", "desktop",  "security",     "policy",    "approval",  "deadline",
    "agenda",      "minutes",   "summary",  "regional",     "partner",   "product",   "release",
    "training",    "holiday",   "travel",   "expenses",     "payment",   "order",     "shipment",
    "warehouse",   "inventory", "analysis", "strategy",     "marketing", "campaign",  "newsletter",
    "subscribe",   "discount",  "offer",    "limited",      "members",   "community", "event",
    "conference",  "speaker",   "session",  "registration", "feedback",  "survey",    "results",
    "performance", "quality",   "standard", "compliance",   "audit",     "finance",   "legal",
    "department",  "manager",   "director", "colleague",    "assistant", "question",  "answer",
    "thanks",      "regards",   "tomorrow", "yesterday",    "morning",   "afternoon", "evening",
    "week",        "month",     "year",     "number",       "system",    "account",   "access",
    "password",    "document",  "version",  "changes",      "comments",  "draft",     "final",
};
constexpr size_t kWordCount = sizeof(kWords) / sizeof(kWords[0]);

const char* Word(Rng& rng) { return kWords[rng.Below(kWordCount)]; }

std::string Sentence(Rng& rng) {
  std::string s = Words(rng, static_cast<int>(rng.Range(6, 18)));
  if (!s.empty()) s[0] = static_cast<char>(s[0] - 'a' + 'A');
  s += rng.Chance(0.1) ? "?" : ".";
  return s;
}

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

std::string Words(Rng& rng, int count) {
  std::string s;
  for (int i = 0; i < count; ++i) {
    if (i > 0) s += rng.Chance(0.06) ? ", " : " ";
    s += Word(rng);
  }
  return s;
}

std::string Text(Rng& rng, size_t bytes) {
  std::string out;
  out.reserve(bytes + 256);
  while (out.size() < bytes) {
    size_t line_start = out.size();
    const int sentences = static_cast<int>(rng.Range(2, 7));
    for (int i = 0; i < sentences; ++i) {
      const int words = static_cast<int>(rng.Range(6, 18));
      for (int w = 0; w < words; ++w) {
        std::string word = Word(rng);
        if (w == 0) word[0] = static_cast<char>(word[0] - 'a' + 'A');
        if (w + 1 == words) word += rng.Chance(0.1) ? "?" : ".";
        if (out.size() > line_start && out.size() - line_start + 1 + word.size() > 72) {
          out += "\r\n";
          line_start = out.size();
        } else if (out.size() > line_start) {
          out += ' ';
        }
        out += word;
      }
    }
    out += "\r\n\r\n";
  }
  return out;
}

std::string Html(Rng& rng, size_t bytes) {
  std::string out =
      absl::StrCat("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>", Words(rng, 5),
                   "</title>\n<style>body{font-family:Arial,sans-serif;color:#333}td{padding:8px}"
                   ".btn{background:#0a66c2;color:#fff}</style></head>\n<body>\n"
                   "<table width=\"600\" align=\"center\" cellpadding=\"0\" cellspacing=\"0\">\n");
  while (out.size() + 40 < bytes) {
    const std::string id = rng.Hex(8);
    absl::StrAppend(&out, "<tr><td><h2 style=\"margin:0\">", Words(rng, 4), "</h2>\n");
    if (rng.Chance(0.4)) {
      absl::StrAppend(&out, "<img src=\"https://cdn.example.com/img/", id,
                      ".jpg\" width=\"560\" alt=\"", Words(rng, 3), "\">\n");
    }
    absl::StrAppend(&out, "<p style=\"font-size:14px;line-height:20px\">", Sentence(rng), " ",
                    Sentence(rng), " ", Sentence(rng), "</p>\n",
                    "<a class=\"btn\" href=\"https://news.example.com/t?c=", id,
                    "&amp;u=", rng.Hex(6), "\">", Words(rng, 2), "</a></td></tr>\n");
  }
  out += "</table></body></html>\n";
  return out;
}

std::string Csv(Rng& rng, size_t bytes) {
  std::string out = "date,region,product,units,revenue,comment\r\n";
  while (out.size() < bytes) {
    absl::StrAppend(&out, "2024-", rng.Range(1, 12), "-", rng.Range(1, 28), ",", Word(rng), ",",
                    Word(rng), ",", rng.Range(1, 5000), ",", rng.Range(100, 999999), ".",
                    rng.Range(10, 99), ",\"", Words(rng, static_cast<int>(rng.Range(2, 8))),
                    "\"\r\n");
  }
  return out;
}

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

std::string Pdf(Rng& rng, size_t bytes) {
  // 70% images (DCTDecode), 30% text pages (FlateDecode), as in scanned or illustrated reports.
  const size_t image_budget = bytes >= (32u << 10) ? bytes * 7 / 10 : 0;
  const int images =
      image_budget == 0 ? 0 : static_cast<int>(std::min<size_t>(4, 1 + bytes / (1u << 20)));
  const size_t text_budget = bytes - image_budget;
  const int pages = static_cast<int>(std::clamp<size_t>(text_budget / 1400, 1, 300));
  const size_t page_text = std::max<size_t>(400, text_budget * 3 / static_cast<size_t>(pages));

  std::string out("%PDF-1.5\n%\xe2\xe3\xcf\xd3\n");
  std::vector<size_t> offsets;  // offsets[i] = object i+1
  auto object = [&](const std::string& body) {
    offsets.push_back(out.size());
    absl::StrAppend(&out, offsets.size(), " 0 obj\n", body, "\nendobj\n");
    return offsets.size();
  };
  auto stream = [&](const std::string& dict, const std::string& data) {
    return object(
        absl::StrCat("<< ", dict, " /Length ", data.size(), " >>\nstream\n", data, "\nendstream"));
  };
  object("<< /Type /Catalog /Pages 2 0 R >>");
  offsets.push_back(0);  // object 2, the page tree: written once the kids are known
  object("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
  std::vector<size_t> image_ids;
  for (int i = 0; i < images; ++i) {
    std::string jpeg = Jpeg(rng, image_budget / static_cast<size_t>(images));
    image_ids.push_back(
        stream("/Type /XObject /Subtype /Image /Width 1024 /Height 768 /ColorSpace /DeviceGray "
               "/BitsPerComponent 8 /Filter /DCTDecode",
               jpeg));
  }
  std::vector<size_t> page_ids;
  for (int p = 0; p < pages; ++p) {
    std::string ops = "BT /F1 11 Tf 72 760 Td 14 TL\n";
    while (ops.size() < page_text) absl::StrAppend(&ops, "(", Sentence(rng), ") '\n");
    ops += "ET\n";
    std::string resources = "/Font << /F1 3 0 R >>";
    if (p < static_cast<int>(image_ids.size())) {
      absl::StrAppend(&ops, "q 450 0 0 340 72 80 cm /Im", p, " Do Q\n");
      absl::StrAppend(&resources, " /XObject << /Im", p, " ", image_ids[p], " 0 R >>");
    }
    const size_t content = stream("/Filter /FlateDecode", Deflate(ops, /*raw=*/false));
    page_ids.push_back(
        object(absl::StrCat("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] ",
                            "/Resources << ", resources, " >> /Contents ", content, " 0 R >>")));
  }
  std::string kids;
  for (size_t id : page_ids) absl::StrAppend(&kids, id, " 0 R ");
  offsets[1] = out.size();
  absl::StrAppend(&out, "2 0 obj\n<< /Type /Pages /Kids [", kids, "] /Count ", pages,
                  " >>\nendobj\n");
  const size_t xref = out.size();
  absl::StrAppend(&out, "xref\n0 ", offsets.size() + 1, "\n0000000000 65535 f \n");
  for (size_t offset : offsets) {
    std::string digits = absl::StrCat(offset);
    absl::StrAppend(&out, std::string(10 - digits.size(), '0'), digits, " 00000 n \n");
  }
  absl::StrAppend(&out, "trailer\n<< /Size ", offsets.size() + 1, " /Root 1 0 R >>\nstartxref\n",
                  xref, "\n%%EOF\n");
  return out;
}

std::string Docx(Rng& rng, size_t bytes) {
  const size_t image_budget = bytes >= (48u << 10) ? bytes * 6 / 10 : 0;
  // WordprocessingML deflates about 6:1.
  const size_t xml_bytes = std::min<size_t>((bytes - image_budget) * 6, 16u << 20);
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<w:document "
      "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>";
  while (xml.size() < xml_bytes) {
    absl::StrAppend(&xml, "<w:p><w:pPr><w:pStyle w:val=\"Normal\"/></w:pPr><w:r><w:rPr><w:lang ",
                    "w:val=\"en-US\"/></w:rPr><w:t xml:space=\"preserve\">", Sentence(rng), " ",
                    Sentence(rng), "</w:t></w:r></w:p>");
  }
  xml += "<w:sectPr/></w:body></w:document>";
  ZipWriter zip;
  zip.Add("[Content_Types].xml",
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types xmlns=\"http://schemas."
          "openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" "
          "ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default "
          "Extension=\"xml\" ContentType=\"application/xml\"/><Default Extension=\"jpeg\" "
          "ContentType=\"image/jpeg\"/><Override PartName=\"/word/document.xml\" "
          "ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml."
          "document.main+xml\"/></Types>",
          true);
  zip.Add("_rels/.rels",
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas."
          "openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" "
          "Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
          "officeDocument\" Target=\"word/document.xml\"/></Relationships>",
          true);
  zip.Add("docProps/core.xml",
          absl::StrCat("<?xml version=\"1.0\"?><cp:coreProperties xmlns:cp=\"http://schemas."
                       "openxmlformats.org/package/2006/metadata/core-properties\" "
                       "xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:title>",
                       Words(rng, 4), "</dc:title><dc:creator>", Word(rng),
                       "</dc:creator></cp:coreProperties>"),
          true);
  zip.Add("word/document.xml", xml, true);
  const int images = image_budget == 0 ? 0 : static_cast<int>(rng.Range(1, 3));
  for (int i = 0; i < images; ++i) {
    zip.Add(absl::StrCat("word/media/image", i + 1, ".jpeg"),
            Jpeg(rng, image_budget / static_cast<size_t>(images)), true);
  }
  return std::move(zip).Finish();
}

std::string Xlsx(Rng& rng, size_t bytes) {
  // SpreadsheetML of numbers deflates about 5:1.
  const size_t xml_bytes = std::min<size_t>(bytes * 5, 24u << 20);
  std::string sheet =
      "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<worksheet "
      "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>";
  int row = 1;
  while (sheet.size() < xml_bytes) {
    absl::StrAppend(&sheet, "<row r=\"", row, "\">");
    for (char col = 'A'; col <= 'H'; ++col) {
      if (col == 'B') {
        absl::StrAppend(&sheet, "<c r=\"", std::string(1, col), row, "\" t=\"s\"><v>",
                        rng.Below(200), "</v></c>");
      } else {
        absl::StrAppend(&sheet, "<c r=\"", std::string(1, col), row, "\"><v>",
                        rng.Range(0, 9999999), ".", rng.Range(0, 99), "</v></c>");
      }
    }
    sheet += "</row>";
    ++row;
  }
  sheet += "</sheetData></worksheet>";
  std::string strings =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><sst xmlns=\"http://schemas.openxmlformats.org/"
      "spreadsheetml/2006/main\" count=\"200\" uniqueCount=\"200\">";
  for (int i = 0; i < 200; ++i) absl::StrAppend(&strings, "<si><t>", Words(rng, 3), "</t></si>");
  strings += "</sst>";
  ZipWriter zip;
  zip.Add("[Content_Types].xml",
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types xmlns=\"http://schemas."
          "openxmlformats.org/package/2006/content-types\"><Default Extension=\"xml\" "
          "ContentType=\"application/xml\"/><Override PartName=\"/xl/workbook.xml\" "
          "ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet."
          "main+xml\"/></Types>",
          true);
  zip.Add("_rels/.rels",
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas."
          "openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" "
          "Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
          "officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>",
          true);
  zip.Add("xl/workbook.xml",
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?><workbook xmlns=\"http://schemas."
          "openxmlformats.org/spreadsheetml/2006/main\"><sheets><sheet name=\"Sheet1\" "
          "sheetId=\"1\"/></sheets></workbook>",
          true);
  zip.Add("xl/sharedStrings.xml", strings, true);
  zip.Add("xl/worksheets/sheet1.xml", sheet, true);
  return std::move(zip).Finish();
}

std::string Zip(Rng& rng, size_t bytes) {
  ZipWriter zip;
  const int members = static_cast<int>(rng.Range(2, 6));
  const size_t share = bytes / static_cast<size_t>(members);
  for (int i = 0; i < members; ++i) {
    const std::string stem = absl::StrCat(Word(rng), "_", Word(rng), "_", i);
    switch (rng.Below(5)) {
      case 0:
        zip.Add(stem + ".txt", Text(rng, share * 3), true);  // text deflates about 3:1
        break;
      case 1:
        zip.Add(stem + ".csv", Csv(rng, share * 3), true);
        break;
      case 2:
        zip.Add(stem + ".png", Png(rng, share), false);
        break;
      case 3:
        zip.Add(stem + ".docx", Docx(rng, share), false);
        break;
      default:
        zip.Add(stem + ".jpg", Jpeg(rng, share), true);
        break;
    }
  }
  return std::move(zip).Finish();
}

std::string Base64Lines(absl::string_view data) {
  std::string encoded;
  absl::Base64Escape(data, &encoded);
  std::string out;
  out.reserve(encoded.size() + encoded.size() / 76 * 2 + 2);
  for (size_t i = 0; i < encoded.size(); i += 76) {
    out.append(encoded, i, 76);
    out += "\r\n";
  }
  return out;
}

std::string QuotedPrintable(absl::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() + text.size() / 16);
  size_t column = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      out += "\r\n";
      column = 0;
      continue;
    }
    std::string piece;
    if ((c >= 33 && c <= 126 && c != '=') || c == ' ') {
      piece.assign(1, static_cast<char>(c));
    } else {
      piece = {'=', kHex[c >> 4], kHex[c & 15]};
    }
    if (column + piece.size() > 75) {
      out += "=\r\n";
      column = 0;
    }
    out += piece;
    column += piece.size();
  }
  return out;
}

}  // namespace vmscan::bench
