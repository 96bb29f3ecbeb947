#include "tests/benchmarks/clamd_target.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "host_server/service/server_config.h"

namespace vmscan::bench {
namespace {

constexpr size_t kChunkBytes = 256 * 1024;  // same chunking as the vmscan agent

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

bool SendAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// The clamd.conf equivalent of vmscan's engine settings (host_server/engine/clamav_engine.cc:
// every parser, heuristics on, alerts for encrypted content and exceeded limits, the limits of
// DefaultServerConfig()). HeuristicAlerts would also turn on the broken-executable, broken-media
// and partition-intersection alerts, which vmscan does not request: they are turned off.
std::string ClamdConfig(const ClamdOptions& o, const std::string& socket, const std::string& tmp) {
  const v1::ScanLimits limits = DefaultServerConfig().limits();
  return absl::StrCat(
      "Foreground yes\nLocalSocket ", socket, "\nFixStaleSocket yes\nDatabaseDirectory ",
      o.signatures_dir, "\nTemporaryDirectory ", tmp, "\nLogFile ", o.work_dir,
      "/clamd.log\nLogTime yes\nPidFile ", o.work_dir, "/clamd.pid\n", "MaxThreads ", o.threads,
      "\nMaxQueue 512\nMaxConnectionQueueLength 512\nStreamMaxLength 64M\n",
      "ReadTimeout 300\nCommandReadTimeout 30\nIdleTimeout 60\nSelfCheck 0\n", "MaxScanSize ",
      limits.max_scan_bytes(), "\nMaxFileSize ", limits.max_file_bytes(), "\nMaxRecursion ",
      limits.max_recursion(), "\nMaxFiles ", limits.max_files(), "\nMaxScanTime ",
      limits.max_scan_time_ms(), "\n",
      "ScanMail yes\nScanArchive yes\nScanPE yes\nScanELF yes\nScanOLE2 yes\nScanPDF yes\n"
      "ScanSWF yes\nScanHTML yes\nScanXMLDOCS yes\nScanHWP3 yes\nScanOneNote yes\nScanImage yes\n"
      "ScanImageFuzzyHash yes\nScanPartialMessages no\n",
      "HeuristicAlerts yes\nHeuristicScanPrecedence no\nAlertEncryptedArchive yes\n"
      "AlertEncryptedDoc yes\nAlertExceedsMax yes\nAlertBrokenExecutables no\n"
      "AlertBrokenMedia no\nAlertPartitionIntersection no\nAlertOLE2Macros no\n"
      "StructuredDataDetection no\nPhishingSignatures yes\nPhishingScanURLs yes\n"
      "DisableCache no\nBytecode yes\nLeaveTemporaryFiles no\nConcurrentDatabaseReload no\n");
}

class ClamdStream : public Stream {
 public:
  explicit ClamdStream(std::string socket_path) : socket_path_(std::move(socket_path)) {}
  ScanReply Scan(const Message& message) override {
    ScanReply out = Parse(message);
    out.uploaded_bytes = message.data.size();  // INSTREAM: always the whole message
    return out;
  }

 private:
  ScanReply Parse(const Message& message) {
    absl::StatusOr<std::string> reply =
        ClamdCommand(socket_path_, absl::string_view("zINSTREAM\0", 10), message.data, true);
    if (!reply.ok()) return {Outcome::kError, reply.status().ToString()};
    absl::string_view text = *reply;
    if (absl::ConsumePrefix(&text, "stream: ")) {
      if (text == "OK") return {Outcome::kClean, ""};
      if (absl::ConsumeSuffix(&text, " FOUND")) {
        if (absl::StartsWith(text, "Heuristics.Limits") ||
            absl::StartsWith(text, "Heuristics.Encrypted")) {
          return {Outcome::kUnscannable, std::string(text)};
        }
        return {Outcome::kInfected, std::string(text)};
      }
    }
    return {Outcome::kError, *reply};
  }

  std::string socket_path_;
};

}  // namespace

absl::StatusOr<std::string> ClamdCommand(const std::string& socket_path, absl::string_view command,
                                         absl::string_view stream_data, bool instream) {
  Socket sock(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (sock.fd() < 0) return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path.c_str(), sizeof(addr.sun_path) - 1);
  if (connect(sock.fd(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return absl::UnavailableError(absl::StrCat("connect ", socket_path, ": ", strerror(errno)));
  }
  if (!SendAll(sock.fd(), command)) return absl::UnavailableError("clamd closed the connection");
  if (instream) {
    bool ok = true;
    for (size_t offset = 0; ok && offset < stream_data.size(); offset += kChunkBytes) {
      const size_t n = std::min(kChunkBytes, stream_data.size() - offset);
      const uint32_t length = htonl(static_cast<uint32_t>(n));
      ok = SendAll(sock.fd(), absl::string_view(reinterpret_cast<const char*>(&length), 4)) &&
           SendAll(sock.fd(), stream_data.substr(offset, n));
    }
    const uint32_t end = 0;
    // clamd may answer and close early (size limit); its reply says why.
    if (ok) SendAll(sock.fd(), absl::string_view(reinterpret_cast<const char*>(&end), 4));
  }
  std::string reply;
  char buffer[512];
  while (true) {
    const ssize_t n = recv(sock.fd(), buffer, sizeof(buffer), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    reply.append(buffer, static_cast<size_t>(n));
    if (!reply.empty() && reply.back() == '\0') break;
  }
  while (!reply.empty() && (reply.back() == '\0' || reply.back() == '\n')) reply.pop_back();
  if (reply.empty()) return absl::UnavailableError("clamd sent no reply");
  return reply;
}

absl::StatusOr<std::unique_ptr<ClamdTarget>> ClamdTarget::Start(const ClamdOptions& options) {
  std::unique_ptr<ClamdTarget> target(new ClamdTarget());
  const std::string tmp = options.temp_dir.empty() ? options.work_dir + "/tmp" : options.temp_dir;
  std::filesystem::create_directories(options.work_dir);
  std::filesystem::create_directories(tmp);
  target->socket_path_ = options.work_dir + "/clamd.sock";
  target->log_path_ = options.work_dir + "/clamd.out";
  const std::string config_path = options.work_dir + "/clamd.conf";
  std::ofstream(config_path) << ClamdConfig(options, target->socket_path_, tmp);
  const absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<ChildProcess>> process =
      ChildProcess::Spawn({options.binary, absl::StrCat("--config-file=", config_path)},
                          target->log_path_, options.env);
  if (!process.ok()) return process.status();
  target->process_ = std::move(*process);
  const absl::Time deadline = start + options.start_timeout;
  while (true) {
    absl::StatusOr<std::string> pong =
        ClamdCommand(target->socket_path_, absl::string_view("zPING\0", 6), "", false);
    if (pong.ok() && *pong == "PONG") break;
    if (!target->process_->running()) {
      return absl::InternalError(absl::StrCat("clamd exited with ", target->process_->exit_code(),
                                              "; see ", options.work_dir, "/clamd.log"));
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("clamd not ready; see ", options.work_dir, "/clamd.log"));
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  target->ready_seconds_ = absl::ToDoubleSeconds(absl::Now() - start);
  target->after_load_ = ReadMemory(target->process_->pid());
  return target;
}

std::unique_ptr<Stream> ClamdTarget::NewStream(int /*index*/) {
  return std::make_unique<ClamdStream>(socket_path_);
}

}  // namespace vmscan::bench
