// EngineReloader: loads the signatures again without stalling a scan (docs/design.md §6).
//
//   EngineReloader reloader(&slot, load, fingerprint, options, initial_load_time);
//   reloader.Start();
//   reloader.RequestReload("sighup");                     // returns at once
//   v1::EngineStatus after = *reloader.Reload("admin");   // waits for the outcome
//
// One thread of its own, at a low priority (Options::nice), does everything: it compiles a new
// engine beside the one serving (`load`), swaps it into the EngineSlot, calls `on_swap` (the
// verdict cache is flushed there), then waits until no scan holds the old engine any more and
// frees it on this thread, so neither a scan nor a gRPC thread pays for compiling or freeing.
// Scans that began on the old engine finish on it. At most two engines exist at once: the next
// reload starts only after the old engine is gone. A load that fails leaves the serving engine
// in place; the failure is logged and reported by Status(). Requests made while a reload runs
// are served by one more reload after it (they may want files that changed meanwhile).
//
// Watching: every Options::watch_interval the thread takes `fingerprint` (for the ClamAV engine,
// DatabaseFilesFingerprint of the signature directory); when it differs from the one of the
// last load and two checks in a row agree (a copy in progress is not loaded half-done), it
// reloads. A failed load is not retried until the files change again or someone asks.
//
// Thread-safe. `slot` must outlive the reloader; Stop() (or the destructor) joins the thread.
#ifndef VMSCAN_HOST_SERVER_SCAN_ENGINE_RELOADER_H_
#define VMSCAN_HOST_SERVER_SCAN_ENGINE_RELOADER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "host_server/engine/scan_engine.h"
#include "host_server/scan/engine_slot.h"
#include "vmscan/v1/admin.pb.h"

namespace vmscan {

class EngineReloader {
 public:
  using Loader = std::function<absl::StatusOr<std::unique_ptr<ScanEngine>>()>;
  using Fingerprint = std::function<absl::StatusOr<std::string>()>;

  struct Options {
    std::string signatures_dir;  // for Status() only
    // 0: no watching.
    absl::Duration watch_interval = absl::Seconds(10);
    int nice = 10;  // of the reloader's thread (0-19)
    // Called on the reloader's thread after each swap, with the new engine.
    std::function<void(const ScanEngine&)> on_swap;
  };

  // `slot` holds the engine loaded at start-up, which took `initial_load` to load. With watching
  // on, the files' fingerprint is taken here: construct it right after that load.
  EngineReloader(EngineSlot* slot, Loader load, Fingerprint fingerprint, Options options,
                 absl::Duration initial_load);
  ~EngineReloader();
  EngineReloader(const EngineReloader&) = delete;
  EngineReloader& operator=(const EngineReloader&) = delete;

  // Starts the thread (and the watching). Call once.
  void Start();
  // The engine of start-up is in the slot now and took `took` to load (a server that listens
  // before it loads creates the reloader first).
  void Loaded(absl::Duration took);
  // Ends a reload under way (its outcome is kept), then joins the thread. Waiting Reload()
  // calls return UNAVAILABLE. Idempotent.
  void Stop();

  // Asks for a reload; returns at once. `trigger` says who asked ("sighup").
  void RequestReload(const std::string& trigger);
  // Asks for a reload and waits for the outcome of one that began after this call: the status
  // then (a failed load is in `last_reload`, not an error). UNAVAILABLE when stopped first.
  absl::StatusOr<v1::EngineStatus> Reload(const std::string& trigger);

  v1::EngineStatus Status() const;

 private:
  void Run();
  // Loads, swaps, waits for the old engine to be let go and frees it. Returns what happened.
  v1::EngineReload LoadAndSwap(const std::string& trigger);
  // The fingerprint now, or "" when it cannot be taken (logged once per distinct error).
  std::string TakeFingerprint();
  v1::EngineStatus StatusLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  EngineSlot* const slot_;
  const Loader load_;
  const Fingerprint fingerprint_;
  const Options options_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t requested_ ABSL_GUARDED_BY(mu_) = 0;  // numbers of reload requests, 1, 2, ...
  uint64_t started_ ABSL_GUARDED_BY(mu_) = 0;    // the last request a reload began for
  uint64_t completed_ ABSL_GUARDED_BY(mu_) = 0;  // the last request a reload finished for
  std::string next_trigger_ ABSL_GUARDED_BY(mu_);
  bool reloading_ ABSL_GUARDED_BY(mu_) = false;
  bool old_engine_held_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time loaded_at_ ABSL_GUARDED_BY(mu_);
  absl::Duration load_duration_ ABSL_GUARDED_BY(mu_);
  bool have_last_ ABSL_GUARDED_BY(mu_) = false;
  v1::EngineReload last_ ABSL_GUARDED_BY(mu_);
  uint64_t reloads_ok_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t reloads_failed_ ABSL_GUARDED_BY(mu_) = 0;

  std::string initial_fingerprint_;     // taken by the constructor, then the thread's only
  std::string last_fingerprint_error_;  // the reloader thread's only (and the constructor's)
  std::thread thread_;
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_SCAN_ENGINE_RELOADER_H_
