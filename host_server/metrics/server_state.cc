#include "host_server/metrics/server_state.h"

#include <cstdint>
#include <vector>

namespace vmscan {
namespace {

// One field of the Backup store's totals; no sample (rather than a wrong 0) when it cannot be
// read.
std::vector<StateCollector::Sample> BackupValue(BackupStore* backup,
                                                uint64_t (v1::BackupStats::*field)() const) {
  absl::StatusOr<v1::BackupStats> stats = backup->Stats();
  if (!stats.ok()) return {};
  return Value(static_cast<double>(((*stats).*field)()));
}

}  // namespace

void AddServerState(const ServerStateSources& s, StateCollector* state) {
  state->AddGauge("vmscan_serving",
                  "1 when the health service reports SERVING: the signatures are loaded and the "
                  "server is not draining",
                  [serving = s.serving] { return Value(serving->load() ? 1 : 0); });
  const EngineSlot* engines = s.engines;
  state->AddGauge(
      "vmscan_engine_info", "The signature set in use: its version (1 per version)", [engines] {
        return std::vector<StateCollector::Sample>{{{{"version", engines->Get()->version()}}, 1}};
      });
  state->AddGauge("vmscan_engine_signatures", "Signatures of the engine in use", [engines] {
    return Value(static_cast<double>(engines->Get()->signature_count()));
  });
  state->AddGauge("vmscan_engine_load_seconds", "Time the last signature load took",
                  [load = s.engine_load_seconds] { return Value(load->load()); });
  const WorkerPool* pool = s.pool;
  state->AddGauge("vmscan_scan_queue_depth", "Scans waiting for a scan worker",
                  [pool] { return Value(static_cast<double>(pool->queued())); });
  state->AddGauge("vmscan_scan_workers_busy", "Scan workers scanning now",
                  [pool] { return Value(static_cast<double>(pool->busy())); });
  state->AddGauge("vmscan_scan_workers", "Scan worker threads",
                  [pool] { return Value(pool->threads()); });
  const VerdictCache* cache = s.cache;
  state->AddCounter("vmscan_verdict_cache_hits_total", "Verdict cache lookups that found a verdict",
                    [cache] { return Value(static_cast<double>(cache->stats().hits)); });
  state->AddCounter("vmscan_verdict_cache_misses_total", "Verdict cache lookups that found none",
                    [cache] { return Value(static_cast<double>(cache->stats().misses)); });
  state->AddCounter("vmscan_verdict_cache_evictions_total",
                    "Verdicts evicted to stay within verdict_cache_bytes",
                    [cache] { return Value(static_cast<double>(cache->stats().evictions)); });
  state->AddGauge("vmscan_verdict_cache_entries", "Verdicts in the cache",
                  [cache] { return Value(static_cast<double>(cache->stats().entries)); });
  state->AddGauge("vmscan_verdict_cache_bytes", "Bytes the verdict cache holds",
                  [cache] { return Value(static_cast<double>(cache->stats().bytes)); });
  BackupStore* backup = s.backup;
  state->AddGauge("vmscan_backup_records", "Records in the Backup store",
                  [backup] { return BackupValue(backup, &v1::BackupStats::records); });
  state->AddGauge("vmscan_backup_stored_bytes",
                  "Bytes the Backup store holds (compressed originals), what retention limits",
                  [backup] { return BackupValue(backup, &v1::BackupStats::stored_bytes); });
  state->AddGauge("vmscan_backup_original_bytes", "Sum of the original sizes of the Backup records",
                  [backup] { return BackupValue(backup, &v1::BackupStats::original_bytes); });
}

}  // namespace vmscan
