// Per-VM fair scheduling end to end (docs/design.md §6): the real server (gRPC, libclamav,
// worker pool, byte budget) and real ScanClients, one VM flooding it with 64 streams of 10 MiB
// while another VM sends ordinary mail. The budget is sized so that the flood alone can fill it:
// with the per-VM share off, the other VM is refused; with it on, every one of its scans succeeds
// while the flooder is refused or waits.
#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "guest_agent/config/agent_config.h"
#include "tests/integration/test_server.h"
#include "tests/testing/test_mail.h"

namespace vmscan::testing {
namespace {

constexpr uint64_t kFloodBody = 10ull << 20;  // 10 MiB
constexpr int kFloodStreams = 64;
constexpr int kVictimScans = 30;

// One flood message: its own Subject (so libclamav's cache does not answer the raw scan) over a
// body shared by all, read chunk by chunk so that 64 streams need not hold 640 MiB here.
class FloodMessage : public MessageSource {
 public:
  FloodMessage(const std::string& body, int n)
      : header_(absl::StrCat("From: flood@vm-flood.example\r\nSubject: flood ", n,
                             "\r\nContent-Type: text/plain\r\n\r\n")),
        body_(body) {}
  uint64_t size() const override { return header_.size() + body_.size(); }
  absl::Status Read(uint64_t offset, size_t n, std::string* chunk) const override {
    chunk->clear();
    if (offset < header_.size()) {
      const size_t from_header = std::min<uint64_t>(n, header_.size() - offset);
      chunk->append(header_, offset, from_header);
      n -= from_header;
      offset = header_.size();
    }
    chunk->append(body_, offset - header_.size(), n);
    return absl::OkStatus();
  }

 private:
  const std::string header_;
  const std::string& body_;
};

std::string FloodBody() {
  std::string line(78, 'f');
  line += "\r\n";
  std::string body;
  body.reserve(kFloodBody);
  while (body.size() + line.size() <= kFloodBody) body += line;
  body.append(kFloodBody - body.size(), 'f');
  return body;
}

v1::ScanMetadata Metadata(const std::string& vm) {
  v1::ScanMetadata metadata = TestMetadata();
  metadata.mutable_vm()->set_id(vm);
  metadata.mutable_vm()->set_name(vm);
  return metadata;
}

std::unique_ptr<ScanClient> StreamingClient(const HostServer& server) {
  v1::AgentConfig config = DefaultAgentConfig();
  config.clear_servers();
  config.add_servers(server.address());
  config.set_timeout_ms(120000);
  config.set_hash_first(false);  // every attempt uploads; no 10 MiB hash per try
  return ScanClient::Create(config);
}

struct FloodCounts {
  std::atomic<int> scanned{0};
  std::atomic<int> refused{0};  // RESOURCE_EXHAUSTED "scan queue full ..."
  std::atomic<int> failed{0};   // anything else
  absl::Mutex mu;
  std::string last_failure ABSL_GUARDED_BY(mu);
};

// 64 streams from one VM, each sending 10 MiB messages again and again (after a refusal, 20 ms
// later) until stopped.
class Flood {
 public:
  Flood(const HostServer& server, const std::string& body) : client_(StreamingClient(server)) {
    for (int i = 0; i < kFloodStreams; ++i) {
      threads_.emplace_back([this, &body, i] {
        for (int n = 0; !stop_.load(); ++n) {
          FloodMessage message(body, i * 100000 + n);
          absl::StatusOr<ScanResponse> r = client_->Scan(Metadata("vm-flood"), message);
          if (r.ok()) {
            ++counts_.scanned;
          } else if (IsScanQueueFull(r.status())) {
            ++counts_.refused;
            absl::SleepFor(absl::Milliseconds(20));
          } else {
            ++counts_.failed;
            absl::MutexLock lock(&counts_.mu);
            counts_.last_failure = r.status().ToString();
          }
        }
      });
    }
  }
  ~Flood() { Stop(); }
  void Stop() {
    stop_ = true;
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  FloodCounts& counts() { return counts_; }

 private:
  std::unique_ptr<ScanClient> client_;
  std::atomic<bool> stop_{false};
  FloodCounts counts_;
  std::vector<std::thread> threads_;
};

struct VictimOutcome {
  int clean = 0;
  int infected = 0;
  int refused = 0;
  std::vector<std::string> errors;
};

// The other VM's mail, one message after another: plain mail, every fifth one with EICAR.
VictimOutcome RunVictim(const HostServer& server) {
  std::unique_ptr<ScanClient> client = ClientFor(server);
  VictimOutcome out;
  for (int i = 0; i < kVictimScans; ++i) {
    const bool eicar = i % 5 == 4;
    const std::string mail =
        eicar ? MailWithAttachment("invoice.com", "application/octet-stream", Eicar())
              : PlainMail(absl::StrCat("report ", i), "numbers attached");
    absl::StatusOr<ScanResponse> r = client->Scan(Metadata("vm-office"), mail);
    if (!r.ok()) {
      if (IsScanQueueFull(r.status())) ++out.refused;
      out.errors.push_back(r.status().ToString());
    } else if (r->result.verdict() == (eicar ? v1::INFECTED : v1::CLEAN)) {
      ++(eicar ? out.infected : out.clean);
    } else {
      out.errors.push_back(
          absl::StrCat("message ", i, ": verdict ", v1::Verdict_Name(r->result.verdict())));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return out;
}

// Two workers; the budget holds exactly four flood messages and a few hundred bytes more, so a
// flood that may take all of it leaves no room for even a small message.
std::vector<std::string> Settings(int share_percent) {
  const std::string no_body;
  // The largest flood message (a seven-digit number in its Subject); smaller ones leave a few
  // bytes more, still far less than any mail of the other VM.
  const uint64_t flood_message = FloodMessage(no_body, 1000000).size() + kFloodBody;
  return {"workers=2",
          "queue_depth=16",
          "verdict_cache_bytes=0",
          absl::StrCat("limits.max_message_bytes=", 11ull << 20),
          absl::StrCat("max_inflight_bytes=", 4 * flood_message + 16),
          absl::StrCat("scheduler.max_vm_share_percent=", share_percent)};
}

TEST(FairSchedulingTest, AFloodingVmIsRefusedOrWaitsWhileAnotherVmIsScanned) {
  absl::StatusOr<std::unique_ptr<HostServer>> server = StartTestServer(Settings(50));
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string body = FloodBody();
  Flood flood(**server, body);
  // The flood is under way: it holds its whole share, has been refused beyond it, and is slowed
  // rather than stopped (some of its messages were scanned).
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  while ((flood.counts().refused.load() < kFloodStreams || flood.counts().scanned.load() < 1) &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_GE(flood.counts().refused.load(), kFloodStreams);
  EXPECT_GE(flood.counts().scanned.load(), 1);
  VictimOutcome victim = RunVictim(**server);
  flood.Stop();

  EXPECT_EQ(victim.refused, 0);
  EXPECT_TRUE(victim.errors.empty()) << victim.errors.front();
  EXPECT_EQ(victim.clean, kVictimScans - kVictimScans / 5);
  EXPECT_EQ(victim.infected, kVictimScans / 5);
  EXPECT_EQ(flood.counts().failed.load(), 0) << [&] {
    absl::MutexLock lock(&flood.counts().mu);
    return flood.counts().last_failure;
  }();
}

// The same flood with the per-VM share turned off (100%): the flood fills the budget, and the
// other VM is refused — the fault the scheduler exists for, shown to be real.
TEST(FairSchedulingTest, WithoutAPerVmShareTheFloodLocksTheOtherVmOut) {
  absl::StatusOr<std::unique_ptr<HostServer>> server = StartTestServer(Settings(100));
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string body = FloodBody();
  Flood flood(**server, body);
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (flood.counts().refused.load() < kFloodStreams && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  VictimOutcome victim = RunVictim(**server);
  flood.Stop();
  EXPECT_GT(victim.refused, 0);
  for (const std::string& error : victim.errors) {
    EXPECT_TRUE(absl::StrContains(error, "max_inflight_bytes")) << error;
  }
}

}  // namespace
}  // namespace vmscan::testing
