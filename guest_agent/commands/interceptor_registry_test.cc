// The interceptor table of `vmscan-agent run`: which kinds start for a config, in what order,
// what a failed start leaves behind, and that the real kinds report the address they bound.
#include "guest_agent/commands/interceptor_registry.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "guest_agent/config/agent_config.h"

namespace vmscan {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::StartsWith;

// Records what `run` does with it.
class FakeInterceptor : public Interceptor {
 public:
  FakeInterceptor(std::string name, std::vector<std::string>* events)
      : name_(std::move(name)), events_(events) {}
  absl::string_view name() const override { return name_; }
  std::string listen_address() const override { return "fake:" + name_; }
  bool stopped() const override { return stopped_; }
  void Stop(absl::Duration) override {
    stopped_ = true;
    events_->push_back("stop " + name_);
  }

 private:
  std::string name_;
  std::vector<std::string>* events_;
  bool stopped_ = false;
};

std::vector<std::string>* g_events = nullptr;

template <const char* kName>
absl::StatusOr<std::unique_ptr<Interceptor>> StartFake(const InterceptorContext&) {
  g_events->push_back(std::string("start ") + kName);
  return std::make_unique<FakeInterceptor>(kName, g_events);
}

absl::StatusOr<std::unique_ptr<Interceptor>> FailToStart(const InterceptorContext&) {
  g_events->push_back("start broken");
  return absl::UnavailableError("cannot listen on 127.0.0.1:25: Address already in use");
}

constexpr char kFirst[] = "first";
constexpr char kSecond[] = "second";

// "first" is on with smtp_proxy.listen, "second" and "broken" with milter.listen.
const std::vector<InterceptorKind> kFakeKinds = {
    {kFirst, "smtp_proxy.listen",
     [](const v1::AgentConfig& c) { return !c.smtp_proxy().listen().empty(); }, &StartFake<kFirst>},
    {kSecond, "milter.listen",
     [](const v1::AgentConfig& c) { return !c.milter().listen().empty(); }, &StartFake<kSecond>},
};

class InterceptorRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override { g_events = &events_; }
  void TearDown() override { g_events = nullptr; }
  std::vector<std::string> events_;
};

TEST_F(InterceptorRegistryTest, StartsWhatTheConfigEnablesInOrder) {
  InterceptorContext context;
  absl::StatusOr<std::vector<std::unique_ptr<Interceptor>>> none =
      StartInterceptors(kFakeKinds, context);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_THAT(*none, IsEmpty());

  context.config.mutable_milter()->set_listen("inet:127.0.0.1:0");
  absl::StatusOr<std::vector<std::unique_ptr<Interceptor>>> one =
      StartInterceptors(kFakeKinds, context);
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0]->name(), "second");

  context.config.mutable_smtp_proxy()->set_listen("127.0.0.1:0");
  absl::StatusOr<std::vector<std::unique_ptr<Interceptor>>> both =
      StartInterceptors(kFakeKinds, context);
  ASSERT_TRUE(both.ok()) << both.status();
  ASSERT_EQ(both->size(), 2u);
  EXPECT_EQ((*both)[0]->name(), "first");
  EXPECT_EQ((*both)[1]->name(), "second");
  EXPECT_THAT(events_, ElementsAre("start second", "start first", "start second"));
}

TEST_F(InterceptorRegistryTest, AFailedStartStopsTheOthersAndNamesTheKind) {
  std::vector<InterceptorKind> kinds = kFakeKinds;
  kinds.push_back({"broken", "milter.listen", kinds[1].configured, &FailToStart});
  InterceptorContext context;
  context.config.mutable_smtp_proxy()->set_listen("127.0.0.1:0");
  context.config.mutable_milter()->set_listen("inet:127.0.0.1:0");
  absl::StatusOr<std::vector<std::unique_ptr<Interceptor>>> started =
      StartInterceptors(kinds, context);
  EXPECT_EQ(started.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(started.status().message(),
            "broken: cannot listen on 127.0.0.1:25: Address already in use");
  EXPECT_THAT(events_, ElementsAre("start first", "start second", "start broken", "stop first",
                                   "stop second"));
}

// The port of "HOST:PORT" or "inet:HOST:PORT"; 0 when there is none.
int PortOf(const std::string& address) {
  int port = 0;
  if (!absl::SimpleAtoi(address.substr(address.rfind(':') + 1), &port)) return 0;
  return port;
}

bool Accepts(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool connected = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return connected;
}

TEST_F(InterceptorRegistryTest, TheRealKindsReportTheAddressTheyBound) {
  std::vector<std::string> names;
  for (const InterceptorKind& kind : InterceptorKinds()) names.push_back(kind.name);
  EXPECT_THAT(names, ElementsAre("smtp-proxy", "milter"));

  InterceptorContext context;
  context.config = DefaultAgentConfig();
  context.config.mutable_smtp_proxy()->set_listen("127.0.0.1:0");
  context.config.mutable_smtp_proxy()->set_upstream("127.0.0.1:1");
  context.config.mutable_milter()->set_listen("inet:127.0.0.1:0");
  context.vm.set_id("registry-test");
  context.scan = [](const v1::ScanMetadata&, absl::string_view) -> absl::StatusOr<ScanResponse> {
    return absl::UnavailableError("no scanner in this test");
  };
  absl::StatusOr<std::vector<std::unique_ptr<Interceptor>>> started =
      StartInterceptors(InterceptorKinds(), context);
  ASSERT_TRUE(started.ok()) << started.status();
  ASSERT_EQ(started->size(), 2u);
  const Interceptor& proxy = *(*started)[0];
  const Interceptor& milter = *(*started)[1];
  EXPECT_EQ(proxy.name(), "smtp-proxy");
  EXPECT_THAT(proxy.listen_address(), StartsWith("127.0.0.1:"));
  EXPECT_EQ(milter.name(), "milter");
  EXPECT_THAT(milter.listen_address(), StartsWith("inet:127.0.0.1:"));
  for (const Interceptor* i : {&proxy, &milter}) {
    const int port = PortOf(i->listen_address());
    EXPECT_GT(port, 0) << i->listen_address();
    EXPECT_TRUE(Accepts(port)) << i->name() << " does not listen on " << i->listen_address();
    EXPECT_FALSE(i->stopped());
  }
  for (std::unique_ptr<Interceptor>& i : *started) {
    i->Stop(absl::ZeroDuration());
    EXPECT_TRUE(i->stopped()) << i->name();
    EXPECT_FALSE(Accepts(PortOf(i->listen_address()))) << i->name() << " still listens";
  }
}

}  // namespace
}  // namespace vmscan
