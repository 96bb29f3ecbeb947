#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "tests/benchmarks/content.h"

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

}  // namespace

std::string Words(Rng& rng, int count) {
  std::string s;
  for (int i = 0; i < count; ++i) {
    if (i > 0) s += rng.Chance(0.06) ? ", " : " ";
    s += Word(rng);
  }
  return s;
}

std::string Sentence(Rng& rng) {
  std::string s = Words(rng, static_cast<int>(rng.Range(6, 18)));
  if (!s.empty()) s[0] = static_cast<char>(s[0] - 'a' + 'A');
  s += rng.Chance(0.1) ? "?" : ".";
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
