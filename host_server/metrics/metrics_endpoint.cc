#include "host_server/metrics/metrics_endpoint.h"

#include <httplib.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/tls/certificate_info.h"
#include "common/tls/credentials.h"
#include "common/tls/identity.h"
#include "common/tls/openssl_util.h"

namespace vmscan {
namespace {

constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// "host:port", "[v6]:port" → host, port.
absl::Status SplitListen(const std::string& listen, std::string* host, int* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), port) ||
      *port < 0 || *port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics.listen must be HOST:PORT, got \"", listen, "\""));
  }
  *host = listen.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  if (*host == "localhost") *host = "127.0.0.1";
  return absl::OkStatus();
}

// The SSL_CTX of the HTTPS endpoint: our certificate, client certificates of the CA required,
// and the CRL checked at the handshake when there is one.
absl::Status SetUpTls(const v1::TlsConfig& tls, SSL_CTX* ctx) {
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx, tls.cert_file().c_str()) != 1) {
    return openssl::Error(absl::StrCat("metrics.tls.cert_file ", tls.cert_file()),
                          absl::StatusCode::kFailedPrecondition);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, tls.key_file().c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    return openssl::Error(absl::StrCat("metrics.tls.key_file ", tls.key_file()),
                          absl::StatusCode::kFailedPrecondition);
  }
  if (SSL_CTX_load_verify_locations(ctx, tls.ca_file().c_str(), nullptr) != 1) {
    return openssl::Error(absl::StrCat("metrics.tls.ca_file ", tls.ca_file()),
                          absl::StatusCode::kFailedPrecondition);
  }
  if (!tls.crl_file().empty()) {
    VMSCAN_ASSIGN_OR_RETURN(std::string pem, openssl::ReadFile(tls.crl_file()));
    VMSCAN_ASSIGN_OR_RETURN(openssl::UniqueCrl crl, openssl::ParseCrl(pem, tls.crl_file()));
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    if (X509_STORE_add_crl(store, crl.get()) != 1) {
      return openssl::Error(absl::StrCat("metrics.tls.crl_file ", tls.crl_file()));
    }
    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  return absl::OkStatus();
}

// Who scrapes, from the verified client certificate: only administrators may.
absl::Status AuthorizeScraper(const httplib::Request& request) {
  if (request.ssl == nullptr) return absl::OkStatus();  // plaintext: loopback only
  openssl::UniqueX509 peer(SSL_get1_peer_certificate(request.ssl));
  if (peer == nullptr) return absl::PermissionDeniedError("no client certificate");
  VMSCAN_ASSIGN_OR_RETURN(CertificateInfo info,
                          CertificateInfoFromPem(openssl::ToPem(peer.get()), "peer"));
  VMSCAN_ASSIGN_OR_RETURN(PeerName name, PeerNameFromUris(info.uris));
  if (name.role != PeerRole::kAdmin) {
    return absl::PermissionDeniedError(
        absl::StrCat(DescribePeer(name), " may not read metrics; administrators may"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const v1::MetricsConfig& config, Render render) {
  std::string host;
  int port = 0;
  VMSCAN_RETURN_IF_ERROR(SplitListen(config.listen(), &host, &port));
  std::unique_ptr<MetricsEndpoint> endpoint(new MetricsEndpoint());
  if (UsesTls(config.tls())) {
    absl::Status tls_status;
    auto https = std::make_unique<httplib::SSLServer>([&](SSL_CTX& ctx) {
      tls_status = SetUpTls(config.tls(), &ctx);
      return tls_status.ok();
    });
    VMSCAN_RETURN_IF_ERROR(tls_status);
    if (!https->is_valid()) return absl::InternalError("cannot set up the metrics HTTPS server");
    endpoint->http_ = std::move(https);
  } else {
    endpoint->http_ = std::make_unique<httplib::Server>();
  }
  httplib::Server& http = *endpoint->http_;
  // Scrapes are rare and small: two threads, not one per core.
  http.new_task_queue = [] { return new httplib::ThreadPool(2); };
  http.set_read_timeout(10, 0);
  http.set_write_timeout(10, 0);
  http.Get("/metrics", [render = std::move(render)](const httplib::Request& request,
                                                    httplib::Response& response) {
    if (absl::Status allowed = AuthorizeScraper(request); !allowed.ok()) {
      VMSCAN_LOG(WARNING) << "metrics scrape from " << request.remote_addr
                          << " refused: " << allowed.message();
      response.status = 403;
      response.set_content(absl::StrCat(allowed.message(), "\n"), "text/plain");
      return;
    }
    response.set_content(render(), kContentType);
  });
  port = port == 0 ? http.bind_to_any_port(host) : (http.bind_to_port(host, port) ? port : -1);
  if (port <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on metrics.listen ", config.listen(),
                                               " (address in use or invalid?)"));
  }
  endpoint->port_ = port;
  endpoint->address_ = absl::StrCat(
      host.find(':') == std::string::npos ? host : absl::StrCat("[", host, "]"), ":", port);
  std::atomic<bool>* ended = &endpoint->ended_;
  endpoint->thread_ = std::thread([server = endpoint->http_.get(), ended] {
    server->listen_after_bind();
    ended->store(true);
  });
  // stop() only stops a server that runs: wait for that, so that a destructor right after Start
  // (a later start-up step failed) cannot miss it and then wait forever in join().
  while (!http.is_running() && !ended->load()) absl::SleepFor(absl::Milliseconds(1));
  return endpoint;
}

MetricsEndpoint::~MetricsEndpoint() {
  if (http_ != nullptr) http_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace vmscan
