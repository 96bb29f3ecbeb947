#include "tests/benchmarks/corpus.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/benchmarks/content.h"
#include "tests/benchmarks/rng.h"
#include "tests/benchmarks/zip_writer.h"

namespace vmscan::bench {
namespace {

// The EICAR test file, assembled so that this source is not itself detected.
std::string Eicar() {
  return absl::StrCat("X5O!P%@AP[4\\PZX54(P^)7CC)7}$", "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*");
}

struct Bucket {
  double weight;
  size_t lo;
  size_t hi;
};
// Roughly the size mix of business mail: most messages are short, most bytes are in the few big
// ones.
constexpr Bucket kMix[] = {
    {0.35, 2 << 10, 8 << 10},   {0.25, 8 << 10, 40 << 10}, {0.20, 40 << 10, 400 << 10},
    {0.12, 400 << 10, 2 << 20}, {0.06, 2 << 20, 5 << 20},  {0.02, 5 << 20, 10 << 20},
};

// The size at quantile `u` of the mix, log-uniform inside each bucket, capped at `max_bytes`.
size_t SizeAt(double u, size_t max_bytes) {
  for (const Bucket& b : kMix) {
    if (u < b.weight || &b == &kMix[std::size(kMix) - 1]) {
      const double t = std::clamp(u / b.weight, 0.0, 1.0);
      const double lo = std::log(static_cast<double>(b.lo));
      const double hi = std::log(static_cast<double>(b.hi));
      return std::min(max_bytes, static_cast<size_t>(std::exp(lo + t * (hi - lo))));
    }
    u -= b.weight;
  }
  return max_bytes;
}

enum class Kind { kPdf, kDocx, kXlsx, kZip, kJpeg, kPng };

Kind DrawKind(Rng& s, size_t raw_bytes) {
  // pdf 25, docx 15, xlsx 10, zip 15, jpeg 25, png 10; big spreadsheets are rare: pdf instead.
  const uint64_t r = s.Below(100);
  if (r < 25) return Kind::kPdf;
  if (r < 40) return Kind::kDocx;
  if (r < 50) return raw_bytes <= (2u << 20) ? Kind::kXlsx : Kind::kPdf;
  if (r < 65) return Kind::kZip;
  if (r < 90) return Kind::kJpeg;
  return Kind::kPng;
}

struct Attachment {
  std::string content_type;
  std::string filename;
  std::string data;
};

Attachment MakeAttachment(Kind kind, Rng& c, size_t raw_bytes) {
  const std::string stem = absl::StrCat(Words(c, 1), "_", c.Range(1000, 9999));
  switch (kind) {
    case Kind::kPdf:
      return {"application/pdf", stem + ".pdf", Pdf(c, raw_bytes)};
    case Kind::kDocx:
      return {"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
              stem + ".docx", Docx(c, raw_bytes)};
    case Kind::kXlsx:
      return {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", stem + ".xlsx",
              Xlsx(c, raw_bytes)};
    case Kind::kZip:
      return {"application/zip", stem + ".zip", Zip(c, raw_bytes)};
    case Kind::kJpeg:
      return {"image/jpeg", stem + ".jpg", Jpeg(c, raw_bytes)};
    case Kind::kPng:
      return {"image/png", stem + ".png", Png(c, raw_bytes)};
  }
  return {};
}

Attachment MakeThreat(Threat threat, Rng& c) {
  const std::string& exe = ClamExe();
  const bool have_exe = !exe.empty();
  switch (threat) {
    case Threat::kClamExe:
      if (have_exe) return {"application/x-msdownload", "setup.exe", exe};
      [[fallthrough]];
    case Threat::kEicar:
      return {"application/octet-stream", "eicar.com", Eicar()};
    case Threat::kClamExeInZip:
    case Threat::kEicarInZip: {
      ZipWriter zip;
      zip.Add("readme.txt", Text(c, 600), true);
      if (threat == Threat::kClamExeInZip && have_exe) {
        zip.Add("invoice.exe", exe, true);
      } else {
        zip.Add("invoice.com", Eicar(), true);
      }
      return {"application/zip", "invoice.zip", std::move(zip).Finish()};
    }
    case Threat::kNone:
      break;
  }
  return {};
}

// One MIME entity: header lines (without the final blank line) and the encoded body.
std::string Entity(const std::string& headers, const std::string& body) {
  return absl::StrCat(headers, "\r\n", body);
}

std::string TextEntity(const std::string& text) {
  return Entity("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n",
                text);
}

std::string HtmlEntity(const std::string& html) {
  return Entity(
      "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n",
      QuotedPrintable(html));
}

std::string AttachmentEntity(const Attachment& a, bool inline_image = false) {
  return Entity(
      absl::StrCat("Content-Type: ", a.content_type, "; name=\"", a.filename, "\"\r\n",
                   inline_image ? "Content-ID: <img1@example.net>\r\n" : "",
                   "Content-Disposition: ", inline_image ? "inline" : "attachment", "; filename=\"",
                   a.filename, "\"\r\nContent-Transfer-Encoding: base64\r\n"),
      Base64Lines(a.data));
}

std::string Multipart(Rng& c, const std::string& subtype, const std::vector<std::string>& parts) {
  const std::string boundary = absl::StrCat("=_", subtype, "_", c.Hex(12));
  std::string out = absl::StrCat("Content-Type: multipart/", subtype, "; boundary=\"", boundary,
                                 "\"\r\n\r\nThis is a multi-part message in MIME format.\r\n");
  for (const std::string& part : parts) absl::StrAppend(&out, "\r\n--", boundary, "\r\n", part);
  absl::StrAppend(&out, "\r\n--", boundary, "--\r\n");
  return out;
}

std::string Address(Rng& c, const std::string& domain) {
  const std::string first = Words(c, 1);
  const std::string last = Words(c, 1);
  return absl::StrCat("\"", first, " ", last, "\" <", first, ".", last, "@", domain, ">");
}

std::string DateHeader(int index) {
  const int minutes = 9 * 60 + index % 600;
  return absl::StrCat("Tue, 11 Jun 2024 ", minutes / 60 < 10 ? "0" : "", minutes / 60, ":",
                      minutes % 60 < 10 ? "0" : "", minutes % 60, ":00 +0200");
}

std::string Received(Rng& c, const std::string& by, const std::string& date) {
  return absl::StrCat("Received: from mx", c.Range(1, 9), ".example.net (mx.example.net [10.",
                      c.Range(0, 255), ".", c.Range(0, 255), ".", c.Range(1, 254), "])\r\n\tby ",
                      by, " with ESMTPS id ", c.Hex(6), ";\r\n\t", date, "\r\n");
}

// The message's own headers; VDI copies get their delivery headers from `copy`.
std::string Headers(Rng& c, const MessageSpec& spec) {
  const std::string date = DateHeader(spec.index);
  std::string to = Address(c, "corp.example");
  std::string delivery;
  if (spec.copy > 0) {
    to = absl::StrCat("<desk-", spec.copy, "@corp.example>");
    delivery = absl::StrCat("Delivered-To: desk-", spec.copy, "@corp.example\r\n");
  }
  std::string received;
  for (int i = 0; i < 3; ++i) absl::StrAppend(&received, Received(c, "mail.corp.example", date));
  std::string dkim_b;
  for (int i = 0; i < 4; ++i) absl::StrAppend(&dkim_b, "\r\n\t", c.Hex(38));
  return absl::StrCat(
      "Return-Path: <bounce-", c.Hex(5), "@example.net>\r\n", delivery, received,
      "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.net; s=sel1;\r\n"
      "\th=from:to:subject:date:message-id; bh=",
      c.Hex(22), ";\r\n\tb=", dkim_b, "\r\nFrom: ", Address(c, "example.net"), "\r\nTo: ", to,
      "\r\nSubject: ", Words(c, static_cast<int>(c.Range(3, 9))), "\r\nDate: ", date,
      "\r\nMessage-ID: <", c.Hex(10), ".", spec.index, "@example.net>\r\nMIME-Version: 1.0\r\n",
      "X-Mailer: Microsoft Outlook 16.0\r\n");
}

// text/plain + text/html; with `image_bytes`, the HTML sits in multipart/related beside an
// inline PNG.
std::string AlternativeBody(Rng& c, size_t text_bytes, size_t html_bytes, size_t image_bytes) {
  std::string html = HtmlEntity(Html(c, html_bytes));
  if (image_bytes > 0) {
    Attachment logo{"image/png", "logo.png", Png(c, image_bytes)};
    html = Multipart(c, "related", {html, AttachmentEntity(logo, /*inline_image=*/true)});
  }
  return Multipart(c, "alternative", {TextEntity(Text(c, text_bytes)), html});
}

constexpr double kBase64Growth = 1.37;  // 4/3 plus CRLF every 76 characters

}  // namespace

const char* ThreatName(Threat threat) {
  switch (threat) {
    case Threat::kNone:
      return "none";
    case Threat::kEicar:
      return "eicar";
    case Threat::kClamExe:
      return "clam.exe";
    case Threat::kEicarInZip:
      return "eicar-in-zip";
    case Threat::kClamExeInZip:
      return "clam.exe-in-zip";
  }
  return "?";
}

const std::string& ClamExe() {
  static const std::string* exe = [] {
    std::ifstream in("/usr/share/clamav-testfiles/clam.exe", std::ios::binary);
    return new std::string(std::istreambuf_iterator<char>(in), {});
  }();
  return *exe;
}

std::vector<MessageSpec> PlanCorpus(const CorpusOptions& options) {
  const int copies = std::max(1, options.vdi_copies);
  const int unique = std::max(1, (options.count + copies - 1) / copies);
  // Stratified sizes: message i takes the quantile (i + 0.5) / n of the mix, so that even a
  // small corpus holds the mix's proportions (its few large messages carry most bytes); the
  // order is then shuffled. Threats: exactly round(n × share), spread evenly.
  std::vector<size_t> sizes;
  for (int i = 0; i < unique; ++i) {
    sizes.push_back(options.fixed_bytes > 0 ? options.fixed_bytes
                                            : SizeAt((i + 0.5) / unique, options.max_bytes));
  }
  Rng plan(Rng::Mix(options.seed, 0x706c616e));
  for (int i = unique - 1; i > 0; --i) {
    std::swap(sizes[static_cast<size_t>(i)], sizes[plan.Below(static_cast<uint64_t>(i) + 1)]);
  }
  static constexpr Threat kThreats[] = {Threat::kEicar, Threat::kClamExe, Threat::kEicarInZip,
                                        Threat::kClamExeInZip};
  std::vector<MessageSpec> uniques;
  int threats = 0;
  for (int i = 0; i < unique; ++i) {
    MessageSpec spec;
    spec.index = i;
    spec.seed = Rng::Mix(options.seed, static_cast<uint64_t>(i));
    spec.target_bytes = sizes[static_cast<size_t>(i)];
    if (std::lround((i + 1) * options.threat_share) > std::lround(i * options.threat_share)) {
      spec.threat = kThreats[threats++ % std::size(kThreats)];
    }
    uniques.push_back(spec);
  }
  if (copies == 1) return uniques;
  std::vector<MessageSpec> deliveries;
  for (int copy = 1; copy <= copies && static_cast<int>(deliveries.size()) < options.count;
       ++copy) {
    for (const MessageSpec& u : uniques) {
      if (static_cast<int>(deliveries.size()) == options.count) break;
      deliveries.push_back(u);
      deliveries.back().copy = copy;
    }
  }
  return deliveries;
}

std::string BuildMessage(const MessageSpec& spec, uint64_t variant) {
  Rng s(spec.seed);                         // structure: same for every variant
  Rng c(Rng::Mix(spec.seed, variant + 1));  // content
  std::string headers = Headers(c, spec);
  const size_t target = spec.target_bytes;
  // From the target alone (not from the header bytes, which vary by variant): the structure must
  // not depend on the variant.
  const size_t budget = target > 1900 ? target - 1500 : 400;

  std::string body;
  if (target <= (5u << 10) && spec.threat == Threat::kNone) {
    body = TextEntity(Text(c, budget));
  } else if (target <= (40u << 10) && spec.threat == Threat::kNone) {
    const bool with_image = budget > (12u << 10) && s.Chance(0.3);
    const size_t image = with_image ? static_cast<size_t>(budget * 0.4 / kBase64Growth) : 0;
    const size_t rest = budget - static_cast<size_t>(image * kBase64Growth);
    body = AlternativeBody(c, rest * 3 / 10, rest * 7 / 10 * 9 / 10, image);
  } else {
    const size_t text = std::min<size_t>(budget / 8, static_cast<size_t>(s.Range(1500, 5000)));
    const size_t html = std::min<size_t>(budget / 4, static_cast<size_t>(s.Range(4000, 30000)));
    std::vector<std::string> parts = {AlternativeBody(c, text, html, 0)};
    const size_t attach_budget =
        budget > text + html * 11 / 10 ? budget - text - html * 11 / 10 : 0;
    const int count = target < (60u << 10)  ? (spec.threat == Threat::kNone ? 1 : 0)
                      : target < (1u << 20) ? 1
                      : target < (4u << 20) ? static_cast<int>(s.Range(1, 2))
                                            : static_cast<int>(s.Range(2, 3));
    const bool forward = count > 0 && s.Chance(0.05);
    for (int i = 0; i < count; ++i) {
      const size_t raw = static_cast<size_t>(attach_budget / count / kBase64Growth);
      const Kind kind = DrawKind(s, raw);
      if (forward && i == 0) {
        // A forwarded message: its own headers, a text body and the attachment.
        MessageSpec inner = spec;
        inner.copy = 0;
        std::string inner_message = absl::StrCat(
            Headers(c, inner),
            Multipart(c, "mixed",
                      {TextEntity(Text(c, 1500)), AttachmentEntity(MakeAttachment(kind, c, raw))}));
        parts.push_back(
            Entity("Content-Type: message/rfc822\r\nContent-Disposition: attachment; "
                   "filename=\"forwarded.eml\"\r\n",
                   inner_message));
      } else {
        parts.push_back(AttachmentEntity(MakeAttachment(kind, c, raw)));
      }
    }
    if (spec.threat != Threat::kNone) parts.push_back(AttachmentEntity(MakeThreat(spec.threat, c)));
    body = Multipart(c, "mixed", parts);
  }
  return headers + body;
}

std::vector<Message> BuildCorpus(const std::vector<MessageSpec>& plan, uint64_t variant,
                                 int threads) {
  std::vector<Message> messages(plan.size());
  threads = std::max(1, threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (size_t i = static_cast<size_t>(t); i < plan.size(); i += static_cast<size_t>(threads)) {
        messages[i].data = BuildMessage(plan[i], variant);
        messages[i].spec = &plan[i];
      }
    });
  }
  for (std::thread& w : workers) w.join();
  return messages;
}

}  // namespace vmscan::bench
