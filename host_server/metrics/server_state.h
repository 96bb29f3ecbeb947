// The scrape-time metrics of vmscan-server (docs/design.md §7, "Metrics"): what the engine slot,
// the scan worker pool, the verdict cache and the Backup store already count, read at each
// scrape through StateCollector, so that none of them needs metrics code.
//
//   AddServerState({engines, pool, cache, backup, &serving, &load_seconds}, &metrics.state());
//
// Every source must outlive the collector's last Collect().
#ifndef VMSCAN_HOST_SERVER_METRICS_SERVER_STATE_H_
#define VMSCAN_HOST_SERVER_METRICS_SERVER_STATE_H_

#include <atomic>

#include "host_server/backup/backup_store.h"
#include "host_server/cache/verdict_cache.h"
#include "host_server/metrics/state_collector.h"
#include "host_server/scan/engine_slot.h"
#include "host_server/scan/worker_pool.h"

namespace vmscan {

struct ServerStateSources {
  const EngineSlot* engines = nullptr;
  const WorkerPool* pool = nullptr;
  const VerdictCache* cache = nullptr;
  BackupStore* backup = nullptr;
  const std::atomic<bool>* serving = nullptr;                // what the health service says
  const std::atomic<double>* engine_load_seconds = nullptr;  // of the engine in use
};

void AddServerState(const ServerStateSources& sources, StateCollector* state);

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_METRICS_SERVER_STATE_H_
