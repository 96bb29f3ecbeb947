#include "tools/vmscanctl/engine_format.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/vmscanctl/terminal_text.h"

namespace vmscan {
namespace {

std::string Millis(int64_t micros) { return absl::StrCat(micros / 1000, " ms"); }

std::string ReloadLine(const v1::EngineReload& r) {
  std::string line = absl::StrCat(FormatUtc(r.started_unix_micros()), " UTC, ",
                                  SanitizeForTerminal(r.trigger()), ": ");
  if (r.ok()) {
    absl::StrAppend(&line, "ok, version ", SanitizeForTerminal(r.version()), " in ",
                    Millis(r.duration_micros()));
  } else {
    absl::StrAppend(&line, "FAILED after ", Millis(r.duration_micros()), ": ",
                    SanitizeForTerminal(r.error()), " (version ", SanitizeForTerminal(r.version()),
                    " kept serving)");
  }
  return line;
}

}  // namespace

std::string FormatEngineStatus(const v1::EngineStatus& s) {
  std::vector<std::vector<std::string>> rows = {
      {"version", DisplayText(s.version())},
      {"signatures", absl::StrCat(s.signature_count(), " from ", DisplayText(s.signatures_dir()))},
      {"loaded", absl::StrCat(FormatUtc(s.loaded_unix_micros()), " UTC in ",
                              Millis(s.load_duration_micros()))},
      {"last reload", s.has_last_reload() ? ReloadLine(s.last_reload()) : "none since start"},
      {"reloads",
       absl::StrCat(s.reloads_ok(), " ok, ", s.reloads_failed(), " failed",
                    s.reloading() ? "; one under way" : "",
                    s.old_engine_held() ? "; the replaced engine still finishes scans" : "")},
  };
  return AlignedTable(rows, {false, false});
}

std::string FormatReloadOutcome(const v1::EngineStatus& s) {
  const v1::EngineReload& r = s.last_reload();
  if (r.ok()) {
    return absl::StrCat("reloaded: ", s.signature_count(), " signatures, version ",
                        SanitizeForTerminal(r.version()), " (", Millis(r.duration_micros()), ")\n");
  }
  return absl::StrCat("reload failed, version ", SanitizeForTerminal(r.version()),
                      " keeps serving: ", SanitizeForTerminal(r.error()), "\n");
}

}  // namespace vmscan
