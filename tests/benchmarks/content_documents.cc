#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/benchmarks/content.h"
#include "tests/benchmarks/zip_writer.h"

namespace vmscan::bench {

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
                       Words(rng, 4), "</dc:title><dc:creator>", Words(rng, 1),
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
    const std::string stem = absl::StrCat(Words(rng, 1), "_", Words(rng, 1), "_", i);
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

}  // namespace vmscan::bench
