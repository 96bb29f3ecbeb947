#include "host_server/metrics/grpc_metrics.h"

#include <utility>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace vmscan {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::ServerRpcInfo;

constexpr absl::string_view kScanMethod = "/vmscan.v1.ScanService/Scan";

// Prometheus' default buckets, as go-grpc-prometheus uses them.
const prometheus::Histogram::BucketBoundaries& HandlingBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return *buckets;
}

// "/vmscan.v1.ScanService/Scan" → {"vmscan.v1.ScanService", "Scan"}.
std::pair<std::string, std::string> SplitMethod(absl::string_view method) {
  if (!method.empty() && method.front() == '/') method.remove_prefix(1);
  size_t slash = method.find('/');
  if (slash == absl::string_view::npos) return {std::string(method), ""};
  return {std::string(method.substr(0, slash)), std::string(method.substr(slash + 1))};
}

prometheus::Labels CallLabels(absl::string_view method, absl::string_view type) {
  auto [service, name] = SplitMethod(method);
  return {{"grpc_service", service}, {"grpc_method", name}, {"grpc_type", std::string(type)}};
}

const char* TypeName(ServerRpcInfo::Type type) {
  switch (type) {
    case ServerRpcInfo::Type::UNARY:
      return "unary";
    case ServerRpcInfo::Type::CLIENT_STREAMING:
      return "client_stream";
    case ServerRpcInfo::Type::SERVER_STREAMING:
      return "server_stream";
    case ServerRpcInfo::Type::BIDI_STREAMING:
      return "bidi_stream";
  }
  return "unknown";
}

// One call. Hooks of one call can run on different threads at once (a bidi stream reads and
// writes concurrently), hence the mutex.
class MetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(ServerRpcInfo* info, GrpcServerMetrics* grpc_metrics, ScanMetrics* scans,
                     const GroupOf* group_of)
      : method_(info->method() == nullptr ? "" : info->method()),
        type_(TypeName(info->type())),
        is_scan_(method_ == kScanMethod),
        grpc_(grpc_metrics),
        scans_(scans),
        group_of_(group_of),
        start_(absl::Now()) {
    grpc_->Started(method_, type_);
  }

  ~MetricsInterceptor() override {
    absl::MutexLock lock(&mu_);
    // A call that ended without sending a status (the client went away first).
    if (!handled_) End(grpc::StatusCode::CANCELLED);
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      OnReceived(methods->GetRecvMessage());
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      OnSending(methods->GetSendMessage());
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      // Counted before the client can see the status, so that a scrape after it sees the call.
      absl::MutexLock lock(&mu_);
      End(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void End(grpc::StatusCode code) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (handled_) return;
    handled_ = true;
    grpc_->Handled(method_, type_, code, absl::Now() - start_);
    if (scan_started_) scans_->CallEnded(metadata_.vm().id(), bytes_received_);
  }

  void OnReceived(void* message) {
    if (message == nullptr) return;  // the read failed: the stream is over
    grpc_->MessageReceived(method_, type_);
    if (!is_scan_) return;
    const auto* request = static_cast<const v1::ScanRequest*>(message);
    absl::MutexLock lock(&mu_);
    if (handled_) return;
    if (request->has_metadata() && !scan_started_) {
      metadata_ = request->metadata();
      scan_started_ = true;
      scans_->CallStarted(metadata_.vm().id());
    }
    if (scan_started_ && !request->chunk().empty()) {
      bytes_received_ += request->chunk().size();
      scans_->BytesReceived(metadata_.vm().id(), request->chunk().size());
    }
  }

  void OnSending(const void* message) {
    grpc_->MessageSent(method_, type_);
    if (!is_scan_ || message == nullptr) return;
    const auto* reply = static_cast<const v1::ScanReply*>(message);
    if (!reply->has_result()) return;  // a cleaned chunk, or "send the message"
    absl::MutexLock lock(&mu_);
    const std::string group = (*group_of_)(metadata_.vm());
    scans_->Answered(metadata_, group, reply->result(), absl::Now() - start_);
  }

  const std::string method_;
  const std::string type_;
  const bool is_scan_;
  GrpcServerMetrics* const grpc_;
  ScanMetrics* const scans_;
  const GroupOf* const group_of_;
  const absl::Time start_;

  absl::Mutex mu_;
  bool handled_ ABSL_GUARDED_BY(mu_) = false;
  bool scan_started_ ABSL_GUARDED_BY(mu_) = false;
  v1::ScanMetadata metadata_ ABSL_GUARDED_BY(mu_);
  uint64_t bytes_received_ ABSL_GUARDED_BY(mu_) = 0;
};

class MetricsInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  MetricsInterceptorFactory(GrpcServerMetrics* grpc_metrics, ScanMetrics* scans, GroupOf group_of)
      : grpc_(grpc_metrics), scans_(scans), group_of_(std::move(group_of)) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(ServerRpcInfo* info) override {
    return new MetricsInterceptor(info, grpc_, scans_, &group_of_);
  }

 private:
  GrpcServerMetrics* const grpc_;
  ScanMetrics* const scans_;
  const GroupOf group_of_;
};

}  // namespace

std::string GrpcCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "Canceled";
    case grpc::StatusCode::UNKNOWN:
      return "Unknown";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "InvalidArgument";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DeadlineExceeded";
    case grpc::StatusCode::NOT_FOUND:
      return "NotFound";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "AlreadyExists";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PermissionDenied";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "ResourceExhausted";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FailedPrecondition";
    case grpc::StatusCode::ABORTED:
      return "Aborted";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OutOfRange";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "Unimplemented";
    case grpc::StatusCode::INTERNAL:
      return "Internal";
    case grpc::StatusCode::UNAVAILABLE:
      return "Unavailable";
    case grpc::StatusCode::DATA_LOSS:
      return "DataLoss";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "Unauthenticated";
    default:
      return "Code(" + std::to_string(static_cast<int>(code)) + ")";
  }
}

GrpcServerMetrics::GrpcServerMetrics(prometheus::Registry& registry)
    : started_(prometheus::BuildCounter()
                   .Name("grpc_server_started_total")
                   .Help("Total number of RPCs started on the server.")
                   .Register(registry)),
      handled_(prometheus::BuildCounter()
                   .Name("grpc_server_handled_total")
                   .Help("Total number of RPCs completed on the server, regardless of success or "
                         "failure.")
                   .Register(registry)),
      received_(prometheus::BuildCounter()
                    .Name("grpc_server_msg_received_total")
                    .Help("Total number of RPC stream messages received on the server.")
                    .Register(registry)),
      sent_(prometheus::BuildCounter()
                .Name("grpc_server_msg_sent_total")
                .Help("Total number of gRPC stream messages sent by the server.")
                .Register(registry)),
      handling_(prometheus::BuildHistogram()
                    .Name("grpc_server_handling_seconds")
                    .Help("Histogram of response latency (seconds) of gRPC that had been "
                          "application-level handled by the server.")
                    .Register(registry)) {}

void GrpcServerMetrics::Started(absl::string_view method, absl::string_view type) {
  started_.Add(CallLabels(method, type)).Increment();
}

void GrpcServerMetrics::MessageReceived(absl::string_view method, absl::string_view type) {
  received_.Add(CallLabels(method, type)).Increment();
}

void GrpcServerMetrics::MessageSent(absl::string_view method, absl::string_view type) {
  sent_.Add(CallLabels(method, type)).Increment();
}

void GrpcServerMetrics::Handled(absl::string_view method, absl::string_view type,
                                grpc::StatusCode code, absl::Duration elapsed) {
  prometheus::Labels labels = CallLabels(method, type);
  handling_.Add(labels, HandlingBuckets()).Observe(absl::ToDoubleSeconds(elapsed));
  labels["grpc_code"] = GrpcCodeName(code);
  handled_.Add(labels).Increment();
}

std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
MetricsInterceptors(GrpcServerMetrics* grpc_metrics, ScanMetrics* scans, GroupOf group_of) {
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(
      std::make_unique<MetricsInterceptorFactory>(grpc_metrics, scans, std::move(group_of)));
  return creators;
}

}  // namespace vmscan
