#include "host_server/scan/engine_reloader.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmscan {
namespace {

using ::testing::HasSubstr;

// An engine that only has a version, and says when it is freed and on which thread.
class VersionedEngine : public ScanEngine {
 public:
  VersionedEngine(std::string version, std::atomic<int>* freed = nullptr,
                  std::thread::id* freed_on = nullptr)
      : version_(std::move(version)), freed_(freed), freed_on_(freed_on) {}
  ~VersionedEngine() override {
    if (freed_on_ != nullptr) *freed_on_ = std::this_thread::get_id();
    if (freed_ != nullptr) ++*freed_;
  }
  absl::StatusOr<EngineVerdict> Scan(absl::string_view, absl::string_view,
                                     const ScanBounds&) const override {
    return EngineVerdict();
  }
  std::string version() const override { return version_; }
  uint64_t signature_count() const override { return 7; }

 private:
  std::string version_;
  std::atomic<int>* freed_;
  std::thread::id* freed_on_;
};

// The "signature directory" the fake loader reads: its files' fingerprint, whether they load,
// and a gate a test may close to hold a load half-way.
class FakeSignatures {
 public:
  EngineReloader::Loader Loader() {
    return [this]() -> absl::StatusOr<std::unique_ptr<ScanEngine>> {
      ++loads_;
      if (!loading_.HasBeenNotified()) loading_.Notify();
      if (gate_ != nullptr) gate_->WaitForNotification();
      absl::MutexLock lock(&mu_);
      if (!error_.empty()) return absl::FailedPreconditionError(error_);
      return std::unique_ptr<ScanEngine>(new VersionedEngine(files_));
    };
  }
  EngineReloader::Fingerprint Fingerprint() {
    return [this]() -> absl::StatusOr<std::string> {
      absl::MutexLock lock(&mu_);
      return files_;
    };
  }
  void Replace(std::string files, std::string error = "") {
    absl::MutexLock lock(&mu_);
    files_ = std::move(files);
    error_ = std::move(error);
  }
  int loads() const { return loads_; }
  void HoldLoads(absl::Notification* gate) { gate_ = gate; }
  void WaitUntilLoading() { loading_.WaitForNotification(); }

 private:
  absl::Mutex mu_;
  std::string files_ ABSL_GUARDED_BY(mu_) = "v1";
  std::string error_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> loads_{0};
  absl::Notification* gate_ = nullptr;  // set before the load it gates starts
  absl::Notification loading_;          // the first load began
};

// Waits (up to 10 s, far more than any step needs) until `done` holds.
template <typename F>
bool Eventually(F done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return true;
}

EngineReloader::Options NoWatching() {
  EngineReloader::Options options;
  options.signatures_dir = "/sigs";
  options.watch_interval = absl::ZeroDuration();
  options.nice = 0;
  return options;
}

TEST(EngineReloaderTest, ReloadSwapsInTheNewEngineAndReportsIt) {
  FakeSignatures sigs;
  EngineSlot slot(std::make_shared<VersionedEngine>("v1"));
  int swaps = 0;
  EngineReloader::Options options = NoWatching();
  options.on_swap = [&swaps](const ScanEngine& fresh) {
    EXPECT_EQ(fresh.version(), "v2");
    ++swaps;
  };
  EngineReloader reloader(&slot, sigs.Loader(), sigs.Fingerprint(), options,
                          absl::Milliseconds(42));
  EXPECT_EQ(reloader.Status().version(), "v1");
  EXPECT_EQ(reloader.Status().load_duration_micros(), 42000);
  EXPECT_FALSE(reloader.Status().has_last_reload());
  reloader.Start();
  sigs.Replace("v2");
  absl::StatusOr<v1::EngineStatus> status = reloader.Reload("admin");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(slot.Get()->version(), "v2");
  EXPECT_EQ(status->version(), "v2");
  EXPECT_EQ(status->signature_count(), 7u);
  EXPECT_EQ(status->signatures_dir(), "/sigs");
  EXPECT_TRUE(status->last_reload().ok());
  EXPECT_EQ(status->last_reload().trigger(), "admin");
  EXPECT_EQ(status->last_reload().version(), "v2");
  EXPECT_EQ(status->reloads_ok(), 1u);
  EXPECT_EQ(status->reloads_failed(), 0u);
  EXPECT_FALSE(status->reloading());
  EXPECT_EQ(swaps, 1);
}

TEST(EngineReloaderTest, AFailedLoadKeepsTheServingEngineAndSaysWhy) {
  FakeSignatures sigs;
  EngineSlot slot(std::make_shared<VersionedEngine>("v1"));
  std::shared_ptr<const ScanEngine> before = slot.Get();
  int swaps = 0;
  EngineReloader::Options options = NoWatching();
  options.on_swap = [&swaps](const ScanEngine&) { ++swaps; };
  EngineReloader reloader(&slot, sigs.Loader(), sigs.Fingerprint(), options, absl::Seconds(1));
  reloader.Start();
  sigs.Replace("broken", "cannot load signatures from '/sigs': Malformed database");
  absl::StatusOr<v1::EngineStatus> status = reloader.Reload("sighup");
  ASSERT_TRUE(status.ok()) << status.status();  // the reload ran; its failure is reported
  EXPECT_EQ(slot.Get(), before);
  EXPECT_EQ(status->version(), "v1");
  EXPECT_FALSE(status->last_reload().ok());
  EXPECT_THAT(status->last_reload().error(), HasSubstr("Malformed database"));
  EXPECT_EQ(status->last_reload().version(), "v1");
  EXPECT_EQ(status->reloads_failed(), 1u);
  EXPECT_EQ(swaps, 0);
}

// Scans that began on the old engine keep it; it is freed when the last lets go, on the
// reloader's thread, not on the scan's.
TEST(EngineReloaderTest, TheOldEngineIsFreedAfterItsLastScanOnTheReloaderThread) {
  FakeSignatures sigs;
  std::atomic<int> freed{0};
  std::thread::id freed_on;
  EngineSlot slot(std::make_shared<VersionedEngine>("v1", &freed, &freed_on));
  EngineReloader reloader(&slot, sigs.Loader(), sigs.Fingerprint(), NoWatching(), absl::Seconds(1));
  reloader.Start();
  std::shared_ptr<const ScanEngine> running_scan = slot.Get();
  sigs.Replace("v2");
  reloader.RequestReload("admin");
  ASSERT_TRUE(Eventually([&] { return reloader.Status().old_engine_held(); }));
  EXPECT_EQ(slot.Get()->version(), "v2");    // new scans get the new engine
  EXPECT_EQ(running_scan->version(), "v1");  // the running one keeps its own
  absl::SleepFor(absl::Milliseconds(50));    // several drain checks
  EXPECT_EQ(freed.load(), 0);
  running_scan.reset();  // the scan ends
  ASSERT_TRUE(Eventually([&] { return freed.load() == 1; }));
  EXPECT_NE(freed_on, std::this_thread::get_id());
  ASSERT_TRUE(Eventually([&] { return !reloader.Status().old_engine_held(); }));
}

// Reload() waits for a load that began after it was called: a change made while another load
// was running is picked up, and the requests made meanwhile share one more load.
TEST(EngineReloaderTest, RequestsDuringALoadAreServedByOneMoreLoad) {
  FakeSignatures sigs;
  EngineSlot slot(std::make_shared<VersionedEngine>("v1"));
  EngineReloader reloader(&slot, sigs.Loader(), sigs.Fingerprint(), NoWatching(), absl::Seconds(1));
  absl::Notification gate;
  sigs.HoldLoads(&gate);
  reloader.Start();
  sigs.Replace("v2");
  reloader.RequestReload("sighup");
  sigs.WaitUntilLoading();  // the first load is under way, held at the gate
  sigs.Replace("v3");
  absl::StatusOr<v1::EngineStatus> a, b;
  std::thread first([&] { a = reloader.Reload("admin a"); });
  std::thread second([&] { b = reloader.Reload("admin b"); });
  ASSERT_TRUE(Eventually([&] { return reloader.Status().reloading(); }));
  absl::SleepFor(absl::Milliseconds(20));  // let both callers queue up
  gate.Notify();
  first.join();
  second.join();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->version(), "v3");
  EXPECT_EQ(b->version(), "v3");
  EXPECT_EQ(sigs.loads(), 2);
  EXPECT_EQ(a->reloads_ok(), 2u);
}

// The directory is replaced by a broken file while a load runs: that load fails, the old engine
// keeps serving, the status says why; the watcher loads again once the files change.
TEST(EngineReloaderTest, BrokenFilesMidLoadKeepTheOldEngineAndTheWatcherRetriesOnChange) {
  FakeSignatures sigs;
  EngineSlot slot(std::make_shared<VersionedEngine>("v1"));
  EngineReloader::Options options = NoWatching();
  options.watch_interval = absl::Milliseconds(5);
  EngineReloader reloader(&slot, sigs.Loader(), sigs.Fingerprint(), options, absl::Seconds(1));
  absl::Notification gate;
  sigs.HoldLoads(&gate);
  reloader.Start();
  sigs.Replace("v2");  // the watcher sees it twice, then loads
  sigs.WaitUntilLoading();
  sigs.Replace("half-copied", "signature dir '/sigs' changed while it was being loaded; retry");
  gate.Notify();
  // The load under way fails; the files it found afterwards differ from those it began with,
  // so the watcher tries them once more, and that fails too.
  ASSERT_TRUE(Eventually([&] { return reloader.Status().reloads_failed() == 2; }));
  v1::EngineStatus status = reloader.Status();
  EXPECT_EQ(status.version(), "v1");
  EXPECT_EQ(slot.Get()->version(), "v1");
  EXPECT_EQ(status.last_reload().trigger(), "signature directory changed");
  EXPECT_THAT(status.last_reload().error(), HasSubstr("changed while it was being loaded"));
  // The broken set is not loaded over and over.
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(sigs.loads(), 2);
  EXPECT_EQ(reloader.Status().reloads_failed(), 2u);
  // A good set arrives: loaded, swapped in.
  sigs.Replace("v3");
  ASSERT_TRUE(Eventually([&] { return slot.Get()->version() == "v3"; }));
  EXPECT_TRUE(reloader.Status().last_reload().ok());
}

TEST(EngineReloaderTest, AWatcherLoadsOnlyAfterTwoChecksAgree) {
  FakeSignatures sigs;
  EngineSlot slot(std::make_shared<VersionedEngine>("v1"));
  EngineReloader::Options options = NoWatching();
  options.watch_interval = absl::Milliseconds(5);
  EngineReloader reloader(&slot, sigs.Loader(), sigs.Fingerprint(), options, absl::Seconds(1));
  reloader.Start();
  absl::SleepFor(absl::Milliseconds(30));
  EXPECT_EQ(sigs.loads(), 0);  // unchanged files are not loaded again
  sigs.Replace("v2");
  ASSERT_TRUE(Eventually([&] { return slot.Get()->version() == "v2"; }));
  EXPECT_EQ(sigs.loads(), 1);
}

TEST(EngineReloaderTest, StoppingEndsAWaitingReload) {
  FakeSignatures sigs;
  EngineSlot slot(std::make_shared<VersionedEngine>("v1"));
  auto reloader = std::make_unique<EngineReloader>(&slot, sigs.Loader(), sigs.Fingerprint(),
                                                   NoWatching(), absl::Seconds(1));
  // Never started: nothing serves the request, so only Stop() can end the wait.
  absl::StatusOr<v1::EngineStatus> result;
  std::thread caller([&] { result = reloader->Reload("admin"); });
  absl::SleepFor(absl::Milliseconds(20));
  reloader->Stop();
  caller.join();
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace vmscan
