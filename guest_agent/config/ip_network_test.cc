#include "guest_agent/config/ip_network.h"

#include "gtest/gtest.h"

namespace vmscan {
namespace {

TEST(IpNetworkTest, Ipv4Networks) {
  absl::StatusOr<IpNetwork> net = IpNetwork::Parse("192.168.0.0/16");
  ASSERT_TRUE(net.ok()) << net.status();
  EXPECT_TRUE(net->Contains("192.168.4.2"));
  EXPECT_FALSE(net->Contains("192.169.0.1"));
  EXPECT_FALSE(net->Contains("not an address"));
  EXPECT_TRUE(net->Contains("::ffff:192.168.1.1"));  // IPv4-mapped, as MTAs may report it
  absl::StatusOr<IpNetwork> host = IpNetwork::Parse("127.0.0.1");
  ASSERT_TRUE(host.ok());
  EXPECT_TRUE(host->Contains("127.0.0.1"));
  EXPECT_FALSE(host->Contains("127.0.0.2"));
  absl::StatusOr<IpNetwork> odd = IpNetwork::Parse("10.0.0.0/9");
  ASSERT_TRUE(odd.ok());
  EXPECT_TRUE(odd->Contains("10.127.255.255"));
  EXPECT_FALSE(odd->Contains("10.128.0.0"));
  EXPECT_TRUE(IpNetwork::Parse("0.0.0.0/0")->Contains("8.8.8.8"));
}

TEST(IpNetworkTest, Ipv6Networks) {
  absl::StatusOr<IpNetwork> net = IpNetwork::Parse("fd00::/8");
  ASSERT_TRUE(net.ok()) << net.status();
  EXPECT_TRUE(net->Contains("fd12:3456::1"));
  EXPECT_TRUE(net->Contains("[fd12:3456::1]"));
  EXPECT_FALSE(net->Contains("fe80::1"));
  EXPECT_FALSE(net->Contains("10.0.0.1"));
  EXPECT_TRUE(IpNetwork::Parse("::1/128")->Contains("::1"));
}

TEST(IpNetworkTest, BadTextIsRefused) {
  EXPECT_FALSE(IpNetwork::Parse("").ok());
  EXPECT_FALSE(IpNetwork::Parse("10.0.0.0/33").ok());
  EXPECT_FALSE(IpNetwork::Parse("10.0.0.0/x").ok());
  EXPECT_FALSE(IpNetwork::Parse("example.com").ok());
  EXPECT_FALSE(IpNetwork::Parse("::/129").ok());
}

}  // namespace
}  // namespace vmscan
