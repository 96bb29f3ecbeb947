// Real mutual-TLS handshakes over loopback with certificates made by the project's own PKI code
// (tools/pki): who gets in, who is refused, what the server learns of the peer, and reloads of
// certificates and revocation lists without a restart.
#include "common/tls/credentials.h"

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/auth_context.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/tls/certificate_info.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/pki/pki_directory.h"

namespace vmscan {
namespace {

using ::testing::HasSubstr;

// Answers every method with the peer's URI SANs as the server's TLS stack saw them.
class EchoPeerService final : public grpc::CallbackGenericService {
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    class Reactor final : public grpc::ServerGenericBidiReactor {
     public:
      explicit Reactor(grpc::GenericCallbackServerContext* ctx) {
        std::vector<std::string> uris;
        for (const grpc::string_ref& uri : ctx->auth_context()->FindPropertyValues("peer_uri")) {
          uris.emplace_back(uri.data(), uri.size());
        }
        std::string text = absl::StrJoin(uris, ",");
        grpc::Slice slice(text);
        reply_ = grpc::ByteBuffer(&slice, 1);
        StartRead(&request_);
      }
      void OnReadDone(bool ok) override {
        if (!ok) {
          Finish(grpc::Status::OK);
          return;
        }
        StartWrite(&reply_);
      }
      void OnWriteDone(bool) override { StartRead(&request_); }
      void OnDone() override { delete this; }

     private:
      grpc::ByteBuffer request_, reply_;
    };
    return new Reactor(ctx);
  }
};

struct CallResult {
  grpc::Status status;
  std::string peer_uris;      // what the server saw
  std::string server_serial;  // what the client saw of the server's certificate
};

class TlsCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vmscan-tls-test-XXXXXX";
    root_ = mkdtemp(tmpl);
    pki_ = root_ + "/pki";
    ASSERT_TRUE(pki::InitPki(pki_, pki::InitOptions()).ok());
    absl::StatusOr<pki::IssuedFiles> vm =
        pki::Issue(pki_, PeerRole::kVm, "vm-a", "desk-a", {}, {}, pki::Validity());
    ASSERT_TRUE(vm.ok()) << vm.status();
    vm_ = *vm;
  }
  void TearDown() override {
    if (server_) server_->Shutdown(absl::ToChronoTime(absl::Now()));
    std::filesystem::remove_all(root_);
  }

  v1::TlsConfig ServerTls() const {
    v1::TlsConfig tls;
    tls.set_cert_file(pki_ + "/svm/svm.pem");
    tls.set_key_file(pki_ + "/svm/svm.key");
    tls.set_ca_file(pki_ + "/ca.pem");
    tls.set_crl_file(pki_ + "/crl.pem");
    tls.set_reload_interval_s(1);
    return tls;
  }
  v1::TlsConfig ClientTls(const std::string& cert, const std::string& key,
                          const std::string& ca) const {
    v1::TlsConfig tls;
    tls.set_cert_file(cert);
    tls.set_key_file(key);
    tls.set_ca_file(ca);
    tls.set_reload_interval_s(1);
    return tls;
  }
  v1::TlsConfig VmTls() const { return ClientTls(vm_.cert_file, vm_.key_file, pki_ + "/ca.pem"); }

  void StartServer(const v1::TlsConfig& tls) {
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> creds =
        MakeServerCredentials(tls, "127.0.0.1:0");
    ASSERT_TRUE(creds.ok()) << creds.status();
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", *creds, &port_);
    service_ = std::make_unique<EchoPeerService>();  // one server per service object
    builder.RegisterCallbackGenericService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }

  CallResult Call(const v1::TlsConfig& tls, const std::string& host = "127.0.0.1") {
    const std::string target = absl::StrCat(host, ":", port_);
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds =
        MakeChannelCredentials(tls, target, &args);
    if (!creds.ok())
      return {grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad config"), "", ""};
    auto channel = grpc::CreateCustomChannel(target, *creds, args);
    grpc::GenericStub stub(channel);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(3)));
    grpc::Slice slice(std::string("ping"));
    grpc::ByteBuffer request(&slice, 1), response;
    CallResult result;
    absl::Notification done;
    stub.UnaryCall(&context, "/vmscan.test.Echo/Peer", grpc::StubOptions(), &request, &response,
                   [&](grpc::Status status) {
                     result.status = status;
                     done.Notify();
                   });
    done.WaitForNotification();
    if (result.status.ok()) {
      std::vector<grpc::Slice> slices;
      (void)response.Dump(&slices);
      for (const grpc::Slice& s : slices) {
        result.peer_uris.append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
      for (const grpc::string_ref& pem :
           context.auth_context()->FindPropertyValues("x509_pem_cert")) {
        absl::StatusOr<CertificateInfo> info =
            CertificateInfoFromPem(absl::string_view(pem.data(), pem.size()), "server");
        if (info.ok()) result.server_serial = info->serial_hex;
      }
    }
    return result;
  }

  std::string root_, pki_;
  pki::IssuedFiles vm_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<EchoPeerService> service_;
  int port_ = 0;
};

TEST_F(TlsCredentialsTest, AVmOfTheCaIsAdmittedAndTheServerSeesItsIdentity) {
  StartServer(ServerTls());
  CallResult r = Call(VmTls());
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.peer_uris, "urn:vmscan:vm:vm-a");
  // The server's name is checked: localhost is in the certificate too.
  EXPECT_TRUE(Call(VmTls(), "localhost").status.ok());
}

TEST_F(TlsCredentialsTest, ACertificateOfAnotherCaIsRefused) {
  StartServer(ServerTls());
  const std::string other = root_ + "/other";
  ASSERT_TRUE(pki::InitPki(other, pki::InitOptions()).ok());
  absl::StatusOr<pki::IssuedFiles> stranger =
      pki::Issue(other, PeerRole::kVm, "vm-a", "", {}, {}, pki::Validity());
  ASSERT_TRUE(stranger.ok());
  // Trusting our CA but presenting the other CA's certificate: the server refuses it.
  CallResult r = Call(ClientTls(stranger->cert_file, stranger->key_file, pki_ + "/ca.pem"));
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  // Trusting only the other CA: the client refuses the server.
  r = Call(ClientTls(stranger->cert_file, stranger->key_file, other + "/ca.pem"));
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsCredentialsTest, ExpiredAndNotYetValidClientCertificatesAreRefused) {
  StartServer(ServerTls());
  const absl::Time now = absl::Now();
  pki::Validity expired;
  expired.not_before = now - absl::Hours(48);
  expired.not_after = now - absl::Hours(1);
  absl::StatusOr<pki::IssuedFiles> old =
      pki::Issue(pki_, PeerRole::kVm, "vm-old", "", {}, {}, expired);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(Call(ClientTls(old->cert_file, old->key_file, pki_ + "/ca.pem")).status.error_code(),
            grpc::StatusCode::UNAVAILABLE);
  pki::Validity future;
  future.not_before = now + absl::Hours(1);
  absl::StatusOr<pki::IssuedFiles> early =
      pki::Issue(pki_, PeerRole::kVm, "vm-early", "", {}, {}, future);
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(
      Call(ClientTls(early->cert_file, early->key_file, pki_ + "/ca.pem")).status.error_code(),
      grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsCredentialsTest, ARevokedCertificateIsRefusedAtTheNextHandshakeWithoutARestart) {
  StartServer(ServerTls());
  ASSERT_TRUE(Call(VmTls()).status.ok());
  ASSERT_TRUE(pki::RevokeName(pki_, PeerRole::kVm, "vm-a").ok());
  absl::SleepFor(absl::Milliseconds(1100));  // the CRL is re-checked every reload_interval_s
  EXPECT_EQ(Call(VmTls()).status.error_code(), grpc::StatusCode::UNAVAILABLE);
  // Others still get in.
  absl::StatusOr<pki::IssuedFiles> b =
      pki::Issue(pki_, PeerRole::kVm, "vm-b", "", {}, {}, pki::Validity());
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(Call(ClientTls(b->cert_file, b->key_file, pki_ + "/ca.pem")).status.ok());
}

TEST_F(TlsCredentialsTest, PlaintextClientOfATlsServerAndTlsClientOfAPlaintextServerFail) {
  StartServer(ServerTls());
  v1::TlsConfig plain;
  plain.set_insecure_loopback(true);
  EXPECT_EQ(Call(plain).status.error_code(), grpc::StatusCode::UNAVAILABLE);
  server_->Shutdown(absl::ToChronoTime(absl::Now()));
  server_.reset();
  service_.reset();
  StartServer(plain);
  EXPECT_EQ(Call(VmTls()).status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(Call(plain).status.ok());
}

TEST_F(TlsCredentialsTest, TheServerNameMustBeInItsCertificate) {
  absl::StatusOr<pki::IssuedFiles> svm2 =
      pki::Issue(pki_, PeerRole::kSvm, "svm-2", "", {"svm-2.example"}, {}, pki::Validity());
  ASSERT_TRUE(svm2.ok());
  v1::TlsConfig server = ServerTls();
  server.set_cert_file(svm2->cert_file);
  server.set_key_file(svm2->key_file);
  StartServer(server);
  EXPECT_EQ(Call(VmTls()).status.error_code(), grpc::StatusCode::UNAVAILABLE);
  v1::TlsConfig named = VmTls();
  named.set_server_name("svm-2.example");
  EXPECT_TRUE(Call(named).status.ok());
}

TEST_F(TlsCredentialsTest, TheServerCertificateIsRotatedWithoutARestart) {
  StartServer(ServerTls());
  CallResult before = Call(VmTls());
  ASSERT_TRUE(before.status.ok());
  absl::StatusOr<pki::IssuedFiles> next =
      pki::Issue(pki_, PeerRole::kSvm, "svm", "", {"localhost"}, {"127.0.0.1"}, pki::Validity());
  ASSERT_TRUE(next.ok());
  ASSERT_NE(next->serial_hex, before.server_serial);
  std::string seen;
  for (int i = 0; i < 50 && seen != next->serial_hex; ++i) {
    absl::SleepFor(absl::Milliseconds(200));
    CallResult r = Call(VmTls());
    ASSERT_TRUE(r.status.ok()) << r.status.error_message();
    seen = r.server_serial;
  }
  EXPECT_EQ(seen, next->serial_hex);
}

TEST(TlsConfigTest, PlaintextOnlyOnLoopbackAndOnlyWhenAskedFor) {
  v1::TlsConfig plain;
  EXPECT_THAT(CheckTlsConfig(plain, "127.0.0.1:7350", "tls").message(),
              HasSubstr("tls.insecure_loopback: true"));
  plain.set_insecure_loopback(true);
  EXPECT_TRUE(CheckTlsConfig(plain, "127.0.0.1:7350", "tls").ok());
  EXPECT_TRUE(CheckTlsConfig(plain, "[::1]:7350", "tls").ok());
  EXPECT_TRUE(CheckTlsConfig(plain, "localhost:7350", "tls").ok());
  absl::Status open = CheckTlsConfig(plain, "0.0.0.0:7350", "tls");
  EXPECT_THAT(open.message(), HasSubstr("0.0.0.0:7350 is not a loopback address"));
  EXPECT_THAT(open.message(), HasSubstr("tls.cert_file"));
  EXPECT_FALSE(CheckTlsConfig(plain, "10.0.0.5:7350", "tls").ok());
  v1::TlsConfig half;
  half.set_cert_file("a.pem");
  EXPECT_THAT(CheckTlsConfig(half, "10.0.0.5:7350", "tls").message(), HasSubstr("tls.key_file"));
  v1::TlsConfig crl_only;
  crl_only.set_insecure_loopback(true);
  crl_only.set_crl_file("crl.pem");
  EXPECT_FALSE(CheckTlsConfig(crl_only, "127.0.0.1:1", "tls").ok());
}

TEST(TlsConfigTest, LoopbackAddresses) {
  for (const char* a : {"127.0.0.1:1", "127.8.9.10:1", "[::1]:1", "localhost:1", "LOCALHOST:1",
                        "unix:/run/vmscan.sock", "[::ffff:127.0.0.1]:1", "ipv4:127.0.0.1:5"}) {
    EXPECT_TRUE(IsLoopbackAddress(a)) << a;
  }
  for (const char* a : {"0.0.0.0:1", "10.0.0.1:1", "[::]:1", "svm.example:1", "128.0.0.1:1",
                        "[2001:db8::1]:1", "localhost.evil.example:1"}) {
    EXPECT_FALSE(IsLoopbackAddress(a)) << a;
  }
}

TEST(TlsConfigTest, MissingOrMismatchedFilesAreStartUpErrorsNamingTheFile) {
  char tmpl[] = "/tmp/vmscan-tls-files-XXXXXX";
  const std::string root = mkdtemp(tmpl);
  ASSERT_TRUE(pki::InitPki(root + "/pki", pki::InitOptions()).ok());
  v1::TlsConfig tls;
  tls.set_cert_file(root + "/pki/svm/svm.pem");
  tls.set_key_file(root + "/pki/admin/admin.key");  // another certificate's key
  tls.set_ca_file(root + "/pki/ca.pem");
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> creds =
      MakeServerCredentials(tls, "127.0.0.1:0");
  ASSERT_FALSE(creds.ok());
  EXPECT_THAT(creds.status().message(), HasSubstr("is not the key of"));
  tls.set_key_file(root + "/pki/missing.key");
  creds = MakeServerCredentials(tls, "127.0.0.1:0");
  ASSERT_TRUE(absl::IsNotFound(creds.status())) << creds.status();
  EXPECT_THAT(creds.status().message(), HasSubstr("missing.key"));
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace vmscan
