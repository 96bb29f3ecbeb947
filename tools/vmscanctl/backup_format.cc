#include "tools/vmscanctl/backup_format.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "tools/vmscanctl/terminal_text.h"

namespace vmscan {
namespace {

constexpr size_t kSubjectWidth = 40;
constexpr size_t kThreatsWidth = 36;

std::string Threats(const v1::BackupRecord& record) {
  return absl::StrJoin(record.threats(), ",", [](std::string* out, const v1::Threat& t) {
    absl::StrAppend(out, t.name());
  });
}

}  // namespace

absl::StatusOr<v1::Action> ParseActionArg(absl::string_view text) {
  const std::string upper = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(text));
  if (upper == "DELETE") return v1::DELETE;
  if (upper == "DELIVER_DISINFECTED" || upper == "DISINFECTED") return v1::DELIVER_DISINFECTED;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown action \"", SanitizeForTerminal(Truncate(text, 64)),
                   "\": Backup holds DELETE and DELIVER_DISINFECTED records"));
}

std::string FormatRecordTable(const v1::ListBackupsResponse& response) {
  if (response.records().empty()) return "no backup records match\n";
  std::vector<std::vector<std::string>> rows = {
      {"ID", "TIME (UTC)", "VM", "ACTION", "THREATS", "SUBJECT", "SIZE"}};
  for (const v1::BackupRecord& r : response.records()) {
    if (!r.damage().empty()) {
      rows.push_back({r.id(), FormatUtc(r.created_unix_micros()), "?", "DAMAGED", "?",
                      Truncate(SanitizeForTerminal(r.damage()), kSubjectWidth),
                      HumanBytes(r.stored_size())});
      continue;
    }
    rows.push_back({r.id(), FormatUtc(r.created_unix_micros()), DisplayText(r.vm().id()),
                    v1::Action_Name(r.action()), Truncate(DisplayText(Threats(r)), kThreatsWidth),
                    Truncate(DisplayText(r.subject()), kSubjectWidth), HumanBytes(r.size())});
  }
  std::string out = AlignedTable(rows, {false, false, false, false, false, false, true});
  const int n = response.records_size();
  absl::StrAppend(&out, n, n == 1 ? " record" : " records");
  if (response.next_until_unix_micros() != 0) {
    absl::StrAppend(&out, " (more match: add --until ",
                    FormatRfc3339(response.next_until_unix_micros()), " for the next page)");
  }
  return out + "\n";
}

std::string FormatRecordDetails(const v1::BackupRecord& r) {
  std::vector<std::pair<std::string, std::string>> fields;
  fields.emplace_back("id", r.id());
  fields.emplace_back("created", FormatUtc(r.created_unix_micros(), /*micros=*/true) + " UTC");
  std::string vm = DisplayText(r.vm().id());
  if (!r.vm().name().empty() || !r.vm().hypervisor_host().empty()) {
    absl::StrAppend(&vm, " (name ", DisplayText(r.vm().name()), ", host ",
                    DisplayText(r.vm().hypervisor_host()), ")");
  }
  fields.emplace_back("vm", vm);
  fields.emplace_back("group", DisplayText(r.group()));
  fields.emplace_back("channel", absl::StrCat(v1::Channel_Name(r.channel()), ", ",
                                              v1::Direction_Name(r.direction())));
  fields.emplace_back("sender", DisplayText(r.envelope_sender()));
  fields.emplace_back("recipients", DisplayText(absl::StrJoin(r.recipients(), ", ")));
  fields.emplace_back("subject", DisplayText(r.subject()));
  fields.emplace_back("message-id", DisplayText(r.message_id()));
  fields.emplace_back("action", v1::Action_Name(r.action()));
  if (r.threats().empty()) fields.emplace_back("threat", "-");
  for (const v1::Threat& t : r.threats()) {
    std::string where =
        t.part_path().empty()
            ? " in the message (no single part)"
            : absl::StrCat(" in part ", t.part_path(),
                           t.filename().empty() ? "" : " \"" + t.filename() + "\"",
                           t.content_type().empty() ? "" : " (" + t.content_type() + ")");
    fields.emplace_back("threat", SanitizeForTerminal(t.name() + where));
  }
  fields.emplace_back("size", absl::StrCat(r.size(), " bytes (", HumanBytes(r.size()),
                                           "), stored in ", r.stored_size(), " bytes"));
  fields.emplace_back("sha256", r.sha256());
  std::string out;
  for (const auto& [name, value] : fields) {
    absl::StrAppend(&out, absl::StrFormat("%-12s%s\n", name, value));
  }
  return out;
}

std::string FormatStats(const v1::BackupStats& s) {
  std::string out;
  auto line = [&](absl::string_view name, absl::string_view value) {
    absl::StrAppend(&out, absl::StrFormat("%-15s%s\n", name, value));
  };
  line("records", absl::StrCat(s.records()));
  line("original size",
       absl::StrCat(HumanBytes(s.original_bytes()), " (", s.original_bytes(), " bytes)"));
  std::string stored =
      absl::StrCat(HumanBytes(s.stored_bytes()), " (", s.stored_bytes(), " bytes)");
  if (s.original_bytes() > 0) {
    absl::StrAppend(&stored, absl::StrFormat(", %.0f%% of the original",
                                             100.0 * s.stored_bytes() / s.original_bytes()));
  }
  line("stored size", stored);
  line("oldest", s.records() > 0 ? FormatUtc(s.oldest_unix_micros()) + " UTC" : "-");
  line("newest", s.records() > 0 ? FormatUtc(s.newest_unix_micros()) + " UTC" : "-");
  line("map size", HumanBytes(s.map_bytes()));
  return out;
}

}  // namespace vmscan
