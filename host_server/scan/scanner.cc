#include "host_server/scan/scanner.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/mail/verdict_key.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "host_server/engine/scan_bounds.h"
#include "host_server/mail/disinfect.h"
#include "host_server/mail/message_summary.h"
#include "host_server/scan/action_policy.h"
#include "host_server/scan/cached_analysis.h"
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

void Scanner::UseCache(VerdictCache* cache, std::string engine_settings,
                       uint64_t max_cached_bytes) {
  cache_ = cache;
  engine_settings_ = std::move(engine_settings);
  max_cached_bytes_ = max_cached_bytes;
}

Scanner::Prepared Scanner::Prepare(const v1::ScanMetadata& metadata, uint64_t size,
                                   const ScanEngine& engine) const {
  Prepared p;
  p.settings = settings_;
  if (!per_vm_) return p;
  absl::StatusOr<VmScanSettings> found = per_vm_(metadata.vm());
  if (!found.ok()) {
    VMSCAN_LOG(ERROR) << "settings of VM " << metadata.vm().id()
                      << " unavailable, scanning with the server's: " << found.status();
    return p;
  }
  const v1::MailAntivirusSettings& vm = found->settings;
  p.group = found->group;
  p.bounds = BoundsOf(vm.limits());
  p.settings.set_action_on_threat(vm.action_on_threat());
  p.settings.set_on_unscannable(vm.on_unscannable());
  if (!vm.enabled()) {
    ScanOutcome& early = p.early.emplace();
    early.result.set_verdict(v1::UNSCANNABLE);
    early.result.set_unscannable_reason(v1::DISABLED);
    early.result.set_action(v1::DELIVER);
    early.result.set_action_reason("Mail Anti-Virus is disabled for this VM; delivered unscanned");
  } else if (vm.limits().max_message_bytes() > 0 && size > vm.limits().max_message_bytes()) {
    // Not scanned at all, so never clean: on_unscannable decides.
    ScanOutcome& early = p.early.emplace();
    early.result.set_verdict(v1::UNSCANNABLE);
    early.result.set_unscannable_reason(v1::LIMITS_EXCEEDED);
    early.result.set_unscannable_detail(
        absl::StrCat("message of ", size, " bytes is over this VM's limits.max_message_bytes (",
                     vm.limits().max_message_bytes(), ")"));
    ActionDecision decision =
        DecideAction(p.settings, v1::UNSCANNABLE, metadata.channel(), metadata.direction(), false);
    early.result.set_action(decision.action);
    early.result.set_action_reason(decision.reason);
  }
  if (p.early.has_value()) p.early->result.set_signature_version(engine.version());
  return p;
}

bool Scanner::MayCache(uint64_t size, const ScanBounds& bounds) const {
  if (cache_ == nullptr || size > max_cached_bytes_) return false;
  // A copy with longer delivery fields is larger: keep clear of the VM's own size limits too.
  for (uint64_t limit : {bounds.max_scan_bytes, bounds.max_file_bytes}) {
    if (limit > 0 && size + kMaxHeaderBytes >= limit) return false;
  }
  return true;
}

std::string Scanner::CacheKey(absl::string_view digest, const ScanEngine& engine,
                              const ScanBounds& bounds) const {
  return VerdictCacheKey(digest, engine.version(), engine_settings_, BoundsKey(bounds));
}

absl::StatusOr<std::optional<MailAnalysis>> Scanner::FromCache(const std::string& key,
                                                               absl::string_view header_block,
                                                               const ScanEngine& engine,
                                                               const ScanBounds& bounds) const {
  std::optional<CachedVerdict> cached = cache_->Lookup(key);
  if (!cached.has_value()) return std::optional<MailAnalysis>();
  return AnalysisFromHit(engine, *cached, header_block, bounds);
}

absl::StatusOr<ProbeOutcome> Scanner::Probe(const v1::ScanMetadata& metadata,
                                            const v1::CacheProbe& probe) const {
  const absl::Time start = absl::Now();
  std::shared_ptr<const ScanEngine> engine = engines_->Get();
  ProbeOutcome out;
  Prepared p = Prepare(metadata, metadata.size(), *engine);
  if (p.early.has_value()) {
    out.need_message = false;
    out.outcome = *std::move(p.early);
  } else if (MayCache(metadata.size(), p.bounds)) {
    VMSCAN_ASSIGN_OR_RETURN(std::optional<MailAnalysis> hit,
                            FromCache(CacheKey(probe.content_digest(), *engine, p.bounds),
                                      probe.header_block(), *engine, p.bounds));
    if (hit.has_value()) {
      const bool needs_original =
          hit->verdict == v1::INFECTED &&
          (WantsDisinfection(p.settings, hit->verdict, metadata.channel(), metadata.direction()) ||
           DecideAction(p.settings, hit->verdict, metadata.channel(), metadata.direction(), false)
                   .action == v1::DELETE);
      if (!needs_original) {  // deliver, deliver with a header, or block: no Backup, no rewrite
        out.need_message = false;
        v1::ScanResult& result = out.outcome.result;
        result.set_verdict(hit->verdict);
        result.set_unscannable_reason(hit->unscannable_reason);
        result.set_unscannable_detail(hit->unscannable_detail);
        for (const v1::Threat& threat : hit->threats) *result.add_threats() = threat;
        ActionDecision decision =
            DecideAction(p.settings, hit->verdict, metadata.channel(), metadata.direction(), false);
        result.set_action(decision.action);
        result.set_action_reason(decision.reason);
        result.set_cache_hit(true);
        result.set_signature_version(engine->version());
      }
    }
  }
  if (!out.need_message) {
    out.outcome.result.set_sha256(probe.sha256());
    out.outcome.result.set_size(metadata.size());
    out.outcome.result.set_scan_micros(absl::ToInt64Microseconds(absl::Now() - start));
  }
  return out;
}

absl::StatusOr<ScanOutcome> Scanner::Scan(const v1::ScanMetadata& metadata,
                                          absl::string_view message) const {
  const absl::Time start = absl::Now();
  std::shared_ptr<const ScanEngine> engine = engines_->Get();
  Prepared p = Prepare(metadata, message.size(), *engine);
  ScanOutcome outcome;
  if (p.early.has_value()) outcome = *std::move(p.early);
  v1::ScanResult& result = outcome.result;
  result.set_sha256(Sha256Hex(message));
  result.set_size(message.size());
  result.set_signature_version(engine->version());
  if (p.early.has_value()) {
    result.set_scan_micros(absl::ToInt64Microseconds(absl::Now() - start));
    return outcome;
  }
  const v1::MailAntivirusConfig& settings = p.settings;
  const ScanBounds& bounds = p.bounds;

  // The shared verdict cache: the same content, maybe from another VM, maybe another copy.
  std::optional<MailAnalysis> analysis;
  std::string key;
  const bool use_cache = MayCache(message.size(), bounds);
  if (use_cache) {
    const VerdictKey verdict_key = ComputeVerdictKey(message);
    key = CacheKey(verdict_key.digest, *engine, bounds);
    VMSCAN_ASSIGN_OR_RETURN(analysis, FromCache(key, verdict_key.header_block, *engine, bounds));
    result.set_cache_hit(analysis.has_value());
  }
  if (!analysis.has_value()) {
    VMSCAN_ASSIGN_OR_RETURN(analysis, AnalyzeMessage(*engine, message, bounds));
    if (use_cache && Cacheable(*analysis)) cache_->Insert(key, ToCached(*analysis));
  }
  result.set_verdict(analysis->verdict);
  result.set_unscannable_reason(analysis->unscannable_reason);
  result.set_unscannable_detail(analysis->unscannable_detail);
  for (const v1::Threat& threat : analysis->threats) *result.add_threats() = threat;

  bool disinfected = false;
  if (WantsDisinfection(settings, analysis->verdict, metadata.channel(), metadata.direction())) {
    VMSCAN_ASSIGN_OR_RETURN(outcome.cleaned, TryDisinfect(*engine, message, *analysis, bounds));
    disinfected = !outcome.cleaned.empty();
  }
  ActionDecision decision = DecideAction(settings, analysis->verdict, metadata.channel(),
                                         metadata.direction(), disinfected);
  result.set_action(decision.action);
  result.set_action_reason(decision.reason);
  if (decision.action != v1::DELIVER_DISINFECTED) outcome.cleaned.clear();
  result.set_cleaned_size(outcome.cleaned.size());

  if (decision.action == v1::DELETE || decision.action == v1::DELIVER_DISINFECTED) {
    // docs/design.md §2: the copy is in Backup before the action is reported as done.
    absl::StatusOr<std::string> id =
        backup_->Put(BackupMetadata(metadata, p.group, message, result), message);
    if (!id.ok()) {
      VMSCAN_LOG(ERROR) << "backup failed, refusing to report " << v1::Action_Name(decision.action)
                        << ": " << id.status();
      // ABORTED, not UNAVAILABLE: "no scanner" may make an agent deliver unscanned.
      return absl::AbortedError(
          absl::StrCat("backup copy could not be saved: ", id.status().message()));
    }
    result.set_backup_id(*id);
  }
  result.set_scan_micros(absl::ToInt64Microseconds(absl::Now() - start));
  return outcome;
}

}  // namespace vmscan
