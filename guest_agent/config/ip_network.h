// An IPv4 or IPv6 network in CIDR notation ("10.0.0.0/8", "::1/128", or a single address), and
// whether an address belongs to it. Used to tell outgoing mail (from local networks) from
// incoming mail at the milter. Immutable and thread-safe once parsed.
//
//   absl::StatusOr<IpNetwork> net = IpNetwork::Parse("192.168.0.0/16");
//   if (net.ok() && net->Contains("192.168.4.2")) ...
#ifndef VMSCAN_GUEST_AGENT_CONFIG_IP_NETWORK_H_
#define VMSCAN_GUEST_AGENT_CONFIG_IP_NETWORK_H_

#include <array>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vmscan {

class IpNetwork {
 public:
  // InvalidArgument naming the text when it is not an address or address/prefix.
  static absl::StatusOr<IpNetwork> Parse(absl::string_view cidr);

  // False for text that is no address. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are compared
  // as the IPv4 address they hold.
  bool Contains(absl::string_view address) const;

 private:
  IpNetwork() = default;
  bool ipv6_ = false;
  std::array<uint8_t, 16> bytes_{};
  int prefix_ = 0;
};

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_CONFIG_IP_NETWORK_H_
