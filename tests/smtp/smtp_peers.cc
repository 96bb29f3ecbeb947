#include "tests/smtp/smtp_peers.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "tests/testing/test_mail.h"

namespace vmscan::testing {
namespace fs = std::filesystem;

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

static int ConnectTo(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool WaitForPort(int port, absl::Duration timeout) {
  absl::Time end = absl::Now() + timeout;
  while (absl::Now() < end) {
    int fd = ConnectTo(port);
    if (fd >= 0) {
      close(fd);
      return true;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

namespace {

// Directories made by TempDir, removed when the test process exits.
std::vector<std::string>* g_temp_dirs = nullptr;

void RemoveTempDirs() {
  std::error_code ignored;
  for (const std::string& dir : *g_temp_dirs) fs::remove_all(dir, ignored);
}

}  // namespace

std::string TempDir(absl::string_view name) {
  static std::atomic<int> counter{0};
  fs::path dir =
      fs::temp_directory_path() / absl::StrCat("vmscan-", name, "-", getpid(), "-", counter++);
  fs::remove_all(dir);
  fs::create_directories(dir);
  if (g_temp_dirs == nullptr) {
    g_temp_dirs = new std::vector<std::string>();
    std::atexit(RemoveTempDirs);
  }
  g_temp_dirs->push_back(dir.string());
  return dir.string();
}

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Start(
    const std::vector<std::string>& argv, const std::string& log_file) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    int log = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(log, 1);
    dup2(log, 2);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  auto child = std::unique_ptr<ChildProcess>(new ChildProcess());
  child->pid_ = pid;
  return child;
}

void ChildProcess::Terminate() {
  if (pid_ > 0) kill(pid_, SIGTERM);
}

int ChildProcess::Stop() {
  if (pid_ <= 0) return status_;
  kill(pid_, SIGTERM);
  absl::Time end = absl::Now() + absl::Seconds(30);
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (absl::Now() > end) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  pid_ = -1;
  status_ = status;
  return status;
}

absl::StatusOr<std::unique_ptr<SmtpSink>> SmtpSink::Launch(
    const std::function<std::vector<std::string>(int, const std::string&)>& argv_for) {
  auto sink = std::unique_ptr<SmtpSink>(new SmtpSink());
  sink->dir_ = TempDir("sink");
  for (const char* sub : {"tmp", "new", "cur"})
    fs::create_directories(fs::path(sink->dir_) / "mail" / sub);
  for (int attempt = 0; attempt < 5; ++attempt) {
    sink->port_ = FreePort();
    absl::StatusOr<std::unique_ptr<ChildProcess>> p =
        ChildProcess::Start(argv_for(sink->port_, sink->dir_ + "/mail"), sink->dir_ + "/sink.log");
    if (!p.ok()) return p.status();
    sink->process_ = std::move(*p);
    if (WaitForPort(sink->port_, absl::Seconds(10))) return sink;
    sink->process_->Stop();
  }
  return absl::UnavailableError(
      absl::StrCat("aiosmtpd did not start (is python3-aiosmtpd "
                   "installed?), see ",
                   sink->dir_, "/sink.log"));
}

absl::StatusOr<std::unique_ptr<SmtpSink>> SmtpSink::Start(const std::vector<std::string>& extra) {
  return Launch([&extra](int port, const std::string& maildir) {
    std::vector<std::string> argv = {
        "/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", absl::StrCat("127.0.0.1:", port)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.insert(argv.end(), {"-c", "aiosmtpd.handlers.Mailbox", maildir});
    return argv;
  });
}

absl::StatusOr<std::unique_ptr<SmtpSink>> SmtpSink::StartRequiringAuth(
    const std::string& user, const std::string& password) {
  return Launch([&](int port, const std::string& maildir) {
    return std::vector<std::string>{"/usr/bin/python3",
                                    SourcePath("tests/smtp/auth_sink.py"),
                                    absl::StrCat(port),
                                    maildir,
                                    user,
                                    password};
  });
}

SmtpSink::~SmtpSink() {
  if (process_) process_->Stop();
  fs::remove_all(dir_);
}

std::vector<std::string> SmtpSink::Messages() const {
  // Maildir names do not sort by time (unpadded microseconds): order by modification time.
  std::vector<std::pair<fs::file_time_type, std::string>> files;
  for (const auto& entry : fs::directory_iterator(fs::path(dir_) / "mail" / "new")) {
    files.emplace_back(entry.last_write_time(), entry.path().string());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> messages;
  for (const auto& [time, name] : files) messages.push_back(ReadFile(name).value_or(""));
  return messages;
}

std::vector<std::string> SmtpSink::WaitForMessages(size_t n, absl::Duration timeout) const {
  absl::Time end = absl::Now() + timeout;
  std::vector<std::string> messages = Messages();
  while (messages.size() < n && absl::Now() < end) {
    absl::SleepFor(absl::Milliseconds(50));
    messages = Messages();
  }
  return messages;
}

CommandResult RunShell(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen(absl::StrCat(command, " </dev/null 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

namespace {

constexpr char kMasterCf[] = R"(pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
)";

}  // namespace

absl::StatusOr<std::unique_ptr<Postfix>> Postfix::Start(const std::string& main_cf,
                                                        const std::string& services) {
  auto pf = std::unique_ptr<Postfix>(new Postfix());
  pf->dir_ = TempDir("postfix");
  fs::create_directories(pf->dir_ + "/queue");
  fs::create_directories(pf->dir_ + "/data");
  if (RunShell(absl::StrCat("chown postfix ", pf->dir_, "/data")).exit_code != 0) {
    return absl::FailedPreconditionError(
        "cannot chown to user postfix (run as root, install postfix)");
  }
  std::ofstream(pf->dir_ + "/main.cf") << absl::StrCat(
      "compatibility_level = 3.6\n", "queue_directory = ", pf->dir_, "/queue\n",
      "data_directory = ", pf->dir_, "/data\n",
      "mail_owner = postfix\nsetgid_group = postdrop\n"
      "inet_interfaces = 127.0.0.1\ninet_protocols = ipv4\nmyhostname = mx.test.local\n"
      "mydestination =\nalias_maps =\nalias_database =\nlocal_recipient_maps =\n"
      "maillog_file = ",
      pf->dir_, "/maillog\n", "maillog_file_prefixes = ", pf->dir_, "\n",
      "smtp_tls_security_level = none\nsmtpd_tls_security_level = none\nbiff = no\n"
      "smtputf8_enable = no\n",
      main_cf);
  std::ofstream(pf->dir_ + "/master.cf") << services << kMasterCf;
  CommandResult start = RunShell(absl::StrCat("/usr/sbin/postfix -c ", pf->dir_, " start"));
  if (start.exit_code != 0) {
    return absl::UnavailableError(absl::StrCat("postfix start failed: ", start.output));
  }
  pf->running_ = true;
  return pf;
}

Postfix::~Postfix() {
  if (running_) RunShell(absl::StrCat("/usr/sbin/postfix -c ", dir_, " stop"));
  fs::remove_all(dir_);
}

std::string Postfix::Log() const { return ReadFile(dir_ + "/maillog").value_or(""); }

absl::StatusOr<std::unique_ptr<RawSmtpClient>> RawSmtpClient::Connect(int port) {
  int fd = ConnectTo(port);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("cannot connect to port ", port));
  auto client = std::unique_ptr<RawSmtpClient>(new RawSmtpClient());
  client->fd_ = fd;
  return client;
}

RawSmtpClient::~RawSmtpClient() {
  if (ssl_) SSL_free(ssl_);
  if (ctx_) SSL_CTX_free(ctx_);
  if (fd_ >= 0) close(fd_);
}

absl::Status RawSmtpClient::Send(absl::string_view bytes) {
  while (!bytes.empty()) {
    int n = ssl_ ? SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()))
                 : static_cast<int>(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL));
    if (n <= 0) return absl::UnavailableError("send failed");
    bytes.remove_prefix(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RawSmtpClient::ReadLine(absl::Duration timeout) {
  absl::Time end = absl::Now() + timeout;
  for (;;) {
    size_t lf = buffer_.find('\n');
    if (lf != std::string::npos) {
      std::string line = buffer_.substr(0, lf);
      buffer_.erase(0, lf + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
    if (!ssl_ || SSL_pending(ssl_) == 0) {
      pollfd p{fd_, POLLIN, 0};
      int left = static_cast<int>(absl::ToInt64Milliseconds(end - absl::Now()));
      if (left <= 0 || poll(&p, 1, left) <= 0) return absl::DeadlineExceededError("no reply");
    }
    char buf[4096];
    int n =
        ssl_ ? SSL_read(ssl_, buf, sizeof(buf)) : static_cast<int>(::read(fd_, buf, sizeof(buf)));
    if (n <= 0) return absl::UnavailableError("connection closed");
    buffer_.append(buf, n);
  }
}

absl::StatusOr<std::string> RawSmtpClient::ReadReply(absl::Duration timeout) {
  std::string reply;
  for (;;) {
    absl::StatusOr<std::string> line = ReadLine(timeout);
    if (!line.ok()) return line.status();
    absl::StrAppend(&reply, reply.empty() ? "" : "\n", *line);
    if (line->size() < 4 || (*line)[3] != '-') return reply;
  }
}

absl::StatusOr<std::string> RawSmtpClient::Command(absl::string_view command) {
  absl::Status s = Send(absl::StrCat(command, "\r\n"));
  if (!s.ok()) return s;
  return ReadReply();
}

absl::Status RawSmtpClient::StartTls() {
  if (!buffer_.empty()) return absl::FailedPreconditionError("unread plaintext before TLS");
  ctx_ = SSL_CTX_new(TLS_client_method());
  ssl_ = SSL_new(ctx_);
  SSL_set_fd(ssl_, fd_);
  if (SSL_connect(ssl_) != 1) return absl::UnavailableError("TLS handshake failed");
  return absl::OkStatus();
}

absl::Status MakeSelfSignedCert(const std::string& dir) {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  FILE* c = fopen((dir + "/cert.pem").c_str(), "w");
  FILE* k = fopen((dir + "/key.pem").c_str(), "w");
  bool ok = c && k && PEM_write_X509(c, cert) == 1 &&
            PEM_write_PrivateKey(k, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  if (c) fclose(c);
  if (k) fclose(k);
  X509_free(cert);
  EVP_PKEY_free(key);
  return ok ? absl::OkStatus() : absl::InternalError("cannot write the test certificate");
}

std::string Lf(absl::string_view text) { return absl::StrReplaceAll(text, {{"\r\n", "\n"}}); }

}  // namespace vmscan::testing
