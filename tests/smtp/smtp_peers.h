// Real SMTP peers for the SMTP proxy and milter tests, started by the tests themselves on free
// loopback ports and stopped by their own pid: an aiosmtpd sink (Debian's /usr/bin/python3),
// Postfix from a private config dir, child processes, a raw SMTP client (optionally TLS) and a
// throw-away self-signed certificate.
#ifndef VMSCAN_TESTS_SMTP_SMTP_PEERS_H_
#define VMSCAN_TESTS_SMTP_SMTP_PEERS_H_

#include <openssl/ssl.h>
#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace vmscan::testing {

// A port nobody listens on right now (bound to port 0, then released).
int FreePort();
// True once something accepts connections on 127.0.0.1:port.
bool WaitForPort(int port, absl::Duration timeout);
// A fresh directory under the temp dir, removed when the process exits.
std::string TempDir(absl::string_view name);

// A child process (execv), stdout and stderr to `log_file`; SIGTERM and reaped on Stop().
class ChildProcess {
 public:
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(const std::vector<std::string>& argv,
                                                             const std::string& log_file);
  ~ChildProcess() { Stop(); }
  // SIGTERM, then waits (SIGKILL after 30 s). The exit status as from waitpid; -1 if stopped.
  int Stop();
  // Sends SIGTERM without waiting (Stop() then reaps).
  void Terminate();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

// `python3 -m aiosmtpd` with the Maildir handler.
class SmtpSink {
 public:
  static absl::StatusOr<std::unique_ptr<SmtpSink>> Start(
      const std::vector<std::string>& extra_args = {});
  // A sink that accepts MAIL only after AUTH PLAIN or LOGIN with these credentials
  // (tests/smtp/auth_sink.py, aiosmtpd without TLS).
  static absl::StatusOr<std::unique_ptr<SmtpSink>> StartRequiringAuth(const std::string& user,
                                                                      const std::string& password);
  ~SmtpSink();
  int port() const { return port_; }
  // Messages received so far (file contents, oldest first).
  std::vector<std::string> Messages() const;
  // Waits until at least `n` messages arrived.
  std::vector<std::string> WaitForMessages(size_t n, absl::Duration timeout) const;

 private:
  // Starts the command `argv_for(port, maildir)` on a free port until it listens.
  static absl::StatusOr<std::unique_ptr<SmtpSink>> Launch(
      const std::function<std::vector<std::string>(int, const std::string&)>& argv_for);

  std::string dir_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

// Postfix run as `postfix -c DIR start`: `main_cf` is appended to a private base config (own
// queue and data dirs, loopback only, maillog file), `services` are extra master.cf lines.
class Postfix {
 public:
  static absl::StatusOr<std::unique_ptr<Postfix>> Start(const std::string& main_cf,
                                                        const std::string& services);
  ~Postfix();
  std::string Log() const;  // the maillog so far

 private:
  std::string dir_;
  bool running_ = false;
};

// Runs a shell command; stdout+stderr together.
struct CommandResult {
  int exit_code = -1;
  std::string output;
};
CommandResult RunShell(const std::string& command);

// A blocking SMTP client over a raw socket, for byte-exact dialogues (smuggling, pipelining).
class RawSmtpClient {
 public:
  static absl::StatusOr<std::unique_ptr<RawSmtpClient>> Connect(int port);
  ~RawSmtpClient();
  absl::Status Send(absl::string_view bytes);
  // One complete reply, lines joined with "\n" ("250-a\n250 b"); UNAVAILABLE when closed.
  absl::StatusOr<std::string> ReadReply(absl::Duration timeout = absl::Seconds(30));
  // Sends `command` CRLF and reads the reply.
  absl::StatusOr<std::string> Command(absl::string_view command);
  absl::Status StartTls();

 private:
  absl::StatusOr<std::string> ReadLine(absl::Duration timeout);
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string buffer_;
};

// Writes cert.pem and key.pem (RSA 2048, CN=localhost, 1 day) into `dir`.
absl::Status MakeSelfSignedCert(const std::string& dir);

// Line endings normalized to "\n", for comparing what a sink stored with what was sent.
std::string Lf(absl::string_view text);

}  // namespace vmscan::testing

#endif  // VMSCAN_TESTS_SMTP_SMTP_PEERS_H_
