#include "guest_agent/smtp_proxy/smtp_session.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "guest_agent/client/verdict_text.h"

namespace vmscan {
namespace {

constexpr int kMaxErrors = 20;
constexpr size_t kMaxRecipients = 1000;

// "FROM:<a@b> SIZE=10" → "a@b"; "<>" → "".
std::string ExtractPath(absl::string_view arg) {
  size_t open = arg.find('<');
  size_t close = arg.find('>', open == absl::string_view::npos ? 0 : open);
  if (open == absl::string_view::npos || close == absl::string_view::npos) return "";
  return std::string(arg.substr(open + 1, close - open - 1));
}

// The SIZE= parameter of MAIL FROM, 0 when absent or unreadable.
uint64_t SizeParameter(absl::string_view arg) {
  size_t close = arg.find('>');
  absl::string_view params = close == absl::string_view::npos ? "" : arg.substr(close + 1);
  for (absl::string_view word : absl::StrSplit(params, ' ', absl::SkipEmpty())) {
    if (word.size() > 5 && absl::EqualsIgnoreCase(word.substr(0, 5), "SIZE=")) {
      uint64_t size = 0;
      if (absl::SimpleAtoi(word.substr(5), &size)) return size;
    }
  }
  return 0;
}

}  // namespace

SmtpSession::SmtpSession(const SmtpProxyContext& context, std::unique_ptr<net::Connection> client,
                         uint64_t id)
    : ctx_(context),
      client_(std::move(client)),
      id_(id),
      session_deadline_(absl::Now() + absl::Milliseconds(context.config.session_timeout_ms())) {}

absl::Time SmtpSession::Deadline() const {
  if (aborted_) return absl::Now();
  return std::min(session_deadline_,
                  absl::Now() + absl::Milliseconds(ctx_.config.idle_timeout_ms()));
}

std::string SmtpSession::Tag() const { return absl::StrCat("smtp-proxy #", id_, " "); }

void SmtpSession::RequestStop() {
  stopping_ = true;
  if (idle_) client_->Cancel();
}

void SmtpSession::Abort() {
  stopping_ = true;
  aborted_ = true;
  client_->Cancel();
  if (upstream_) upstream_->Cancel();
}

net::Task<bool> SmtpSession::Send(std::string text) {
  absl::Status s = co_await client_->Write(text, Deadline());
  if (!s.ok()) {
    VMSCAN_LOG(DEBUG) << Tag() << "write to client: " << s;
  }
  co_return s.ok();
}

net::Task<absl::StatusOr<SmtpReply>> SmtpSession::Upstream(std::string command) {
  command.append("\r\n");
  absl::Status s = co_await upstream_->Write(command, Deadline());
  if (!s.ok()) co_return s;
  co_return co_await ReadReply(*upstream_, ctx_.config.max_line_bytes(), Deadline());
}

net::Task<SmtpSession::Next> SmtpSession::UpstreamLost(const absl::Status& status) {
  VMSCAN_LOG(WARNING) << Tag() << "upstream " << ctx_.config.upstream() << ": " << status;
  co_await Send(Reply(421, "4.4.2 Lost the connection to the mail server; closing"));
  upstream_.reset();
  co_return Next::kClose;
}

net::Task<void> SmtpSession::ResetUpstream() {
  absl::StatusOr<SmtpReply> r = co_await Upstream("RSET");
  if (!r.ok()) {
    VMSCAN_LOG(WARNING) << Tag() << "RSET to upstream: " << r.status();
  }
}

void SmtpSession::EndTransaction() {
  in_transaction_ = false;
  sender_.clear();
  declared_size_ = 0;
  recipients_.clear();
}

net::Task<void> SmtpSession::Run() {
  VMSCAN_LOG(DEBUG) << Tag() << "client " << client_->peer() << " connected";
  absl::StatusOr<std::unique_ptr<net::Connection>> up =
      co_await net::Connection::Connect(ctx_.loop, ctx_.config.upstream(), Deadline(), ctx_.pool);
  absl::StatusOr<SmtpReply> greeting = absl::UnavailableError("not connected");
  if (up.ok()) {
    upstream_ = std::move(*up);
    greeting = co_await ReadReply(*upstream_, ctx_.config.max_line_bytes(), Deadline());
  } else {
    greeting = up.status();
  }
  if (!greeting.ok() || greeting->code != 220) {
    VMSCAN_LOG(WARNING) << Tag() << "upstream " << ctx_.config.upstream() << " not available: "
                        << (greeting.ok() ? greeting->Wire() : greeting.status().ToString());
    co_await Send(Reply(421, "4.4.1 Mail server not available; try again later"));
    co_return;
  }
  if (!co_await Send(Reply(220, absl::StrCat(ctx_.hostname, " ESMTP vmscan-agent")))) co_return;

  for (;;) {
    if (stopping_) {
      co_await Send(Reply(421, "4.3.2 Service shutting down; try again later"));
      break;
    }
    idle_ = true;
    absl::StatusOr<std::string> line =
        co_await client_->ReadLine(ctx_.config.max_line_bytes(), Deadline());
    idle_ = false;
    if (!line.ok()) {
      if (absl::IsResourceExhausted(line.status())) {
        if (!co_await Send(Reply(500, "5.5.2 Line too long"))) break;
        if (++errors_ > kMaxErrors) break;
        continue;
      }
      if (absl::IsCancelled(line.status())) continue;  // stopping: 421 above
      if (absl::IsDeadlineExceeded(line.status())) {
        co_await Send(Reply(421, "4.4.2 Timeout; closing connection"));
      }
      break;
    }
    if (co_await Dispatch(std::move(*line)) == Next::kClose) break;
  }
  if (upstream_ && !aborted_) {
    absl::StatusOr<SmtpReply> bye = co_await Upstream("QUIT");
    (void)bye;
  }
  VMSCAN_LOG(DEBUG) << Tag() << "client " << client_->peer() << " done";
}

net::Task<SmtpSession::Next> SmtpSession::Dispatch(std::string line) {
  if (line.find_first_of(std::string("\r\0", 2)) != std::string::npos) {
    co_return co_await Send(Reply(500, "5.5.2 Bad characters in command")) ? Next::kContinue
                                                                           : Next::kClose;
  }
  size_t space = line.find(' ');
  const std::string verb = absl::AsciiStrToUpper(line.substr(0, space));
  const std::string arg = space == std::string::npos ? "" : line.substr(space + 1);
  if (verb == "EHLO" || verb == "HELO") co_return co_await OnHelo(verb == "EHLO", line, arg);
  if (verb == "STARTTLS") co_return co_await OnStartTls(arg);
  if (verb == "MAIL") co_return co_await OnMail(line, arg);
  if (verb == "RCPT") co_return co_await OnRcpt(line, arg);
  if (verb == "DATA") co_return co_await OnData(arg);
  if (verb == "AUTH") co_return co_await OnAuth(line);
  if (verb == "RSET") {
    EndTransaction();
    co_return co_await Forward("RSET");
  }
  if (verb == "NOOP") {
    co_return co_await Send(Reply(250, "2.0.0 OK")) ? Next::kContinue : Next::kClose;
  }
  if (verb == "QUIT") {
    co_await Send(Reply(221, "2.0.0 Bye"));
    co_return Next::kClose;
  }
  if (verb == "VRFY" || verb == "EXPN" || verb == "HELP") co_return co_await Forward(line);
  if (verb == "BDAT") {
    // Its chunk would follow as raw bytes; without CHUNKING there is no safe way to go on.
    co_await Send(Reply(502, "5.5.1 BDAT not supported (CHUNKING not offered); closing"));
    co_return Next::kClose;
  }
  if (++errors_ > kMaxErrors) {
    co_await Send(Reply(421, "4.7.0 Too many errors; closing"));
    co_return Next::kClose;
  }
  co_return co_await Send(Reply(500, "5.5.2 Command unrecognized")) ? Next::kContinue
                                                                    : Next::kClose;
}

net::Task<SmtpSession::Next> SmtpSession::Forward(std::string line) {
  absl::StatusOr<SmtpReply> reply = co_await Upstream(line);
  if (!reply.ok()) co_return co_await UpstreamLost(reply.status());
  co_return co_await Send(reply->Wire()) ? Next::kContinue : Next::kClose;
}

net::Task<absl::Status> SmtpSession::NegotiateUpstreamTls(const std::string& helo_name) {
  upstream_tls_tried_ = true;
  if (ctx_.config.upstream_tls() == v1::UpstreamTls::DISABLED) co_return absl::OkStatus();
  absl::StatusOr<SmtpReply> ehlo = co_await Upstream("EHLO " + helo_name);
  if (!ehlo.ok()) co_return ehlo.status();
  const bool offered =
      ehlo->code == 250 &&
      HasCapability(std::vector<std::string>(ehlo->lines.begin() + 1, ehlo->lines.end()),
                    "STARTTLS");
  if (!offered) {
    if (ctx_.config.upstream_tls() == v1::UpstreamTls::REQUIRED) {
      co_return absl::FailedPreconditionError("the upstream does not offer STARTTLS");
    }
    co_return absl::OkStatus();
  }
  absl::StatusOr<SmtpReply> go = co_await Upstream("STARTTLS");
  if (!go.ok()) co_return go.status();
  if (go->code != 220) {
    if (ctx_.config.upstream_tls() == v1::UpstreamTls::REQUIRED) {
      co_return absl::FailedPreconditionError(absl::StrCat("upstream STARTTLS: ", go->Wire()));
    }
    co_return absl::OkStatus();
  }
  // Anything the upstream sent after its 220 is plaintext injection: drop it.
  if (size_t n = upstream_->DiscardBuffered(); n > 0) {
    VMSCAN_LOG(WARNING) << Tag() << "dropped " << n << " bytes the upstream sent after STARTTLS";
  }
  std::string name = ctx_.config.upstream_tls_name();
  if (name.empty()) name = ctx_.config.upstream().substr(0, ctx_.config.upstream().rfind(':'));
  absl::Status tls = co_await upstream_->StartTls(ctx_.client_tls, false, name, Deadline());
  if (tls.ok()) {
    VMSCAN_LOG(DEBUG) << Tag() << "upstream TLS: " << upstream_->TlsDescription();
  }
  co_return tls;
}

net::Task<SmtpSession::Next> SmtpSession::OnHelo(bool ehlo, const std::string& line,
                                                 const std::string& arg) {
  if (arg.empty()) {
    co_return co_await Send(Reply(501, "5.5.4 Syntax: EHLO hostname")) ? Next::kContinue
                                                                       : Next::kClose;
  }
  if (!upstream_tls_tried_) {
    absl::Status tls = co_await NegotiateUpstreamTls(arg);
    if (absl::IsFailedPrecondition(tls) || (!tls.ok() && upstream_ && upstream_->tls())) {
      VMSCAN_LOG(WARNING) << Tag() << "upstream TLS: " << tls;
      co_await Send(Reply(421, "4.7.0 Secure connection to the mail server failed; closing"));
      co_return Next::kClose;
    }
    if (!tls.ok()) co_return co_await UpstreamLost(tls);
  }
  absl::StatusOr<SmtpReply> reply = co_await Upstream(line);
  if (!reply.ok()) co_return co_await UpstreamLost(reply.status());
  EndTransaction();
  if (!reply->positive()) {
    co_return co_await Send(reply->Wire()) ? Next::kContinue : Next::kClose;
  }
  helo_seen_ = true;
  helo_name_ = arg;
  if (!ehlo) {
    co_return co_await Send(Reply(250, ctx_.hostname)) ? Next::kContinue : Next::kClose;
  }
  SmtpReply ours;
  ours.code = 250;
  ours.lines.push_back(absl::StrCat(ctx_.hostname, " greets ", SafeText(arg, 100)));
  EhloOffer offer{ctx_.config.max_message_bytes(), ctx_.server_tls != nullptr && !client_->tls()};
  for (std::string& cap : FilterEhloCapabilities(
           std::vector<std::string>(reply->lines.begin() + 1, reply->lines.end()), offer)) {
    ours.lines.push_back(std::move(cap));
  }
  co_return co_await Send(ours.Wire()) ? Next::kContinue : Next::kClose;
}

net::Task<SmtpSession::Next> SmtpSession::OnStartTls(const std::string& arg) {
  std::string refusal;
  if (ctx_.server_tls == nullptr) {
    refusal = Reply(502, "5.5.1 STARTTLS not available");
  } else if (client_->tls()) {
    refusal = Reply(503, "5.5.1 TLS already active");
  } else if (!arg.empty()) {
    refusal = Reply(501, "5.5.4 Syntax: STARTTLS");
  } else if (in_transaction_) {
    refusal = Reply(503, "5.5.1 STARTTLS not allowed during a mail transaction");
  }
  if (!refusal.empty()) co_return co_await Send(refusal) ? Next::kContinue : Next::kClose;
  if (!co_await Send(Reply(220, "2.0.0 Ready to start TLS"))) co_return Next::kClose;
  // Commands pipelined after STARTTLS were sent in plaintext: never execute them (injection).
  if (size_t n = client_->DiscardBuffered(); n > 0) {
    VMSCAN_LOG(WARNING) << Tag() << "discarded " << n << " plaintext bytes pipelined after "
                        << "STARTTLS by " << client_->peer();
  }
  absl::Status tls = co_await client_->StartTls(ctx_.server_tls, true, "", Deadline());
  if (!tls.ok()) {
    VMSCAN_LOG(INFO) << Tag() << "client TLS: " << tls;
    co_return Next::kClose;
  }
  VMSCAN_LOG(DEBUG) << Tag() << "client TLS: " << client_->TlsDescription();
  helo_seen_ = false;  // RFC 3207: the client starts over with EHLO
  authenticated_ = false;
  EndTransaction();
  co_return Next::kContinue;
}

net::Task<SmtpSession::Next> SmtpSession::OnMail(const std::string& line, const std::string& arg) {
  std::string refusal;
  if (!helo_seen_) {
    refusal = Reply(503, "5.5.1 Send EHLO or HELO first");
  } else if (in_transaction_) {
    refusal = Reply(503, "5.5.1 Nested MAIL command");
  } else if (!absl::StartsWithIgnoreCase(arg, "FROM:")) {
    refusal = Reply(501, "5.5.4 Syntax: MAIL FROM:<address>");
  } else if (SizeParameter(arg) > ctx_.config.max_message_bytes()) {
    refusal = Reply(552, "5.3.4 Message size exceeds fixed limit");
  }
  if (!refusal.empty()) co_return co_await Send(refusal) ? Next::kContinue : Next::kClose;
  absl::StatusOr<SmtpReply> reply = co_await Upstream(line);
  if (!reply.ok()) co_return co_await UpstreamLost(reply.status());
  if (reply->positive()) {
    in_transaction_ = true;
    sender_ = ExtractPath(arg);
    declared_size_ = SizeParameter(arg);
  }
  co_return co_await Send(reply->Wire()) ? Next::kContinue : Next::kClose;
}

net::Task<SmtpSession::Next> SmtpSession::OnRcpt(const std::string& line, const std::string& arg) {
  std::string refusal;
  if (!in_transaction_) {
    refusal = Reply(503, "5.5.1 Need MAIL before RCPT");
  } else if (!absl::StartsWithIgnoreCase(arg, "TO:")) {
    refusal = Reply(501, "5.5.4 Syntax: RCPT TO:<address>");
  } else if (recipients_.size() >= kMaxRecipients) {
    refusal = Reply(452, "4.5.3 Too many recipients");
  }
  if (!refusal.empty()) co_return co_await Send(refusal) ? Next::kContinue : Next::kClose;
  absl::StatusOr<SmtpReply> reply = co_await Upstream(line);
  if (!reply.ok()) co_return co_await UpstreamLost(reply.status());
  if (reply->positive()) recipients_.push_back(ExtractPath(arg));
  co_return co_await Send(reply->Wire()) ? Next::kContinue : Next::kClose;
}

net::Task<SmtpSession::Next> SmtpSession::OnAuth(const std::string& line) {
  std::string refusal;
  if (!helo_seen_) {
    refusal = Reply(503, "5.5.1 Send EHLO first");
  } else if (authenticated_) {
    refusal = Reply(503, "5.5.1 Already authenticated");
  } else if (in_transaction_) {
    refusal = Reply(503, "5.5.1 AUTH not allowed during a mail transaction");
  }
  if (!refusal.empty()) co_return co_await Send(refusal) ? Next::kContinue : Next::kClose;
  absl::StatusOr<SmtpReply> reply = co_await Upstream(line);
  // The SASL exchange: each 334 challenge is answered by one client line, relayed as is.
  while (reply.ok() && reply->code == 334) {
    if (!co_await Send(reply->Wire())) co_return Next::kClose;
    absl::StatusOr<std::string> answer =
        co_await client_->ReadLine(ctx_.config.max_line_bytes(), Deadline());
    if (!answer.ok()) co_return Next::kClose;
    reply = co_await Upstream(*answer);
  }
  if (!reply.ok()) co_return co_await UpstreamLost(reply.status());
  if (reply->code == 235) authenticated_ = true;
  co_return co_await Send(reply->Wire()) ? Next::kContinue : Next::kClose;
}

}  // namespace vmscan
