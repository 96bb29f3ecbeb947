#include "host_server/scan/scanner.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "host_server/engine/scan_bounds.h"
#include "host_server/mail/disinfect.h"
#include "host_server/mail/message_summary.h"
#include "host_server/scan/action_policy.h"
#include "host_server/scan/mail_analysis.h"

namespace vmscan {
namespace {

// Disinfects and rescans. Empty when disinfection is not possible (docs/design.md §2: the threat is
// not tied to removable parts, the message cannot be parsed, the infected part is the only content,
// or the rewritten message still holds a threat).
absl::StatusOr<std::string> TryDisinfect(const ScanEngine& engine, absl::string_view message,
                                         const MailAnalysis& analysis, const ScanBounds& bounds) {
  if (!analysis.mime_parsed || analysis.has_untied_threat()) return std::string();
  std::vector<PartRemoval> removals;
  for (const v1::Threat& threat : analysis.threats) {
    removals.push_back({threat.part_path(), threat.name()});
  }
  absl::StatusOr<DisinfectResult> rewritten = Disinfect(message, removals);
  if (!rewritten.ok()) {
    VMSCAN_LOG(DEBUG) << "disinfection not possible: " << rewritten.status();
    return std::string();
  }
  VMSCAN_ASSIGN_OR_RETURN(MailAnalysis rescan, AnalyzeMessage(engine, rewritten->message, bounds));
  if (rescan.verdict != v1::CLEAN) {
    VMSCAN_LOG(WARNING) << "disinfected message still not clean ("
                        << v1::Verdict_Name(rescan.verdict) << "); disinfection failed";
    return std::string();
  }
  return std::move(rewritten->message);
}

// The VM's limits the engine must honour per scan (0: none beyond the engine's own).
ScanBounds BoundsOf(const v1::PolicyLimits& limits) {
  ScanBounds bounds;
  bounds.max_scan_bytes = limits.max_scan_bytes();
  bounds.max_file_bytes = limits.max_file_bytes();
  bounds.max_recursion = limits.max_recursion();
  bounds.max_files = limits.max_files();
  bounds.max_scan_time_ms = limits.max_scan_time_ms();
  return bounds;
}

v1::BackupRecord BackupMetadata(const v1::ScanMetadata& metadata, const std::string& group,
                                absl::string_view message, const v1::ScanResult& result) {
  v1::BackupRecord record;
  *record.mutable_vm() = metadata.vm();
  record.set_group(group);
  record.set_channel(metadata.channel());
  record.set_direction(metadata.direction());
  record.set_envelope_sender(metadata.envelope_sender());
  MessageSummary summary = SummarizeHeaders(message);
  // The SMTP envelope when the channel has one; the message's To and Cc otherwise (POP3, IMAP).
  if (metadata.envelope_recipients_size() > 0) {
    for (const std::string& rcpt : metadata.envelope_recipients()) record.add_recipients(rcpt);
  } else {
    for (const std::string& rcpt : summary.recipients) record.add_recipients(rcpt);
  }
  record.set_subject(summary.subject);
  record.set_message_id(summary.message_id);
  if (record.envelope_sender().empty()) record.set_envelope_sender(summary.from);
  for (const v1::Threat& threat : result.threats()) *record.add_threats() = threat;
  record.set_action(result.action());
  return record;
}

}  // namespace

Scanner::Scanner(const EngineSlot* engines, BackupStore* backup, v1::MailAntivirusConfig settings,
                 VmSettingsSource per_vm)
    : engines_(engines),
      backup_(backup),
      settings_(std::move(settings)),
      per_vm_(std::move(per_vm)) {}

absl::StatusOr<ScanOutcome> Scanner::Scan(const v1::ScanMetadata& metadata,
                                          absl::string_view message) const {
  const absl::Time start = absl::Now();
  std::shared_ptr<const ScanEngine> engine = engines_->Get();
  ScanOutcome outcome;
  v1::ScanResult& result = outcome.result;
  result.set_sha256(Sha256Hex(message));
  result.set_size(message.size());
  result.set_signature_version(engine->version());

  v1::MailAntivirusConfig settings = settings_;
  ScanBounds bounds;  // the VM's limits where they are tighter than the engine's
  std::string group;  // the VM's group path, for the Backup record
  if (per_vm_) {
    absl::StatusOr<VmScanSettings> found = per_vm_(metadata.vm());
    const v1::MailAntivirusSettings* vm = found.ok() ? &found->settings : nullptr;
    if (found.ok()) group = found->group;
    if (!found.ok()) {
      VMSCAN_LOG(ERROR) << "settings of VM " << metadata.vm().id()
                        << " unavailable, scanning with the server's: " << found.status();
    } else {
      bounds = BoundsOf(vm->limits());
      settings.set_action_on_threat(vm->action_on_threat());
      settings.set_on_unscannable(vm->on_unscannable());
      if (!vm->enabled()) {
        result.set_verdict(v1::UNSCANNABLE);
        result.set_unscannable_reason(v1::DISABLED);
        result.set_action(v1::DELIVER);
        result.set_action_reason("Mail Anti-Virus is disabled for this VM; delivered unscanned");
        result.set_scan_micros(absl::ToInt64Microseconds(absl::Now() - start));
        return outcome;
      }
      if (vm->limits().max_message_bytes() > 0 &&
          message.size() > vm->limits().max_message_bytes()) {
        // Not scanned at all, so never clean: on_unscannable decides.
        result.set_verdict(v1::UNSCANNABLE);
        result.set_unscannable_reason(v1::LIMITS_EXCEEDED);
        result.set_unscannable_detail(absl::StrCat(
            "message of ", message.size(), " bytes is over this VM's limits.max_message_bytes (",
            vm->limits().max_message_bytes(), ")"));
        ActionDecision decision = DecideAction(settings, v1::UNSCANNABLE, metadata.channel(),
                                               metadata.direction(), false);
        result.set_action(decision.action);
        result.set_action_reason(decision.reason);
        result.set_scan_micros(absl::ToInt64Microseconds(absl::Now() - start));
        return outcome;
      }
    }
  }

  VMSCAN_ASSIGN_OR_RETURN(MailAnalysis analysis, AnalyzeMessage(*engine, message, bounds));
  result.set_verdict(analysis.verdict);
  result.set_unscannable_reason(analysis.unscannable_reason);
  result.set_unscannable_detail(analysis.unscannable_detail);
  for (const v1::Threat& threat : analysis.threats) *result.add_threats() = threat;

  bool disinfected = false;
  if (WantsDisinfection(settings, analysis.verdict, metadata.channel(), metadata.direction())) {
    VMSCAN_ASSIGN_OR_RETURN(outcome.cleaned, TryDisinfect(*engine, message, analysis, bounds));
    disinfected = !outcome.cleaned.empty();
  }
  ActionDecision decision = DecideAction(settings, analysis.verdict, metadata.channel(),
                                         metadata.direction(), disinfected);
  result.set_action(decision.action);
  result.set_action_reason(decision.reason);
  if (decision.action != v1::DELIVER_DISINFECTED) outcome.cleaned.clear();
  result.set_cleaned_size(outcome.cleaned.size());

  if (decision.action == v1::DELETE || decision.action == v1::DELIVER_DISINFECTED) {
    // docs/design.md §2: the copy is in Backup before the action is reported as done.
    absl::StatusOr<std::string> id =
        backup_->Put(BackupMetadata(metadata, group, message, result), message);
    if (!id.ok()) {
      VMSCAN_LOG(ERROR) << "backup failed, refusing to report " << v1::Action_Name(decision.action)
                        << ": " << id.status();
      return absl::UnavailableError(
          absl::StrCat("backup copy could not be saved: ", id.status().message()));
    }
    result.set_backup_id(*id);
  }
  result.set_scan_micros(absl::ToInt64Microseconds(absl::Now() - start));
  return outcome;
}

}  // namespace vmscan
