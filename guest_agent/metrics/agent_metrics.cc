#include "guest_agent/metrics/agent_metrics.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace vmscan {
namespace {

std::string Lower(const std::string& name) { return absl::AsciiStrToLower(name); }

// absl::StatusCode's name in lower snake case: "unavailable", "permission_denied".
std::string CodeName(absl::StatusCode code) { return Lower(absl::StatusCodeToString(code)); }

std::string Escape(const std::string& value) {
  return absl::StrReplaceAll(value, {{"\\", "\\\\"}, {"\"", "\\\""}, {"\n", "\\n"}});
}

template <typename Map>
void AppendCounter(std::string* out, const std::string& name, const std::string& help,
                   const Map& samples) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " counter\n");
  for (const auto& [labels, value] : samples) {
    absl::StrAppend(out, name);
    if (!labels.empty()) {
      absl::StrAppend(out, "{");
      for (size_t i = 0; i < labels.size(); ++i) {
        absl::StrAppend(out, i == 0 ? "" : ",", labels[i].first, "=\"", Escape(labels[i].second),
                        "\"");
      }
      absl::StrAppend(out, "}");
    }
    absl::StrAppend(out, " ", value, "\n");
  }
}

}  // namespace

void AgentMetrics::Scanned(const v1::ScanMetadata& metadata,
                           const absl::StatusOr<ScanResponse>& response) {
  const std::string channel = Lower(v1::Channel_Name(metadata.channel()));
  absl::MutexLock lock(&mu_);
  if (response.ok()) {
    ++messages_[{{"action", Lower(v1::Action_Name(response->result.action()))},
                 {"channel", channel},
                 {"direction", Lower(v1::Direction_Name(metadata.direction()))}}];
    if (response->uploaded) uploaded_bytes_ += response->result.size();
    return;
  }
  const absl::Status& status = response.status();
  ++failures_[{{"channel", channel}, {"code", CodeName(status.code())}}];
  // What the interceptors do with a failure (docs/design.md §2): a message too large for every
  // SVM is refused for good; no SVM reachable is delivered unscanned only when on_no_scanner
  // says so; everything else — a refused handshake, full queues, errors — is a tempfail.
  const bool too_large = absl::IsResourceExhausted(status) && !IsScanQueueFull(status);
  const bool unscanned =
      absl::IsUnavailable(status) && on_no_scanner_ == v1::OnNoScanner::DELIVER_UNSCANNED;
  if (!too_large && !unscanned) ++tempfails_[{{"channel", channel}}];
}

std::string AgentMetrics::Render() const {
  absl::MutexLock lock(&mu_);
  std::string out;
  AppendCounter(&out, "vmscan_agent_messages_total",
                "Messages the interceptors handed to an SVM and got an answer for, by action",
                messages_);
  AppendCounter(&out, "vmscan_agent_scan_failures_total",
                "Scans that got no answer from any SVM, by status code", failures_);
  AppendCounter(&out, "vmscan_agent_tempfails_total",
                "Of those, the messages the interceptor tempfailed (4xx, -ERR): nothing delivered",
                tempfails_);
  AppendCounter(&out, "vmscan_agent_uploaded_bytes_total",
                "Message bytes uploaded to SVMs (hash-first hits upload none)",
                std::map<Labels, uint64_t>{{{}, uploaded_bytes_}});
  return out;
}

ScanFunction CountingScanFunction(ScanFunction scan, AgentMetrics* metrics) {
  return [scan = std::move(scan), metrics](const v1::ScanMetadata& metadata,
                                           absl::string_view message) {
    absl::StatusOr<ScanResponse> response = scan(metadata, message);
    metrics->Scanned(metadata, response);
    return response;
  };
}

}  // namespace vmscan
