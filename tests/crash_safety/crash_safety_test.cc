// Crash safety of the Backup rule (docs/design.md §2, §5): "a copy of the original is saved in
// Backup before the action is reported as done". The real vmscan-server binary runs with action
// AUTO while client threads stream disinfectable and undisinfectable infected messages at it (so
// replies are DELIVER_DISINFECTED and DELETE, each with a backup id); the server is killed with
// SIGKILL at random moments and restarted on the same state dir. The kill delays come from a
// seed that is printed (VMSCAN_CRASH_SEED replays them; thread timing still varies). While the
// server is down the test opens the LMDB store itself and checks:
//   - every backup id whose reply reached a client is present, with the action, size and SHA-256
//     of what that client sent, and its original reads back with that SHA-256;
//   - no record is damaged: every listed record's metadata decodes and its original reads back
//     (records written but never acknowledged may exist; they must be intact too);
//   - the store opens cleanly and its totals agree with its records.
// Iterates until kMaxKills kills or kTimeBudget, whichever comes first.
#include <fcntl.h>
#include <openssl/sha.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/logging.h"
#include "gtest/gtest.h"
#include "guest_agent/client/scan_client.h"
#include "host_server/backup/lmdb_backup_store.h"
#include "vmscan/v1/config.pb.h"

namespace vmscan {
namespace {

constexpr int kMaxKills = 300;
constexpr absl::Duration kTimeBudget = absl::Seconds(120);
constexpr int kClientThreads = 3;
constexpr int kMaxKillDelayMs = 250;  // after the server reports its port

std::string Sha256Of(absl::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

// The 68-byte EICAR test file, assembled so that this source file is not detected.
std::string Eicar() {
  return absl::StrCat("X5O!P%@AP[4\\PZX54(P^)7CC)7}$", "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*");
}

std::string Base64Lines(absl::string_view data) {
  std::string encoded;
  absl::Base64Escape(data, &encoded);
  std::string wrapped;
  for (size_t i = 0; i < encoded.size(); i += 76) {
    absl::StrAppend(&wrapped, encoded.substr(i, 76), "\r\n");
  }
  return wrapped;
}

// Under action AUTO: a clean text part plus an EICAR attachment → DELIVER_DISINFECTED.
std::string DisinfectableMessage(absl::string_view token) {
  return absl::StrCat("From: a@example.org\r\nTo: b@example.net\r\nSubject: crash ", token,
                      "\r\nMessage-ID: <", token,
                      "@example.org>\r\nMIME-Version: 1.0\r\n"
                      "Content-Type: multipart/mixed; boundary=\"=_c\"\r\n\r\n"
                      "--=_c\r\nContent-Type: text/plain\r\n\r\nunique text ",
                      token,
                      "\r\n--=_c\r\nContent-Type: application/octet-stream; name=\"x.com\"\r\n"
                      "Content-Disposition: attachment; filename=\"x.com\"\r\n"
                      "Content-Transfer-Encoding: base64\r\n\r\n",
                      Base64Lines(Eicar()), "--=_c--\r\n");
}

// Under action AUTO: a single-part message whose body is the threat → DELETE.
std::string SinglePartInfectedMessage(absl::string_view token) {
  return absl::StrCat("From: a@example.org\r\nTo: b@example.net\r\nSubject: crash ", token,
                      "\r\nMessage-ID: <", token,
                      "@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n",
                      Eicar(), "\r\n", token, "\r\n");
}

// A vmscan-server child process. Killed with SIGKILL and reaped when destroyed, whatever
// happened; PR_SET_PDEATHSIG kills it if the test process dies without running destructors.
class ServerProcess {
 public:
  ServerProcess(const std::string& state_dir, const std::string& log_file)
      : port_file_(state_dir + ".port") {
    std::filesystem::remove(port_file_);
    const std::vector<std::string> args = {
        VMSCAN_SERVER_BIN,
        "--set",
        "listen=127.0.0.1:0",
        "--set",
        absl::StrCat("state_dir=", state_dir),
        "--set",
        absl::StrCat("signatures_dir=", VMSCAN_SOURCE_DIR, "/deploy/signatures"),
        "--set",
        "mail_antivirus.action_on_threat=AUTO",
        "--set",
        "workers=2",
        "--set",
        "log_level=warning",
        "--port-file",
        port_file_,
    };
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const pid_t parent = getpid();
    const int log_fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    pid_ = fork();
    if (pid_ == 0) {
      // Only async-signal-safe calls between fork and exec.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(126);
      if (log_fd >= 0) {
        dup2(log_fd, STDOUT_FILENO);
        dup2(log_fd, STDERR_FILENO);
      }
      execv(argv[0], argv.data());
      _exit(127);
    }
    if (log_fd >= 0) close(log_fd);
  }

  ~ServerProcess() { Kill(); }

  // Waits for the port file; 0 if the server did not come up (or exited) within `timeout`.
  int WaitForPort(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (pid_ > 0 && absl::Now() < deadline) {
      std::ifstream in(port_file_);
      int port = 0;
      if (in >> port && port > 0) return port;
      if (waitpid(pid_, &status_, WNOHANG) == pid_) {
        pid_ = -1;
        return 0;
      }
      absl::SleepFor(absl::Milliseconds(2));
    }
    return 0;
  }

  // SIGKILL and reap. Returns true if the process was still running when killed.
  bool Kill() {
    if (pid_ <= 0) return false;
    const bool running = waitpid(pid_, &status_, WNOHANG) == 0;
    if (running) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status_, 0);
    }
    pid_ = -1;
    return running;
  }

  int status() const { return status_; }

 private:
  std::string port_file_;
  pid_t pid_ = -1;
  int status_ = 0;
};

// A reply that reached a client: what it was told was saved, and what it had sent.
struct Acknowledged {
  std::string sha256;
  uint64_t size = 0;
  v1::Action action = v1::ACTION_UNSPECIFIED;
};

class Ledger {
 public:
  void Add(const std::string& id, Acknowledged ack) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!acks_.emplace(id, std::move(ack)).second) duplicate_ids_.push_back(id);
  }
  void Fail(std::string what) {
    std::lock_guard<std::mutex> lock(mu_);
    if (failures_.size() < 20) failures_.push_back(std::move(what));
  }
  std::map<std::string, Acknowledged> acks() const {
    std::lock_guard<std::mutex> lock(mu_);
    return acks_;
  }
  std::vector<std::string> failures() const {
    std::lock_guard<std::mutex> lock(mu_);
    return failures_;
  }
  std::vector<std::string> duplicate_ids() const {
    std::lock_guard<std::mutex> lock(mu_);
    return duplicate_ids_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, Acknowledged> acks_;
  std::vector<std::string> failures_;
  std::vector<std::string> duplicate_ids_;
};

// Sends unique infected messages to `address` until `stop`; records every acknowledged backup.
void ClientLoop(const std::string& address, int thread, int incarnation, uint64_t seed,
                const std::atomic<bool>& stop, std::atomic<int>& in_flight, Ledger& ledger) {
  v1::AgentConfig config;
  config.add_servers(address);
  config.mutable_tls()->set_insecure_loopback(true);
  config.set_timeout_ms(20000);
  config.set_connect_timeout_ms(2000);
  std::unique_ptr<ScanClient> client = ScanClient::Create(config);
  v1::ScanMetadata metadata;
  metadata.mutable_vm()->set_id(absl::StrCat("crash-vm-", thread));
  metadata.set_channel(v1::POP3);
  metadata.set_direction(v1::INCOMING);
  for (int n = 0; !stop.load(); ++n) {
    const std::string token = absl::StrCat("s", seed, "-i", incarnation, "-t", thread, "-n", n);
    const bool disinfectable = n % 2 == thread % 2;
    const std::string message =
        disinfectable ? DisinfectableMessage(token) : SinglePartInfectedMessage(token);
    const v1::Action expected = disinfectable ? v1::DELIVER_DISINFECTED : v1::DELETE;
    in_flight.fetch_add(1);
    absl::StatusOr<ScanResponse> r = client->Scan(metadata, message);
    in_flight.fetch_sub(1);
    if (!r.ok()) {  // the server died under us (or is not up yet): nothing was acknowledged.
      absl::SleepFor(absl::Milliseconds(5));
      continue;
    }
    const std::string sha = Sha256Of(message);
    if (r->result.action() != expected || r->result.backup_id().empty() ||
        r->result.sha256() != sha) {
      ledger.Fail(absl::StrCat(token, ": action ", v1::Action_Name(r->result.action()),
                               " backup_id '", r->result.backup_id(), "' sha256 ",
                               r->result.sha256(), " (want ", v1::Action_Name(expected), ", ", sha,
                               ")"));
      continue;
    }
    ledger.Add(r->result.backup_id(), {sha, message.size(), expected});
  }
}

// The client threads of one server incarnation; stopped and joined when destroyed, so that a
// failed assertion never leaves a thread running on the stack of a finished test.
class Clients {
 public:
  Clients(const std::string& address, int incarnation, uint64_t seed, Ledger& ledger) {
    for (int t = 0; t < kClientThreads; ++t) {
      threads_.emplace_back(ClientLoop, address, t, incarnation, seed, std::cref(stop_),
                            std::ref(in_flight_), std::ref(ledger));
    }
  }
  ~Clients() {
    stop_.store(true);
    for (std::thread& t : threads_) t.join();
  }
  int in_flight() const { return in_flight_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> in_flight_{0};
  std::vector<std::thread> threads_;
};

struct StoreCheck {
  size_t records = 0;
  size_t originals_read = 0;
};

// Opens the store of a dead server and checks it; closes it before returning.
// `verified` holds the ids whose original was already read back intact after an earlier kill;
// they are read again only when `full` (records are immutable; their metadata, listed every
// time, still proves they exist and decode).
StoreCheck CheckStore(const std::string& backup_dir,
                      const std::map<std::string, Acknowledged>& acks,
                      std::set<std::string>& verified, bool full) {
  StoreCheck check;
  LmdbBackupOptions options;
  options.dir = backup_dir;
  options.max_age = absl::ZeroDuration();
  options.max_total_bytes = 0;  // no retention pass may remove anything while we look.
  absl::StatusOr<std::unique_ptr<LmdbBackupStore>> opened = LmdbBackupStore::Open(options);
  EXPECT_TRUE(opened.ok()) << "store does not open after SIGKILL: " << opened.status();
  if (!opened.ok()) return check;
  LmdbBackupStore& store = **opened;

  v1::BackupFilter all;
  all.set_limit(UINT32_MAX);
  absl::StatusOr<std::vector<v1::BackupRecord>> listed = store.List(all);
  EXPECT_TRUE(listed.ok()) << listed.status();
  if (!listed.ok()) return check;
  check.records = listed->size();
  std::map<std::string, const v1::BackupRecord*> by_id;
  uint64_t stored_bytes = 0;
  uint64_t original_bytes = 0;
  for (const v1::BackupRecord& record : *listed) {
    EXPECT_EQ(record.damage(), "") << "damaged record " << record.id();
    EXPECT_TRUE(by_id.emplace(record.id(), &record).second) << "listed twice: " << record.id();
    stored_bytes += record.stored_size();
    original_bytes += record.size();
    EXPECT_EQ(record.action() == v1::DELETE || record.action() == v1::DELIVER_DISINFECTED, true)
        << record.id() << " has action " << v1::Action_Name(record.action());
    if (!full && verified.count(record.id())) continue;
    absl::StatusOr<std::string> original = store.GetOriginal(record.id());
    ++check.originals_read;
    EXPECT_TRUE(original.ok()) << record.id() << ": " << original.status();
    if (!original.ok()) continue;
    EXPECT_EQ(Sha256Of(*original), record.sha256()) << record.id();
    EXPECT_EQ(original->size(), record.size()) << record.id();
    verified.insert(record.id());
  }
  absl::StatusOr<v1::BackupStats> stats = store.Stats();
  EXPECT_TRUE(stats.ok()) << stats.status();
  if (stats.ok()) {
    EXPECT_EQ(stats->records(), listed->size()) << "totals disagree with the records";
    EXPECT_EQ(stats->stored_bytes(), stored_bytes) << "totals disagree with the records";
    EXPECT_EQ(stats->original_bytes(), original_bytes) << "totals disagree with the records";
  }

  for (const auto& [id, ack] : acks) {
    auto it = by_id.find(id);
    EXPECT_TRUE(it != by_id.end()) << "acknowledged backup " << id << " is missing";
    if (it == by_id.end()) continue;
    EXPECT_EQ(it->second->sha256(), ack.sha256) << id;
    EXPECT_EQ(it->second->size(), ack.size) << id;
    EXPECT_EQ(it->second->action(), ack.action) << id;
  }
  return check;  // the store closes here, before the server is restarted.
}

std::string Tail(const std::string& file, size_t bytes) {
  std::ifstream in(file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

TEST(CrashSafetyTest, AcknowledgedBackupsSurviveSigkillAtRandomPoints) {
  SetLogLevel(LogLevel::kWARNING);  // the store opened here logs its totals at INFO
  uint64_t seed = std::random_device()();
  if (const char* env = std::getenv("VMSCAN_CRASH_SEED"); env != nullptr) {
    ASSERT_TRUE(absl::SimpleAtoi(env, &seed)) << "VMSCAN_CRASH_SEED=" << env;
  }
  std::printf("crash_safety: seed %llu (replay with VMSCAN_CRASH_SEED=%llu)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  SCOPED_TRACE(absl::StrCat("seed ", seed));
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> kill_delay_ms(0, kMaxKillDelayMs);

  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / absl::StrCat("vmscan-crash-", getpid(), "-", seed);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string state_dir = (dir / "state").string();
  const std::string log_file = (dir / "server.log").string();
  const std::string backup_dir = state_dir + "/backup";

  Ledger ledger;
  std::set<std::string> verified;
  const absl::Time start = absl::Now();
  int kills = 0;
  int kills_with_scans_in_flight = 0;
  size_t originals_read = 0;
  size_t records = 0;
  while (kills < kMaxKills && absl::Now() - start < kTimeBudget) {
    {
      // Declared first, destroyed last: the server is dead before the clients are joined.
      std::unique_ptr<Clients> clients;
      ServerProcess server(state_dir, log_file);
      const int port = server.WaitForPort(absl::Seconds(30));
      ASSERT_GT(port, 0) << "vmscan-server did not start (status " << server.status() << "); log:\n"
                         << Tail(log_file, 4000);
      clients = std::make_unique<Clients>(absl::StrCat("127.0.0.1:", port), kills, seed, ledger);
      absl::SleepFor(absl::Milliseconds(kill_delay_ms(rng)));
      const int busy = clients->in_flight();
      const bool was_running = server.Kill();
      ASSERT_TRUE(was_running) << "vmscan-server exited by itself (status " << server.status()
                               << "); log:\n"
                               << Tail(log_file, 4000);
      ++kills;
      if (busy > 0) ++kills_with_scans_in_flight;
    }  // the server is dead and reaped, the clients joined
    const std::map<std::string, Acknowledged> acks = ledger.acks();

    StoreCheck check = CheckStore(backup_dir, acks, verified, /*full=*/false);
    originals_read += check.originals_read;
    records = check.records;
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "after kill " << kills << "; server log tail:\n" << Tail(log_file, 4000);
      break;
    }
  }
  // A last pass reads every original again: a record damaged after it was first checked shows.
  const std::map<std::string, Acknowledged> acks = ledger.acks();
  StoreCheck final_check = CheckStore(backup_dir, acks, verified, /*full=*/true);
  originals_read += final_check.originals_read;

  for (const std::string& failure : ledger.failures()) ADD_FAILURE() << failure;
  EXPECT_EQ(ledger.duplicate_ids().size(), 0u) << "one backup id acknowledged twice";
  size_t disinfected = 0;
  for (const auto& [id, ack] : acks) disinfected += ack.action == v1::DELIVER_DISINFECTED;
  std::printf(
      "crash_safety: %d kills (%d with scans in flight) in %.1f s; %zu acknowledged backups "
      "verified (%zu DELIVER_DISINFECTED, %zu DELETE); %zu records in the store, %zu "
      "unacknowledged; "
      "%zu originals read back\n",
      kills, kills_with_scans_in_flight, absl::ToDoubleSeconds(absl::Now() - start), acks.size(),
      disinfected, acks.size() - disinfected, final_check.records,
      final_check.records - acks.size(), originals_read);
  std::fflush(stdout);

  // Not vacuous: many kills, many of them mid-scan, and plenty of replies that had to survive.
  EXPECT_GE(kills, 50);
  EXPECT_GE(kills_with_scans_in_flight, kills / 2);
  EXPECT_GE(acks.size(), 100u);
  EXPECT_GT(disinfected, 0u);
  EXPECT_GT(acks.size() - disinfected, 0u);
  EXPECT_EQ(final_check.records, records);
  if (!::testing::Test::HasFailure()) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vmscan
