// Signature reload without a stalled scan (docs/design.md §6), end to end: the real server with
// real libclamav over a copy of the bundled signatures that the tests change; reloads asked for
// by the real vmscanctl binary, by the API, by the directory watcher and by SIGHUP to the real
// vmscan-server binary; scans running in a loop across them must all succeed.
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "guest_agent/config/agent_config.h"
#include "tests/integration/test_server.h"
#include "tests/integration/vmscanctl_runner.h"
#include "tests/smtp/smtp_peers.h"
#include "tests/testing/test_mail.h"
#include "vmscan/v1/admin.pb.h"

namespace vmscan::testing {
namespace {

using ::testing::HasSubstr;

std::string MarkerText(int n) { return absl::StrCat("VMSCAN-RELOAD-MARKER-", n, "-c0ffee"); }

std::string MarkerMail(int n) {
  return MailWithAttachment("notes.txt", "text/plain", absl::StrCat("see ", MarkerText(n), "\n"));
}

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

// A new body signature for MarkerText(n), in a file of its own.
void AddMarkerSignature(const std::filesystem::path& dir, int n) {
  WriteFile(
      dir / absl::StrCat("reload", n, ".ndb"),
      absl::StrCat("Vmscan.Test.Reload", n, ":0:*:", absl::BytesToHexString(MarkerText(n)), "\n"));
}

// A fresh copy of the bundled signatures.
std::filesystem::path CopyOfBundledSignatures(const std::string& name) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / absl::StrCat("vmscan-", name, "-", getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  for (const auto& entry : std::filesystem::directory_iterator(SourcePath("deploy/signatures"))) {
    if (entry.path().extension() != ".md") std::filesystem::copy(entry.path(), dir);
  }
  return dir;
}

// Two threads scanning, one after another, EICAR mail (must be INFECTED) and plain mail (must be
// CLEAN), until stopped; every other outcome is counted as a failure.
class ScanLoop {
 public:
  explicit ScanLoop(const ScanClient* client) {
    for (int t = 0; t < 2; ++t) {
      threads_.emplace_back([this, client, t] {
        for (int i = 0; !stop_.load(); ++i) {
          const bool eicar = (i + t) % 2 == 0;
          const std::string mail =
              eicar ? MailWithAttachment("a.com", "application/octet-stream", Eicar())
                    : PlainMail(absl::StrCat("loop ", t, " ", i), "nothing to see");
          absl::StatusOr<ScanResponse> r = client->Scan(TestMetadata(), mail);
          absl::MutexLock lock(&mu_);
          if (r.ok() && r->result.verdict() == (eicar ? v1::INFECTED : v1::CLEAN)) {
            ++ok_;
            versions_.insert(r->result.signature_version());
          } else {
            failures_.push_back(r.ok() ? v1::Verdict_Name(r->result.verdict())
                                       : r.status().ToString());
          }
        }
      });
    }
  }
  ~ScanLoop() { Stop(); }
  void Stop() {
    stop_ = true;
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  int ok() {
    absl::MutexLock lock(&mu_);
    return ok_;
  }
  std::vector<std::string> failures() {
    absl::MutexLock lock(&mu_);
    return failures_;
  }
  std::set<std::string> versions() {
    absl::MutexLock lock(&mu_);
    return versions_;
  }

 private:
  std::atomic<bool> stop_{false};
  absl::Mutex mu_;
  int ok_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> failures_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> versions_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_;
};

v1::ScanResult ScanOk(const ScanClient& client, const std::string& mail) {
  absl::StatusOr<ScanResponse> r = client.Scan(TestMetadata(), mail);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? r->result : v1::ScanResult();
}

template <typename F>
bool Eventually(F done, absl::Duration timeout = absl::Seconds(60)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

// Scans run in a loop across four reloads, two asked for with `vmscanctl engine reload` and two
// through the API; none fails, each reload brings in its new signature, and a marker the verdict
// cache had as clean under the old signatures is found at once under the new ones.
TEST(EngineReloadTest, ScansInALoopAcrossSeveralReloadsAllSucceed) {
  const std::filesystem::path sigs = CopyOfBundledSignatures("reload-loop");
  absl::StatusOr<std::unique_ptr<HostServer>> server = StartTestServer(
      {"signatures_dir=" + sigs.string(), "engine.watch_interval_ms=0", "engine.reload_nice=5"});
  ASSERT_TRUE(server.ok()) << server.status();
  std::unique_ptr<ScanClient> client = ClientFor(**server);
  const v1::EngineStatus first = (*server)->reloader()->Status();
  ScanLoop loop(client.get());

  v1::EngineStatus before = first;
  for (int n = 1; n <= 4; ++n) {
    ASSERT_TRUE(Eventually([&] { return loop.ok() >= 4 * n; }));     // scans in between
    EXPECT_EQ(ScanOk(*client, MarkerMail(n)).verdict(), v1::CLEAN);  // and now in the cache
    AddMarkerSignature(sigs, n);
    v1::EngineStatus after;
    if (n % 2 == 1) {
      CommandRun run = RunVmscanctl((*server)->address(), "--json engine reload");
      ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
      after = FromJson<v1::EngineStatus>(run.out);
    } else {
      absl::StatusOr<v1::EngineStatus> reloaded = (*server)->reloader()->Reload("test");
      ASSERT_TRUE(reloaded.ok()) << reloaded.status();
      after = *reloaded;
    }
    EXPECT_TRUE(after.last_reload().ok()) << after.last_reload().error();
    EXPECT_NE(after.version(), before.version());
    EXPECT_EQ(after.signature_count(), before.signature_count() + 1);
    EXPECT_EQ(after.reloads_ok(), static_cast<uint64_t>(n));
    const v1::ScanResult marker = ScanOk(*client, MarkerMail(n));
    EXPECT_EQ(marker.verdict(), v1::INFECTED) << "marker " << n << " after its reload";
    ASSERT_EQ(marker.threats_size(), 1);
    EXPECT_EQ(marker.threats(0).name(), absl::StrCat("Vmscan.Test.Reload", n, ".UNOFFICIAL"));
    EXPECT_EQ(marker.signature_version(), after.version());
    before = after;
  }
  ASSERT_TRUE(Eventually([&] { return loop.ok() >= 4 * 5; }));
  loop.Stop();
  EXPECT_THAT(loop.failures(), ::testing::IsEmpty());
  EXPECT_GE(loop.versions().size(), 3u);  // the loop's scans ran on several engines

  CommandRun status = RunVmscanctl((*server)->address(), "engine status");
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_THAT(status.out, HasSubstr("version      " + before.version()));
  EXPECT_THAT(status.out, HasSubstr("reloads      4 ok, 0 failed"));
  EXPECT_THAT(status.out, HasSubstr("signatures   " + std::to_string(first.signature_count() + 4) +
                                    " from " + sigs.string()));
  std::filesystem::remove_all(sigs);
}

// A hash database big enough that its load takes a while, so that the directory can be replaced
// while it runs.
void AddBigHashDatabase(const std::filesystem::path& dir) {
  std::string text;
  for (int i = 0; i < 300000; ++i) {
    absl::StrAppend(&text, absl::StrFormat("%032x", 0x5eed0000ull + i), ":", 1000 + i,
                    ":Vmscan.Test.Big", i, "\n");
  }
  WriteFile(dir / "big.hdb", text);
}

// The signature directory is replaced by a broken file while a reload is loading it: the engine
// that serves keeps serving (EICAR still found, no scan fails), the status reports the error, and
// vmscanctl engine reload says so with exit code 2.
TEST(EngineReloadTest, ABrokenDirectoryMidLoadKeepsTheOldEngineAndReportsWhy) {
  const std::filesystem::path sigs = CopyOfBundledSignatures("reload-broken");
  absl::StatusOr<std::unique_ptr<HostServer>> server =
      StartTestServer({"signatures_dir=" + sigs.string(), "engine.watch_interval_ms=100"});
  ASSERT_TRUE(server.ok()) << server.status();
  EngineReloader* reloader = (*server)->reloader();
  const std::string original = reloader->Status().version();
  const uint64_t original_count = reloader->Status().signature_count();
  std::unique_ptr<ScanClient> client = ClientFor(**server);
  ScanLoop loop(client.get());

  AddBigHashDatabase(sigs);
  CommandRun during;
  std::atomic<bool> admin_done{false};
  std::thread admin([&] {
    during = RunVmscanctl((*server)->address(), "--json engine reload");
    admin_done = true;
  });
  // Break the directory while a load runs (the watcher's or vmscanctl's), or at worst just after.
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (!reloader->Status().reloading() && !admin_done.load() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  for (const auto& entry : std::filesystem::directory_iterator(sigs)) {
    std::filesystem::remove(entry.path());
  }
  WriteFile(sigs / "broken.ndb", "this line is not a signature\n");
  admin.join();
  // 0 when a load of the good files won the race with the breakage, else 2.
  EXPECT_TRUE(during.exit_code == 0 || during.exit_code == 2) << during.out << during.err;

  // Whatever the race gave, a load of the broken directory then fails: the watcher's, or
  // vmscanctl's when it came after the watcher's (a slow machine, the sanitizer build).
  ASSERT_TRUE(Eventually([&] {
    v1::EngineStatus s = reloader->Status();
    return !s.reloading() && s.has_last_reload() && !s.last_reload().ok() &&
           s.reloads_failed() >= 1;
  }));
  CommandRun shown = RunVmscanctl((*server)->address(), "--json engine status");
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  const v1::EngineStatus status = FromJson<v1::EngineStatus>(shown.out);
  // The engine serving is the one from start-up, or one of the good files (with big.hdb) if a
  // load of those won the race; never anything of the broken directory.
  EXPECT_TRUE(status.version() == original || status.reloads_ok() >= 1) << status.version();
  EXPECT_GE(status.signature_count(), original_count);
  EXPECT_THAT(status.last_reload().error(),
              HasSubstr("cannot load signatures from '" + sigs.string() + "'"));
  EXPECT_GE(status.reloads_failed(), 1u);

  CommandRun again = RunVmscanctl((*server)->address(), "engine reload");
  EXPECT_EQ(again.exit_code, 2) << again.out << again.err;
  EXPECT_THAT(again.out,
              HasSubstr("reload failed, version " + status.version() + " keeps serving"));

  const v1::ScanResult eicar =
      ScanOk(*client, MailWithAttachment("a.com", "application/octet-stream", Eicar()));
  EXPECT_EQ(eicar.verdict(), v1::INFECTED);
  EXPECT_EQ(eicar.signature_version(), status.version());
  ASSERT_TRUE(Eventually([&] { return loop.ok() >= 10; }));
  loop.Stop();
  EXPECT_THAT(loop.failures(), ::testing::IsEmpty());
  std::filesystem::remove_all(sigs);
}

// SIGHUP to the real vmscan-server binary reloads; vmscanctl engine status shows it.
TEST(EngineReloadTest, SighupReloadsTheRealServer) {
  const std::filesystem::path sigs = CopyOfBundledSignatures("reload-sighup");
  const std::filesystem::path dir = sigs.string() + "-state";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string port_file = (dir / "port").string();
  absl::StatusOr<std::unique_ptr<ChildProcess>> process = ChildProcess::Start(
      {VMSCAN_SERVER_BIN, "--set=listen=127.0.0.1:0", "--set=state_dir=" + (dir / "var").string(),
       "--set=signatures_dir=" + sigs.string(), "--set=engine.watch_interval_ms=0",
       "--set=log_level=info", "--port-file", port_file},
      (dir / "server.log").string());
  ASSERT_TRUE(process.ok()) << process.status();
  ASSERT_TRUE(Eventually([&] { return std::filesystem::exists(port_file); }));
  int port = 0;
  std::ifstream(port_file) >> port;
  const std::string address = absl::StrCat("127.0.0.1:", port);
  CommandRun run = RunVmscanctl(address, "--json engine status");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const v1::EngineStatus first = FromJson<v1::EngineStatus>(run.out);
  EXPECT_FALSE(first.has_last_reload());

  AddMarkerSignature(sigs, 1);
  ASSERT_EQ(kill((*process)->pid(), SIGHUP), 0);
  v1::EngineStatus after;
  ASSERT_TRUE(Eventually([&] {
    CommandRun r = RunVmscanctl(address, "--json engine status");
    if (r.exit_code != 0) return false;
    after = FromJson<v1::EngineStatus>(r.out);
    return after.reloads_ok() == 1;
  }));
  EXPECT_EQ(after.last_reload().trigger(), "sighup");
  EXPECT_EQ(after.signature_count(), first.signature_count() + 1);
  EXPECT_NE(after.version(), first.version());

  v1::AgentConfig config = DefaultAgentConfig();
  config.clear_servers();
  config.add_servers(address);
  std::unique_ptr<ScanClient> client = ScanClient::Create(config);
  const v1::ScanResult marker = ScanOk(*client, MarkerMail(1));
  EXPECT_EQ(marker.verdict(), v1::INFECTED);
  EXPECT_EQ((*process)->Stop(), 0);  // SIGHUP did not end it; SIGTERM ends it cleanly
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(sigs);
}

}  // namespace
}  // namespace vmscan::testing
