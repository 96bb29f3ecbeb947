#include "guest_agent/milter/milter_server.h"

#include <arpa/inet.h>
#include <libmilter/mfapi.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <set>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "guest_agent/client/verdict_text.h"
#include "guest_agent/milter/milter_decision.h"
#include "guest_agent/milter/milter_message.h"

namespace vmscan {
namespace {

// What the callbacks share. libmilter's callbacks are plain functions, so this is reached
// through one process-wide pointer; each callback holds a reference while it runs, so Stop()
// never frees it under a callback.
struct MilterState {
  v1::VmIdentity vm;
  v1::OnNoScanner::Value on_no_scanner = v1::OnNoScanner::TEMPFAIL;
  std::vector<IpNetwork> local_networks;
  uint64_t max_message_bytes = 0;
  ScanFunction scan;
  absl::Mutex mu;
  int scans_in_flight ABSL_GUARDED_BY(mu) = 0;
};

absl::Mutex g_state_mu(absl::kConstInit);
std::shared_ptr<MilterState>* g_state ABSL_GUARDED_BY(g_state_mu) = nullptr;
bool g_started ABSL_GUARDED_BY(g_state_mu) = false;

std::shared_ptr<MilterState> State() {
  absl::MutexLock lock(&g_state_mu);
  return g_state ? *g_state : nullptr;
}

// One MTA connection (smfi_setpriv): its client and the message in hand.
struct MilterSession {
  std::string client_address;
  std::string sender;
  std::string auth;
  std::vector<std::string> recipients;
  std::unique_ptr<MilterMessage> message;
};

MilterSession* Session(SMFICTX* ctx) { return static_cast<MilterSession*>(smfi_getpriv(ctx)); }

std::string Macro(SMFICTX* ctx, const char* name) {
  const char* v = smfi_getsymval(ctx, const_cast<char*>(name));
  return v ? v : "";
}

std::string StripBrackets(const char* address) {
  std::string a = address ? address : "";
  if (a.size() >= 2 && a.front() == '<' && a.back() == '>') a = a.substr(1, a.size() - 2);
  return a;
}

// libmilter treats '%' in reply text as a format character.
std::string ReplyText(const std::string& text) {
  return absl::StrReplaceAll(SafeText(text, 400), {{"%", "%%"}});
}

sfsistat OnConnect(SMFICTX* ctx, char*, _SOCK_ADDR* addr) {
  auto* c = new MilterSession();
  if (addr != nullptr) {
    char host[INET6_ADDRSTRLEN] = "";
    if (addr->sa_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(addr)->sin_addr, host, sizeof(host));
    } else if (addr->sa_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(addr)->sin6_addr, host, sizeof(host));
    }
    c->client_address = host;
  }
  smfi_setpriv(ctx, c);
  return SMFIS_CONTINUE;
}

sfsistat OnEnvFrom(SMFICTX* ctx, char** argv) {
  MilterSession* c = Session(ctx);
  std::shared_ptr<MilterState> state = State();
  if (c == nullptr || state == nullptr) return SMFIS_TEMPFAIL;
  c->sender = StripBrackets(argv[0]);
  c->auth = Macro(ctx, "{auth_authen}");
  c->recipients.clear();
  c->message = std::make_unique<MilterMessage>(state->max_message_bytes);
  return SMFIS_CONTINUE;
}

sfsistat OnEnvRcpt(SMFICTX* ctx, char** argv) {
  if (MilterSession* c = Session(ctx)) c->recipients.push_back(StripBrackets(argv[0]));
  return SMFIS_CONTINUE;
}

sfsistat OnHeader(SMFICTX* ctx, char* name, char* value) {
  MilterSession* c = Session(ctx);
  if (c != nullptr && c->message) c->message->AddHeader(name, value ? value : "");
  return SMFIS_CONTINUE;
}

sfsistat OnBody(SMFICTX* ctx, unsigned char* chunk, size_t len) {
  MilterSession* c = Session(ctx);
  if (c != nullptr && c->message) {
    c->message->AppendBody(absl::string_view(reinterpret_cast<char*>(chunk), len));
  }
  return SMFIS_CONTINUE;
}

// Replaces every X-Vmscan-Status the sender may have put in with ours.
void SetStatusHeader(SMFICTX* ctx, const MilterMessage& message, const std::string& value) {
  int count = 0;
  for (const HeaderField& h : message.headers()) {
    if (absl::EqualsIgnoreCase(h.first, kStatusHeader)) ++count;
  }
  for (int i = count; i >= 1; --i)
    smfi_chgheader(ctx, const_cast<char*>(kStatusHeader), i, nullptr);
  smfi_addheader(ctx, const_cast<char*>(kStatusHeader), const_cast<char*>(value.c_str()));
}

bool ApplyCleaned(SMFICTX* ctx, const MilterMessage& original, const std::string& cleaned) {
  std::vector<HeaderField> headers;
  std::string body;
  SplitMessage(cleaned, &headers, &body);
  for (const HeaderEdit& e : HeaderEdits(original.headers(), headers)) {
    char* name = const_cast<char*>(e.name.c_str());
    char* value = e.remove ? nullptr : const_cast<char*>(e.value.c_str());
    int rc =
        e.index == 0 ? smfi_addheader(ctx, name, value) : smfi_chgheader(ctx, name, e.index, value);
    if (rc != MI_SUCCESS) return false;
  }
  if (!absl::StrContains(cleaned, kStatusHeader)) {
    smfi_addheader(ctx, const_cast<char*>(kStatusHeader), const_cast<char*>("disinfected"));
  }
  return smfi_replacebody(ctx, reinterpret_cast<unsigned char*>(body.data()),
                          static_cast<int>(body.size())) == MI_SUCCESS;
}

sfsistat OnEom(SMFICTX* ctx) {
  MilterSession* c = Session(ctx);
  std::shared_ptr<MilterState> state = State();
  if (c == nullptr || !c->message || state == nullptr) return SMFIS_TEMPFAIL;
  std::unique_ptr<MilterMessage> message = std::move(c->message);
  const v1::Direction direction =
      MilterDirection(c->auth, c->client_address, state->local_networks);
  const std::string queue_id = Macro(ctx, "i");
  const std::string tag =
      absl::StrCat("milter ", queue_id.empty() ? "-" : queue_id, " <", c->sender, "> -> <",
                   absl::StrJoin(c->recipients, ">, <"), ">, ",
                   direction == v1::OUTGOING ? "outgoing" : "incoming", ": ");
  if (message->too_large()) {
    VMSCAN_LOG(INFO) << tag << "over milter.max_message_bytes: rejected";
    smfi_setreply(ctx, const_cast<char*>("552"), const_cast<char*>("5.3.4"),
                  const_cast<char*>("Message too big for virus scanning"));
    return SMFIS_REJECT;
  }
  v1::ScanMetadata metadata;
  *metadata.mutable_vm() = state->vm;
  metadata.set_channel(v1::MILTER);
  metadata.set_direction(direction);
  metadata.set_envelope_sender(c->sender);
  for (const std::string& r : c->recipients) metadata.add_envelope_recipients(r);
  metadata.set_client_ref(absl::StrCat("milter ", queue_id, " from ", c->client_address));
  const std::string raw = message->TakeAssembled();
  {
    absl::MutexLock lock(&state->mu);
    ++state->scans_in_flight;
  }
  absl::StatusOr<ScanResponse> scan = state->scan(metadata, raw);
  {
    absl::MutexLock lock(&state->mu);
    --state->scans_in_flight;
  }
  MilterOutcome outcome = DecideMilter(scan, direction, state->on_no_scanner);
  VMSCAN_LOG(INFO) << tag << outcome.summary;
  switch (outcome.kind) {
    case MilterOutcome::kAccept:
      SetStatusHeader(ctx, *message, outcome.header_value);
      return SMFIS_ACCEPT;
    case MilterOutcome::kReplaceWithCleaned:
      if (!ApplyCleaned(ctx, *message, scan->cleaned)) {
        VMSCAN_LOG(WARNING) << tag << "the MTA refused the body replacement: tempfail";
        return SMFIS_TEMPFAIL;
      }
      return SMFIS_ACCEPT;
    case MilterOutcome::kDiscard:
      return SMFIS_DISCARD;
    case MilterOutcome::kReject:
    case MilterOutcome::kTempfail: {
      std::string text = ReplyText(outcome.text);
      smfi_setreply(ctx, outcome.rcode.data(), outcome.xcode.data(), text.data());
      return outcome.kind == MilterOutcome::kReject ? SMFIS_REJECT : SMFIS_TEMPFAIL;
    }
  }
  return SMFIS_TEMPFAIL;
}

sfsistat OnAbort(SMFICTX* ctx) {
  if (MilterSession* c = Session(ctx)) c->message.reset();
  return SMFIS_CONTINUE;
}

sfsistat OnClose(SMFICTX* ctx) {
  delete Session(ctx);
  smfi_setpriv(ctx, nullptr);
  return SMFIS_CONTINUE;
}

}  // namespace

std::string MilterSocketSpec(const std::string& listen) {
  for (const char* prefix : {"inet:", "inet6:"}) {
    if (absl::StartsWith(listen, prefix) && !absl::StrContains(listen, '@')) {
      std::string rest = listen.substr(std::strlen(prefix));
      size_t colon = rest.rfind(':');
      if (colon != std::string::npos) {
        return absl::StrCat(prefix, rest.substr(colon + 1), "@", rest.substr(0, colon));
      }
    }
  }
  return listen;
}

namespace {

// libmilter's listener notices smfi_stop() only when its poll() times out (5 s) or a connection
// arrives. Best effort; a failure only costs those 5 s.
void WakeListener(const std::string& spec) {
  int fd = -1;
  if (absl::StartsWith(spec, "inet:") || absl::StartsWith(spec, "inet6:")) {
    const bool v6 = absl::StartsWith(spec, "inet6:");
    const std::string rest = spec.substr(spec.find(':') + 1);
    const size_t at = rest.find('@');
    const std::string port = rest.substr(0, at);
    std::string host = at == std::string::npos ? "" : rest.substr(at + 1);
    if (host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]") {
      host = v6 ? "::1" : "127.0.0.1";
    }
    addrinfo hints{};
    hints.ai_family = v6 ? AF_INET6 : AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0) return;
    fd = socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0) connect(fd, found->ai_addr, found->ai_addrlen);
    freeaddrinfo(found);
  } else {
    std::string path = spec;
    for (const char* prefix : {"unix:", "local:"}) {
      if (absl::StartsWith(path, prefix)) path = path.substr(std::strlen(prefix));
    }
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof(addr.sun_path)) return;
    std::memcpy(addr.sun_path, path.data(), path.size());
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0) connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  }
  if (fd < 0) return;
  pollfd p{fd, POLLOUT, 0};
  poll(&p, 1, 500);
  close(fd);
}

// The listening sockets this process holds, by descriptor.
std::set<int> ListeningSockets() {
  std::set<int> fds;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", error)) {
    int fd = -1;
    if (!absl::SimpleAtoi(entry.path().filename().string(), &fd)) continue;
    int accepting = 0;
    socklen_t len = sizeof(accepting);
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) == 0 && accepting) {
      fds.insert(fd);
    }
  }
  return fds;
}

// milter.listen as bound. libmilter does not tell which socket it opened, so for inet sockets
// the port is read from the one listening socket that appeared while it opened it (`before`:
// the listening sockets until then); a unix socket is its path. `listen` as configured, when
// the socket cannot be found.
std::string BoundAddress(const std::string& listen, const std::set<int>& before) {
  if (!absl::StartsWith(listen, "inet")) return listen;
  const size_t colon = listen.find(':');
  const std::string prefix = listen.substr(0, colon + 1);  // "inet:" or "inet6:"
  std::string host = listen.substr(colon + 1);
  if (size_t at = host.find('@'); at != std::string::npos) {
    host = host.substr(at + 1);  // "inet:PORT@HOST"
  } else if (size_t last = host.rfind(':'); last != std::string::npos) {
    host = host.substr(0, last);  // "inet:HOST:PORT"
  } else {
    host.clear();  // "inet:PORT": every address
  }
  for (int fd : ListeningSockets()) {
    if (before.count(fd) > 0) continue;
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) continue;
    int port = 0;
    if (addr.ss_family == AF_INET) port = ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    if (addr.ss_family == AF_INET6) port = ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
    if (port == 0) continue;
    return host.empty() ? absl::StrCat(prefix, port) : absl::StrCat(prefix, host, ":", port);
  }
  return listen;
}

}  // namespace

absl::StatusOr<std::unique_ptr<MilterServer>> MilterServer::Start(
    const InterceptorContext& context) {
  const v1::AgentConfig& config = context.config;
  auto state = std::make_shared<MilterState>();
  state->vm = context.vm;
  state->on_no_scanner = config.on_no_scanner() == v1::OnNoScanner::DELIVER_UNSCANNED
                             ? v1::OnNoScanner::DELIVER_UNSCANNED
                             : v1::OnNoScanner::TEMPFAIL;
  for (const std::string& n : config.milter().local_networks()) {
    absl::StatusOr<IpNetwork> net = IpNetwork::Parse(n);
    if (!net.ok()) return net.status();
    state->local_networks.push_back(*net);
  }
  state->max_message_bytes = config.milter().max_message_bytes();
  state->scan = context.scan;
  {
    absl::MutexLock lock(&g_state_mu);
    if (g_started) {
      return absl::FailedPreconditionError("libmilter allows one milter per process");
    }
    g_started = true;
    g_state = new std::shared_ptr<MilterState>(state);
  }

  static struct smfiDesc desc = {};
  desc.xxfi_name = const_cast<char*>("vmscan-agent");
  desc.xxfi_version = SMFI_VERSION;
  desc.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY;
  desc.xxfi_connect = OnConnect;
  desc.xxfi_envfrom = OnEnvFrom;
  desc.xxfi_envrcpt = OnEnvRcpt;
  desc.xxfi_header = OnHeader;
  desc.xxfi_body = OnBody;
  desc.xxfi_eom = OnEom;
  desc.xxfi_abort = OnAbort;
  desc.xxfi_close = OnClose;
  if (smfi_register(desc) != MI_SUCCESS) return absl::InternalError("smfi_register failed");
  std::string spec = MilterSocketSpec(config.milter().listen());
  if (smfi_setconn(spec.data()) != MI_SUCCESS) {
    return absl::InvalidArgumentError(absl::StrCat("milter.listen: bad socket '", spec, "'"));
  }
  smfi_settimeout(static_cast<int>(config.milter().timeout_ms() / 1000));
  const std::set<int> listening = ListeningSockets();
  if (smfi_opensocket(true) != MI_SUCCESS) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", spec));
  }
  std::unique_ptr<MilterServer> server(new MilterServer());
  server->listen_address_ = BoundAddress(config.milter().listen(), listening);
  // A port chosen by the system must be the one the listener is woken on at Stop().
  server->spec_ = MilterSocketSpec(server->listen_address_);
  MilterServer* s = server.get();
  s->thread_ = std::thread([s] {
    int rc = smfi_main();
    if (rc != MI_SUCCESS) {
      VMSCAN_LOG(ERROR) << "milter: smfi_main failed";
    }
    s->stopped_.store(true);
  });
  VMSCAN_LOG(INFO) << "milter: libmilter socket " << spec << ", " << state->local_networks.size()
                   << " local network(s)";
  return server;
}

MilterServer::~MilterServer() { Stop(absl::ZeroDuration()); }

void MilterServer::Stop(absl::Duration grace) {
  if (stop_called_) return;
  stop_called_ = true;
  // smfi_stop() waits for a lock the listener holds while it polls (up to 5 s): stop from a
  // helper thread and wake the listener with connections until smfi_main() has returned.
  std::thread stopper([] { smfi_stop(); });
  for (int i = 0; i < 40 && !stopped_.load(); ++i) {
    WakeListener(spec_);
    absl::SleepFor(absl::Milliseconds(25));
  }
  stopper.join();
  if (thread_.joinable()) thread_.join();
  std::shared_ptr<MilterState> state = State();
  if (state != nullptr) {
    absl::MutexLock lock(&state->mu);
    state->mu.AwaitWithTimeout(absl::Condition(
                                   +[](MilterState* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu) {
                                     return s->scans_in_flight == 0;
                                   },
                                   state.get()),
                               grace);
    if (state->scans_in_flight > 0) {
      VMSCAN_LOG(WARNING) << "milter: " << state->scans_in_flight
                          << " scan(s) still running at shutdown; the MTA will tempfail them";
    }
  }
  {
    absl::MutexLock lock(&g_state_mu);
    delete g_state;
    g_state = nullptr;
  }
  VMSCAN_LOG(INFO) << "milter: stopped";
}

}  // namespace vmscan
