#include "host_server/service/svm_directory_service.h"

#include <unistd.h>

#include "gtest/gtest.h"

namespace vmscan {
namespace {

TEST(PoolLoadTest, CountsRunningAndWaitingScansPerThread) {
  EXPECT_DOUBLE_EQ(PoolLoad(0, 0, 4, 64).load, 0.0);
  EXPECT_DOUBLE_EQ(PoolLoad(2, 0, 4, 64).load, 0.5);
  EXPECT_DOUBLE_EQ(PoolLoad(4, 4, 4, 64).load, 2.0);
  EXPECT_FALSE(PoolLoad(4, 57, 4, 64).overloaded);
  EXPECT_TRUE(PoolLoad(4, 58, 4, 64).overloaded);  // 90 % of the queue
  // Without a queue, every thread busy is as full as it gets.
  EXPECT_FALSE(PoolLoad(1, 0, 2, 0).overloaded);
  EXPECT_TRUE(PoolLoad(2, 0, 2, 0).overloaded);
}

TEST(AdvertisedAddressTest, ConfiguredAddressWinsElseListenWithTheBoundPort) {
  v1::SvmDirectoryConfig config;
  EXPECT_EQ(AdvertisedAddress(config, "10.0.0.5:0", 7350), "10.0.0.5:7350");
  char host[256] = {};
  ASSERT_EQ(gethostname(host, sizeof(host) - 1), 0);
  EXPECT_EQ(AdvertisedAddress(config, "0.0.0.0:7350", 7350), std::string(host) + ":7350");
  EXPECT_EQ(AdvertisedAddress(config, "[::]:7350", 7351), std::string(host) + ":7351");
  config.set_advertise_address("svm1.example:7350");
  EXPECT_EQ(AdvertisedAddress(config, "0.0.0.0:0", 40000), "svm1.example:7350");
}

TEST(SvmDirectoryServiceTest, ListsItselfFirstWithItsLoadThenThePeers) {
  v1::SvmDirectoryConfig config;
  config.set_hypervisor_host("esx-1");
  v1::SvmPeer* peer = config.add_peers();
  peer->set_address("10.0.0.6:7350");
  peer->set_hypervisor_host("esx-2");
  peer = config.add_peers();  // the same list on every SVM names each SVM itself too
  peer->set_address("10.0.0.5:7350");
  peer->set_hypervisor_host("esx-1");
  Authorizer authorizer(/*tls=*/false, nullptr);
  SvmLoad load{0.75, true};
  SvmDirectoryService service(config, &authorizer, [&] { return load; });
  service.SetSelfAddress("10.0.0.5:7350");

  v1::SvmList list = service.List();
  ASSERT_EQ(list.svms_size(), 2);
  EXPECT_TRUE(list.svms(0).self());
  EXPECT_EQ(list.svms(0).address(), "10.0.0.5:7350");
  EXPECT_EQ(list.svms(0).hypervisor_host(), "esx-1");
  EXPECT_DOUBLE_EQ(list.svms(0).load(), 0.75);
  EXPECT_TRUE(list.svms(0).overloaded());
  EXPECT_FALSE(list.svms(1).self());
  EXPECT_EQ(list.svms(1).address(), "10.0.0.6:7350");
  EXPECT_EQ(list.svms(1).hypervisor_host(), "esx-2");
  EXPECT_DOUBLE_EQ(list.svms(1).load(), -1);

  load = {0.0, false};  // asked again: the load of now
  EXPECT_DOUBLE_EQ(service.List().svms(0).load(), 0.0);
}

TEST(SvmDirectoryServiceTest, DefaultsTheHypervisorHostToTheHostname) {
  Authorizer authorizer(/*tls=*/false, nullptr);
  SvmDirectoryService service(v1::SvmDirectoryConfig(), &authorizer, [] { return SvmLoad(); });
  char host[256] = {};
  ASSERT_EQ(gethostname(host, sizeof(host) - 1), 0);
  EXPECT_EQ(service.List().svms(0).hypervisor_host(), host);
}

}  // namespace
}  // namespace vmscan
