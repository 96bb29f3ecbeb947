// SmtpSession's message path: DATA read whole and decoded, scanned on the pool, then relayed
// to the upstream or refused (see smtp_session.h).
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/logging.h"
#include "guest_agent/client/verdict_text.h"
#include "guest_agent/smtp_proxy/data_reader.h"
#include "guest_agent/smtp_proxy/smtp_decision.h"
#include "guest_agent/smtp_proxy/smtp_session.h"

namespace vmscan {
namespace {

constexpr size_t kRelayChunk = 256 << 10;

}  // namespace

net::Task<SmtpSession::Next> SmtpSession::OnData(const std::string& arg) {
  std::string refusal;
  if (!arg.empty()) {
    refusal = Reply(501, "5.5.4 Syntax: DATA");
  } else if (!in_transaction_) {
    refusal = Reply(503, "5.5.1 Need MAIL command");
  } else if (recipients_.empty()) {
    refusal = Reply(554, "5.5.1 No valid recipients");
  }
  if (!refusal.empty()) co_return co_await Send(refusal) ? Next::kContinue : Next::kClose;
  if (!co_await Send(Reply(354, "End data with <CR><LF>.<CR><LF>"))) co_return Next::kClose;

  DataReader reader(ctx_.config.max_message_bytes(),
                    ctx_.config.bare_line_endings() == v1::BareLineEndings::NORMALIZE);
  // A client that declared the size (MTAs do) gets the buffer at once: growing by doubling held
  // up to three times the message while copying (checked against max_message_bytes in MAIL).
  if (declared_size_ > 0) reader.message().reserve(declared_size_ + declared_size_ / 32 + 1024);
  for (;;) {
    client_->Consume(reader.Consume(client_->buffered()));
    if (reader.done()) break;
    absl::Status s = co_await client_->Fill(Deadline());
    if (!s.ok()) {
      VMSCAN_LOG(INFO) << Tag() << "client left during DATA: " << s;
      if (absl::IsDeadlineExceeded(s)) co_await Send(Reply(421, "4.4.2 Timeout; closing"));
      co_return Next::kClose;
    }
  }
  std::string refuse;
  if (reader.too_large()) {
    refuse = Reply(552, "5.3.4 Message size exceeds fixed limit");
  } else if (reader.bare_line_ending()) {
    refuse = Reply(554, "5.6.0 Message has a bare CR or LF (not CRLF); not sent");
  } else if (reader.message().empty()) {
    refuse = Reply(554, "5.6.0 Empty message; not sent");
  }
  if (!refuse.empty()) {
    VMSCAN_LOG(INFO) << Tag() << "<" << sender_
                     << ">: refused: " << refuse.substr(0, refuse.size() - 2);
    co_await ResetUpstream();
    EndTransaction();
    co_return co_await Send(refuse) ? Next::kContinue : Next::kClose;
  }

  v1::ScanMetadata metadata;
  *metadata.mutable_vm() = ctx_.vm;
  metadata.set_channel(v1::SMTP);
  metadata.set_direction(v1::OUTGOING);
  metadata.set_envelope_sender(sender_);
  for (const std::string& rcpt : recipients_) metadata.add_envelope_recipients(rcpt);
  metadata.set_client_ref(absl::StrCat("smtp-proxy #", id_, " from ", client_->peer()));
  const std::string& message = reader.message();
  const ScanFunction& scan = ctx_.scan;
  absl::StatusOr<ScanResponse> response = co_await ctx_.loop->Offload<absl::StatusOr<ScanResponse>>(
      ctx_.pool, [&scan, &metadata, &message] { return scan(metadata, message); });
  SmtpOutcome outcome = DecideSmtpOut(response, ctx_.on_no_scanner);
  const std::string who = absl::StrCat("<", sender_, "> -> <", absl::StrJoin(recipients_, ">, <"),
                                       ">, ", message.size(), " bytes");
  if (!outcome.relay) {
    VMSCAN_LOG(INFO) << Tag() << who << ": " << outcome.summary;
    co_await ResetUpstream();
    EndTransaction();
    co_return co_await Send(outcome.reply) ? Next::kContinue : Next::kClose;
  }
  VMSCAN_LOG(INFO) << Tag() << who << ": " << outcome.summary;
  // A named local: GCC 12 freed an invalid pointer when this was a conditional-expression
  // temporary passed straight to the coroutine.
  const std::string header = outcome.header_value.empty()
                                 ? std::string()
                                 : absl::StrCat(kStatusHeader, ": ", outcome.header_value, "\r\n");
  co_return co_await Relay(header, message);
}

net::Task<SmtpSession::Next> SmtpSession::Relay(const std::string& header,
                                                const std::string& message) {
  EndTransaction();
  absl::StatusOr<SmtpReply> go = co_await Upstream("DATA");
  if (!go.ok()) co_return co_await UpstreamLost(go.status());
  if (go->code != 354) {
    co_await ResetUpstream();
    co_return co_await Send(go->Wire()) ? Next::kContinue : Next::kClose;
  }
  // Stuffed and sent piece by piece: the proxy holds the message once, not three times (the
  // message, with the status header in front, stuffed).
  DotStuffer stuffer;
  std::string wire;
  wire.reserve(kRelayChunk + kRelayChunk / 32 + header.size() + 8);
  stuffer.Add(header, &wire);
  size_t off = 0;
  do {
    const absl::string_view piece = absl::string_view(message).substr(off, kRelayChunk);
    off += piece.size();
    stuffer.Add(piece, &wire);
    if (off >= message.size()) stuffer.Finish(&wire);
    absl::Status s = co_await upstream_->Write(wire, Deadline());
    if (!s.ok()) co_return co_await UpstreamLost(s);
    wire.clear();
  } while (off < message.size());
  absl::StatusOr<SmtpReply> done =
      co_await ReadReply(*upstream_, ctx_.config.max_line_bytes(), Deadline());
  if (!done.ok()) co_return co_await UpstreamLost(done.status());
  VMSCAN_LOG(INFO) << Tag() << "upstream: " << done->code << " "
                   << SafeText(done->lines.empty() ? "" : done->lines.back(), 200);
  co_return co_await Send(done->Wire()) ? Next::kContinue : Next::kClose;
}

}  // namespace vmscan
