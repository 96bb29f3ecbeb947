// SMTP throughput and added latency of the SMTP proxy (not run by ctest). One run measures three
// paths with the same realistic ~20 KB messages (text part + base64 attachment, every message
// unique so no verdict cache hits), at 1 and 16 concurrent clients:
//   direct   : client -> sink
//   vmscan   : client -> vmscan-agent (the real binary, `run`, SMTP proxy) -> sink, scanning
//              through a real HostServer (libclamav, deploy/signatures) in this process
//   clamsmtp : client -> /usr/sbin/clamsmtpd -> sink, scanning through /usr/sbin/clamd
//              (same signatures: deploy/signatures, mail + archive parsing on)
// Latency of one message = MAIL FROM sent .. final 250 after DATA received (one session per
// client, EHLO once). msgs/s counts from the moment every client's session is set up (connect,
// greeting, EHLO; the slowest setup is printed) to the last reply. Each case sends a fixed number
// of messages (after a short warm-up) under a time cap. Two sinks: "fast" (a tiny C++ sink in this
// process that accepts and discards) and "aiosmtpd" (python Maildir sink, the one the tests use),
// so a slow sink shows up as such.
//
//   smtp_proxy_bench [messages_per_case=400] [size_bytes=20480] [cap_seconds=60]
//   VMSCAN_BENCH_SINKS=fast,aiosmtpd   (default both; order = run order)
//   VMSCAN_BENCH_PATHS=vmscan          (profiling: only these paths; default all three)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <latch>
#include <mutex>
#include <random>
#include <thread>

#include "absl/base/call_once.h"
#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "guest_agent/client/scan_client.h"
#include "guest_agent/config/agent_config.h"
#include "tests/integration/test_server.h"
#include "tests/smtp/agent_process.h"
#include "tests/smtp/smtp_peers.h"
#include "tests/testing/test_mail.h"

namespace vmscan::testing {
namespace {

// ---------------------------------------------------------------------------------------------
// Messages: multipart/mixed, a text part and a base64 attachment of random bytes, `size` total.
std::string Message(size_t size, int n, std::mt19937_64& rng) {
  const std::string boundary = absl::StrCat("=_bench_", n, "_boundary");
  std::string m = absl::StrCat(
      "From: Alice Example <alice@example.org>\r\nTo: Bob Example <bob@example.net>\r\n"
      "Subject: Quarterly figures, revision ",
      n, "\r\nDate: Fri, 27 Nov 2026 07:30:00 +0000\r\nMessage-ID: <bench-", n,
      "@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"", boundary,
      "\"\r\n\r\nThis is a multi-part message in MIME format.\r\n\r\n--", boundary,
      "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
  static const char* kWords[] = {"the",     "report",  "attached", "numbers", "quarter", "revenue",
                                 "please",  "review",  "before",   "meeting", "regards", "budget",
                                 "figures", "changed", "since",    "last",    "draft",   "team"};
  std::string line;
  for (int words = 0; words < 220; ++words) {
    absl::StrAppend(&line, line.empty() ? "" : " ", kWords[rng() % 18]);
    if (line.size() > 66) {
      absl::StrAppend(&m, line, "\r\n");
      line.clear();
    }
  }
  absl::StrAppend(&m, line, "\r\n\r\n--", boundary,
                  "\r\nContent-Type: application/octet-stream; name=\"figures-", n,
                  ".dat\"\r\nContent-Transfer-Encoding: base64\r\n"
                  "Content-Disposition: attachment; filename=\"figures-",
                  n, ".dat\"\r\n\r\n");
  const std::string trailer = absl::StrCat("--", boundary, "--\r\n");
  const size_t left = size > m.size() + trailer.size() ? size - m.size() - trailer.size() : 78;
  const size_t raw_len = std::max<size_t>(57, left / 78 * 57);
  std::string raw(raw_len, '\0');
  for (char& c : raw) c = static_cast<char>(rng());
  const std::string b64 = absl::Base64Escape(raw);
  for (size_t i = 0; i < b64.size(); i += 76) absl::StrAppend(&m, b64.substr(i, 76), "\r\n");
  absl::StrAppend(&m, trailer);
  return m;
}

// ---------------------------------------------------------------------------------------------
// A sink that answers every SMTP command and discards the data (thread per connection).
class FastSink {
 public:
  FastSink() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(listen_fd_, 128);
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~FastSink() {
    stop_ = true;
    acceptor_.join();
    close(listen_fd_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int fd : fds_) shutdown(fd, SHUT_RDWR);
    }
    for (std::thread& t : conns_) t.join();
  }
  int port() const { return port_; }
  int64_t messages() const { return messages_; }

 private:
  void AcceptLoop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::lock_guard<std::mutex> lock(mu_);
      fds_.push_back(fd);
      conns_.emplace_back([this, fd] { Serve(fd); });
    }
  }
  static bool Write(int fd, absl::string_view s) {
    return send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
  }
  void Serve(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    std::string buf;
    bool in_data = false;
    char tmp[65536];
    bool ok = Write(fd, "220 fastsink ESMTP\r\n");
    while (ok) {
      ssize_t n = read(fd, tmp, sizeof(tmp));
      if (n <= 0) break;
      buf.append(tmp, n);
      for (;;) {
        if (in_data) {
          size_t end = buf.find("\r\n.\r\n");
          if (end == std::string::npos) {
            // Keep only a tail that can still hold the terminator.
            if (buf.size() > 8) buf.erase(0, buf.size() - 4);
            break;
          }
          buf.erase(0, end + 5);
          in_data = false;
          ++messages_;
          ok = Write(fd, "250 2.0.0 Ok: discarded\r\n");
          continue;
        }
        size_t lf = buf.find('\n');
        if (lf == std::string::npos) break;
        std::string cmd = buf.substr(0, std::min<size_t>(lf, 4));
        for (char& c : cmd) c = static_cast<char>(toupper(c));
        buf.erase(0, lf + 1);
        if (cmd == "EHLO") {
          ok =
              Write(fd, "250-fastsink\r\n250-8BITMIME\r\n250-PIPELINING\r\n250 SIZE 104857600\r\n");
        } else if (cmd == "DATA") {
          in_data = true;
          ok = Write(fd, "354 End data with <CR><LF>.<CR><LF>\r\n");
          // The body may follow the DATA line directly: "\r\n.\r\n" must also match right at
          // the start, so keep a leading CRLF.
          buf.insert(0, "\r\n");
        } else if (cmd == "QUIT") {
          Write(fd, "221 Bye\r\n");
          ok = false;
          break;
        } else {
          ok = Write(fd, "250 Ok\r\n");
        }
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    fds_.erase(std::remove(fds_.begin(), fds_.end(), fd), fds_.end());
    close(fd);
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> messages_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> fds_;
  std::vector<std::thread> conns_;
};

// ---------------------------------------------------------------------------------------------
// clamd + clamsmtpd, each a child process with a private config in a temp dir.
std::string ClamdCommand(const std::string& socket_path, absl::string_view command) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  strncpy(addr.sun_path, socket_path.c_str(), sizeof(addr.sun_path) - 1);
  std::string reply;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      send(fd, command.data(), command.size(), MSG_NOSIGNAL) > 0) {
    char buf[256];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) reply.append(buf, n);
  }
  close(fd);
  return reply;
}

struct ClamSmtp {
  std::string dir;
  std::string scan_tmp;  // clamd's and clamsmtpd's temp dirs: tmpfs, like the SVM's default
  std::unique_ptr<ChildProcess> clamd;
  std::vector<std::unique_ptr<ChildProcess>> smtpd;  // one per sink
  std::vector<int> ports;
};

absl::Status StartClamd(ClamSmtp* c, int threads) {
  c->dir = TempDir("clamsmtp");
  // The in-process SVM puts libclamav's temp files on /dev/shm (engine_temp_dir's default);
  // clamd and clamsmtpd get the same filesystem so that the comparison is about the products.
  c->scan_tmp = std::filesystem::is_directory("/dev/shm")
                    ? absl::StrCat("/dev/shm/vmscan-smtpbench-", getpid())
                    : c->dir + "/scan-tmp";
  std::filesystem::create_directories(c->scan_tmp + "/clamd-tmp");
  const std::string conf = c->dir + "/clamd.conf";
  std::ofstream(conf) << absl::StrCat(
      "Foreground yes\nLocalSocket ", c->dir, "/clamd.sock\nFixStaleSocket yes\n",
      "DatabaseDirectory ", SourcePath("deploy/signatures"), "\nTemporaryDirectory ", c->scan_tmp,
      "/clamd-tmp\nLogFile ", c->dir, "/clamd.log\nPidFile ", c->dir, "/clamd.pid\nMaxThreads ",
      threads, "\nMaxQueue 256\nSelfCheck 0\nScanMail yes\nScanArchive yes\nScanPE yes\n",
      "ScanOLE2 yes\nScanPDF yes\nScanHTML yes\nHeuristicAlerts yes\nAlertEncryptedArchive yes\n",
      "AlertExceedsMax yes\nAlertBrokenExecutables no\nAlertBrokenMedia no\n");
  auto p = ChildProcess::Start({"/usr/sbin/clamd", "--config-file=" + conf}, c->dir + "/clamd.out");
  if (!p.ok()) return p.status();
  c->clamd = std::move(*p);
  for (int i = 0; i < 300; ++i) {
    if (absl::StartsWith(ClamdCommand(c->dir + "/clamd.sock", "nPING\n"), "PONG"))
      return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::UnavailableError(absl::StrCat("clamd not ready, see ", c->dir, "/clamd.log"));
}

absl::Status StartClamSmtpd(ClamSmtp* c, int sink_port) {
  const int idx = static_cast<int>(c->smtpd.size());
  const std::string tmp = absl::StrCat(c->scan_tmp, "/smtpd-tmp-", idx);
  std::filesystem::create_directories(tmp);
  for (int attempt = 0; attempt < 5; ++attempt) {
    const int port = FreePort();
    const std::string conf = absl::StrCat(c->dir, "/clamsmtpd-", idx, ".conf");
    std::ofstream(conf) << absl::StrCat(
        "OutAddress: 127.0.0.1:", sink_port, "\nListen: 127.0.0.1:", port,
        "\nClamAddress: ", c->dir, "/clamd.sock\nTempDirectory: ", tmp, "\nPidFile: ", c->dir,
        "/clamsmtpd-", idx, ".pid\nMaxConnections: 64\nTimeOut: 60\nAction: drop\n");
    auto p = ChildProcess::Start({"/usr/sbin/clamsmtpd", "-d", "1", "-f", conf},
                                 absl::StrCat(c->dir, "/clamsmtpd-", idx, ".log"));
    if (!p.ok()) return p.status();
    if (WaitForPort(port, absl::Seconds(10))) {
      c->smtpd.push_back(std::move(*p));
      c->ports.push_back(port);
      return absl::OkStatus();
    }
    (*p)->Stop();
  }
  return absl::UnavailableError(absl::StrCat("clamsmtpd did not start, see ", c->dir));
}

// ---------------------------------------------------------------------------------------------
struct Result {
  int sent = 0, failed = 0;
  double seconds = 0, msgs_per_s = 0, p50_ms = 0, p99_ms = 0, max_ms = 0;
  double session_setup_max_ms = 0, quit_max_ms = 0;  // connect + greeting + EHLO; QUIT
  bool capped = false;
};

// "VmHWM ..., VmRSS ..." of a process, from /proc: the proxy's memory after a sink's cases.
std::string MemoryOf(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line, hwm = "?", rss = "?";
  while (std::getline(status, line)) {
    auto value = [&](absl::string_view key) {
      return std::string(absl::StripAsciiWhitespace(line.substr(key.size())));
    };
    if (absl::StartsWith(line, "VmHWM:")) hwm = value("VmHWM:");
    if (absl::StartsWith(line, "VmRSS:")) rss = value("VmRSS:");
  }
  return absl::StrCat("peak (VmHWM) ", hwm, ", now (VmRSS) ", rss);
}

double Percentile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(q * v.size()));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

// `count` messages (messages[first..first+count)) over `clients` sessions against `port`.
Result Run(int port, int clients, int first, int count, const std::vector<std::string>& messages,
           absl::Duration cap) {
  std::atomic<int> next{0}, failed{0};
  std::mutex mu;
  std::vector<double> latencies;
  double setup_max_ms = 0, quit_max_ms = 0;
  // Every session is set up before the clock starts: clamsmtpd accepts with a short backlog, and
  // a dropped SYN costs its client 1-31 s of retransmission, which would swamp the message rate.
  std::latch all_connected(clients);
  absl::Time start;
  absl::once_flag start_once;
  const absl::Time deadline = absl::Now() + cap;
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      std::vector<double> mine;
      double my_setup_max = 0, my_quit = 0;
      std::unique_ptr<RawSmtpClient> client;
      auto connect = [&] {
        client.reset();
        const absl::Time setup_start = absl::Now();
        absl::Cleanup record = [&] {
          my_setup_max =
              std::max(my_setup_max, absl::ToDoubleMilliseconds(absl::Now() - setup_start));
        };
        auto cl = RawSmtpClient::Connect(port);
        if (!cl.ok() || !absl::StartsWith((*cl)->ReadReply().value_or(""), "220") ||
            !absl::StartsWith((*cl)->Command("EHLO bench.example.org").value_or(""), "250"))
          return false;
        client = std::move(*cl);
        return true;
      };
      bool connected = connect();
      all_connected.arrive_and_wait();
      absl::call_once(start_once, [&] { start = absl::Now(); });
      for (;;) {
        const int i = next++;
        if (i >= count || absl::Now() > deadline) break;
        if (!connected && !(connected = connect())) {
          ++failed;
          continue;
        }
        const absl::Time t0 = absl::Now();
        bool ok =
            absl::StartsWith(client->Command("MAIL FROM:<alice@example.org>").value_or(""),
                             "250") &&
            absl::StartsWith(client->Command("RCPT TO:<bob@example.net>").value_or(""), "250") &&
            absl::StartsWith(client->Command("DATA").value_or(""), "354") &&
            client->Send(messages[first + i] + ".\r\n").ok() &&
            absl::StartsWith(client->ReadReply().value_or(""), "250");
        if (ok) {
          mine.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
        } else {
          ++failed;
          connected = false;  // start a clean session after any failure
        }
      }
      if (client) {
        const absl::Time quit_start = absl::Now();
        client->Command("QUIT").IgnoreError();
        my_quit = absl::ToDoubleMilliseconds(absl::Now() - quit_start);
      }
      std::lock_guard<std::mutex> lock(mu);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
      setup_max_ms = std::max(setup_max_ms, my_setup_max);
      quit_max_ms = std::max(quit_max_ms, my_quit);
    });
  }
  for (std::thread& t : threads) t.join();
  Result r;
  r.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  r.sent = static_cast<int>(latencies.size());
  r.failed = failed;
  r.capped = next.load() < count || absl::Now() > deadline;
  r.msgs_per_s = r.sent / r.seconds;
  r.p50_ms = Percentile(latencies, 0.50);
  r.p99_ms = Percentile(latencies, 0.99);
  r.max_ms = latencies.empty() ? 0 : latencies.back();
  r.session_setup_max_ms = setup_max_ms;
  r.quit_max_ms = quit_max_ms;
  return r;
}

int Main(int argc, char** argv) {
  const int per_case = argc > 1 ? std::atoi(argv[1]) : 400;
  const size_t size = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 20480;
  const absl::Duration cap = absl::Seconds(argc > 3 ? std::atoi(argv[3]) : 60);
  const int warmup = 20;
  const char* sinks_env = getenv("VMSCAN_BENCH_SINKS");
  std::vector<std::string> sink_names =
      absl::StrSplit(sinks_env ? sinks_env : "fast,aiosmtpd", ',', absl::SkipEmpty());
  SetLogLevel(LogLevel::kWARNING);

  // Messages: per (sink, concurrency, path) case a fresh, unique slice.
  const std::vector<int> concurrencies = {1, 16};
  const int slices = static_cast<int>(sink_names.size() * concurrencies.size() * 3);
  std::vector<std::string> messages;
  std::mt19937_64 rng(20261127);
  const int total = slices * (per_case + warmup);
  messages.reserve(total);
  for (int i = 0; i < total; ++i) messages.push_back(Message(size, i, rng));
  size_t min_size = SIZE_MAX, max_size = 0;
  for (const std::string& m : messages) {
    min_size = std::min(min_size, m.size());
    max_size = std::max(max_size, m.size());
  }

  absl::StatusOr<std::unique_ptr<HostServer>> server = StartTestServer({"log_level=error"});
  if (!server.ok()) {
    std::cerr << "cannot start the SVM: " << server.status() << "\n";
    return 1;
  }
  ClamSmtp clam;
  if (absl::Status s = StartClamd(&clam, 16); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }

  // One scan call alone (same process, gRPC to the SVM), the floor of the proxy's latency.
  v1::AgentConfig config = DefaultAgentConfig();
  config.clear_servers();
  config.add_servers((*server)->address());
  std::shared_ptr<const ScanClient> scan_client = ScanClient::Create(config);
  v1::ScanMetadata metadata;
  metadata.set_channel(v1::SMTP);
  metadata.set_direction(v1::OUTGOING);
  std::vector<double> scan_ms;
  for (int i = 0; i < 50; ++i) {
    absl::Time t = absl::Now();
    (void)scan_client->Scan(metadata, messages[i]);
    scan_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t));
  }
  std::vector<double> clamd_ms;
  for (int i = 50; i < 100; ++i) {
    // clamd INSTREAM of the same kind of message, the floor of clamsmtp's scan.
    const std::string sock = clam.dir + "/clamd.sock";
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    strncpy(addr.sun_path, sock.c_str(), sizeof(addr.sun_path) - 1);
    absl::Time t = absl::Now();
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
      uint32_t len = htonl(static_cast<uint32_t>(messages[i].size())), zero = 0;
      std::string req = absl::StrCat(
          absl::string_view("zINSTREAM\0", 10), absl::string_view(reinterpret_cast<char*>(&len), 4),
          messages[i], absl::string_view(reinterpret_cast<char*>(&zero), 4));
      (void)!send(fd, req.data(), req.size(), MSG_NOSIGNAL);
      char buf[256];
      while (read(fd, buf, sizeof(buf)) > 0) {
      }
    }
    close(fd);
    clamd_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t));
  }

  std::cout << absl::StrFormat(
      "messages/case=%d (+%d warm-up) size=%d..%d bytes cap=%ds\n"
      "scan call alone (gRPC->SVM, c=1): p50 %.2f ms p99 %.2f ms | clamd INSTREAM alone: p50 "
      "%.2f ms p99 %.2f ms\n\n",
      per_case, warmup, min_size, max_size, static_cast<int>(absl::ToInt64Seconds(cap)),
      Percentile(scan_ms, 0.5), Percentile(scan_ms, 0.99), Percentile(clamd_ms, 0.5),
      Percentile(clamd_ms, 0.99));
  std::cout << "| sink | clients | path | msgs/s | p50 ms | p99 ms | max ms | +p50 ms | +p99 ms "
               "| failed |\n|---|---|---|---|---|---|---|---|---|---|\n";

  int slice = 0, all_failed = 0;
  std::vector<std::string> verdicts;
  for (const std::string& sink_name : sink_names) {
    std::unique_ptr<FastSink> fast;
    std::unique_ptr<SmtpSink> aio;
    int sink_port = 0;
    if (sink_name == "fast") {
      fast = std::make_unique<FastSink>();
      sink_port = fast->port();
    } else {
      auto s = SmtpSink::Start();
      if (!s.ok()) {
        std::cerr << s.status() << "\n";
        return 1;
      }
      aio = std::move(*s);
      sink_port = aio->port();
    }
    absl::StatusOr<AgentProcess> agent =
        StartAgent({"servers=" + (*server)->address(), "smtp_proxy.listen=127.0.0.1:0",
                    absl::StrCat("smtp_proxy.upstream=127.0.0.1:", sink_port), "vm.id=bench-vm",
                    "log_level=warning"});
    if (!agent.ok()) {
      std::cerr << agent.status() << "\n";
      return 1;
    }
    if (absl::Status s = StartClamSmtpd(&clam, sink_port); !s.ok()) {
      std::cerr << s << "\n";
      return 1;
    }
    const int clamsmtp_port = clam.ports.back();
    std::cerr << "sink " << sink_name << " port " << sink_port << ", vmscan-agent pid "
              << agent->process->pid() << " port " << agent->proxy_port << ", clamsmtpd pid "
              << clam.smtpd.back()->pid() << " port " << clamsmtp_port << ", clamd pid "
              << clam.clamd->pid() << "\n";
    for (int clients : concurrencies) {
      const std::pair<const char*, int> paths[] = {
          {"direct", sink_port}, {"vmscan", agent->proxy_port}, {"clamsmtp", clamsmtp_port}};
      Result direct;
      double vmscan_rate = 0;
      for (const auto& [name, port] : paths) {
        if (const char* only = getenv("VMSCAN_BENCH_PATHS");
            only != nullptr && !absl::StrContains(only, name)) {
          continue;
        }
        const int first = slice++ * (per_case + warmup);
        Run(port, clients, first, warmup, messages, cap);  // warm-up (connections, caches)
        Result r = Run(port, clients, first + warmup, per_case, messages, cap);
        all_failed += r.failed;
        if (std::string(name) == "direct") direct = r;
        if (std::string(name) == "vmscan") vmscan_rate = r.msgs_per_s;
        std::cout << absl::StrFormat(
            "| %s | %d | %s | %.1f | %.2f | %.2f | %.2f | %s | %s | %d%s |\n", sink_name, clients,
            name, r.msgs_per_s, r.p50_ms, r.p99_ms, r.max_ms,
            std::string(name) == "direct" ? "-" : absl::StrFormat("%.2f", r.p50_ms - direct.p50_ms),
            std::string(name) == "direct" ? "-" : absl::StrFormat("%.2f", r.p99_ms - direct.p99_ms),
            r.failed, r.capped ? " (capped)" : "");
        std::cout.flush();
        std::cerr << absl::StrFormat(
            "  %s c=%d: slowest session setup %.1f ms, slowest QUIT %.1f ms, %.2f s\n", name,
            clients, r.session_setup_max_ms, r.quit_max_ms, r.seconds);
        if (std::string(name) == "vmscan" && clients == 1) {
          const double added = r.p99_ms - direct.p99_ms;
          verdicts.push_back(
              absl::StrFormat("[%s sink] vmscan added p99 at c=1: %.2f ms (target < 5 ms): %s",
                              sink_name, added, added < 5 ? "MET" : "MISSED"));
        }
        if (std::string(name) == "clamsmtp" && clients == 16) {
          const double ratio = r.msgs_per_s > 0 ? vmscan_rate / r.msgs_per_s : 0;
          verdicts.push_back(
              absl::StrFormat("[%s sink] vmscan/clamsmtp msgs/s at c=16: %.2fx (target >= 3x): %s",
                              sink_name, ratio, ratio >= 3 ? "MET" : "MISSED"));
        }
      }
    }
    if (fast) std::cerr << "fast sink received " << fast->messages() << " messages\n";
    verdicts.push_back(absl::StrCat("[", sink_name, " sink] vmscan-agent (SMTP proxy) memory: ",
                                    MemoryOf(agent->process->pid())));
    agent->process->Stop();
    clam.smtpd.back()->Stop();
  }
  std::cout << "\n";
  for (const std::string& v : verdicts) std::cout << v << "\n";
  clam.clamd->Stop();
  std::error_code ec;
  std::filesystem::remove_all(clam.scan_tmp, ec);
  return all_failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace vmscan::testing

int main(int argc, char** argv) { return vmscan::testing::Main(argc, argv); }
