#include "host_server/scan/engine_reloader.h"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/time/clock.h"
#include "common/logging.h"

namespace vmscan {
namespace {

// How often the thread looks whether scans still hold a replaced engine.
constexpr absl::Duration kDrainPoll = absl::Milliseconds(10);

}  // namespace

EngineReloader::EngineReloader(EngineSlot* slot, Loader load, Fingerprint fingerprint,
                               Options options, absl::Duration initial_load)
    : slot_(slot),
      load_(std::move(load)),
      fingerprint_(std::move(fingerprint)),
      options_(std::move(options)),
      loaded_at_(absl::Now()),
      load_duration_(initial_load) {
  // What the engine in the slot was made of, as close to its load as we get.
  if (options_.watch_interval > absl::ZeroDuration()) initial_fingerprint_ = TakeFingerprint();
}

EngineReloader::~EngineReloader() { Stop(); }

void EngineReloader::Loaded(absl::Duration took) {
  absl::MutexLock lock(&mu_);
  loaded_at_ = absl::Now();
  load_duration_ = took;
}

void EngineReloader::Start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "engine-reload");
    // On Linux a nice value set for the calling thread's id applies to that thread only.
    if (options_.nice > 0 &&
        setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), options_.nice) != 0) {
      VMSCAN_LOG(WARNING) << "engine reload thread keeps its priority: " << std::strerror(errno);
    }
    Run();
  });
}

void EngineReloader::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void EngineReloader::RequestReload(const std::string& trigger) {
  absl::MutexLock lock(&mu_);
  ++requested_;
  next_trigger_ = trigger;
}

absl::StatusOr<v1::EngineStatus> EngineReloader::Reload(const std::string& trigger) {
  absl::MutexLock lock(&mu_);
  const uint64_t mine = ++requested_;
  next_trigger_ = trigger;
  auto done = [this, mine]()
                  ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || completed_ >= mine; };
  mu_.Await(absl::Condition(&done));
  if (completed_ < mine) return absl::UnavailableError("the server is shutting down");
  return StatusLocked();
}

v1::EngineStatus EngineReloader::Status() const {
  absl::MutexLock lock(&mu_);
  return StatusLocked();
}

v1::EngineStatus EngineReloader::StatusLocked() const {
  v1::EngineStatus status;
  std::shared_ptr<const ScanEngine> engine = slot_->Get();
  status.set_version(engine->version());
  status.set_signature_count(engine->signature_count());
  status.set_signatures_dir(options_.signatures_dir);
  status.set_loaded_unix_micros(absl::ToUnixMicros(loaded_at_));
  status.set_load_duration_micros(absl::ToInt64Microseconds(load_duration_));
  if (have_last_) *status.mutable_last_reload() = last_;
  status.set_reloads_ok(reloads_ok_);
  status.set_reloads_failed(reloads_failed_);
  status.set_reloading(reloading_);
  status.set_old_engine_held(old_engine_held_);
  return status;
}

std::string EngineReloader::TakeFingerprint() {
  absl::StatusOr<std::string> fp = fingerprint_();
  if (fp.ok()) {
    last_fingerprint_error_.clear();
    return *fp;
  }
  if (fp.status().ToString() != last_fingerprint_error_) {
    last_fingerprint_error_ = fp.status().ToString();
    VMSCAN_LOG(WARNING) << "watching the signatures: " << fp.status();
  }
  return "";
}

void EngineReloader::Run() {
  const bool watching = options_.watch_interval > absl::ZeroDuration();
  std::string loaded = initial_fingerprint_;  // what the serving engine was made of
  std::string candidate;  // a changed fingerprint seen once, waiting to be seen again
  while (true) {
    std::string trigger;
    {
      absl::MutexLock lock(&mu_);
      auto asked = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || requested_ > started_;
      };
      if (watching) {
        mu_.AwaitWithTimeout(absl::Condition(&asked), options_.watch_interval);
      } else {
        mu_.Await(absl::Condition(&asked));
      }
      if (stopping_) return;
      if (requested_ > started_) trigger = next_trigger_;
    }
    const std::string now = watching ? TakeFingerprint() : "";
    if (trigger.empty()) {  // a watch tick
      if (now.empty() || now == loaded) {
        candidate.clear();
        continue;
      }
      if (now != candidate) {
        candidate = now;  // changed: load it once the next check sees the same
        continue;
      }
      trigger = "signature directory changed";
    }
    uint64_t serving;
    {
      absl::MutexLock lock(&mu_);
      serving = started_ = requested_;  // this reload answers every request made so far
      reloading_ = true;
    }
    v1::EngineReload outcome = LoadAndSwap(trigger);
    // Also after a failure: the same broken files are not loaded again until they change.
    loaded = now;
    candidate.clear();
    absl::MutexLock lock(&mu_);
    reloading_ = false;
    completed_ = serving;
    have_last_ = true;
    last_ = std::move(outcome);
  }
}

v1::EngineReload EngineReloader::LoadAndSwap(const std::string& trigger) {
  v1::EngineReload outcome;
  outcome.set_trigger(trigger);
  const absl::Time start = absl::Now();
  outcome.set_started_unix_micros(absl::ToUnixMicros(start));
  absl::StatusOr<std::unique_ptr<ScanEngine>> engine = load_();
  const absl::Duration took = absl::Now() - start;
  outcome.set_duration_micros(absl::ToInt64Microseconds(took));
  if (!engine.ok()) {
    outcome.set_ok(false);
    outcome.set_error(std::string(engine.status().message()));
    outcome.set_version(slot_->Get()->version());
    VMSCAN_LOG(ERROR) << "signature reload (" << trigger << ") failed, the engine "
                      << outcome.version() << " keeps serving: " << engine.status();
    absl::MutexLock lock(&mu_);
    ++reloads_failed_;
    return outcome;
  }
  std::shared_ptr<const ScanEngine> fresh = *std::move(engine);
  outcome.set_ok(true);
  outcome.set_version(fresh->version());
  std::shared_ptr<const ScanEngine> old = slot_->Swap(fresh);
  if (options_.on_swap) options_.on_swap(*fresh);
  VMSCAN_LOG(INFO) << "signature reload (" << trigger << "): " << fresh->signature_count()
                   << " signatures, version " << fresh->version() << " in "
                   << absl::ToInt64Milliseconds(took) << " ms (was " << old->version() << ")";
  {
    absl::MutexLock lock(&mu_);
    ++reloads_ok_;
    loaded_at_ = absl::Now();
    load_duration_ = took;
    old_engine_held_ = true;
  }
  fresh.reset();
  // Scans that began on the old engine finish on it; it is freed here once they all have.
  // Only the slot handed out references, and it no longer does: the count can only fall.
  while (old.use_count() > 1) {
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), kDrainPoll)) break;
  }
  old.reset();  // the last scan frees it when the server stops first
  absl::MutexLock lock(&mu_);
  old_engine_held_ = false;
  return outcome;
}

}  // namespace vmscan
