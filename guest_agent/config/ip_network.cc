#include "guest_agent/config/ip_network.h"

#include <arpa/inet.h>

#include <cstring>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace vmscan {
namespace {

// Fills `bytes` (4 or 16 used) and says whether the text is IPv6. IPv4-mapped IPv6 becomes IPv4.
bool ParseAddress(absl::string_view text, std::array<uint8_t, 16>* bytes, bool* ipv6) {
  std::string s(text);
  if (s.size() > 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  bytes->fill(0);
  if (inet_pton(AF_INET, s.c_str(), bytes->data()) == 1) {
    *ipv6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), bytes->data()) != 1) return false;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(bytes->data(), kMapped, 12) == 0) {
    std::memmove(bytes->data(), bytes->data() + 12, 4);
    std::memset(bytes->data() + 4, 0, 12);
    *ipv6 = false;
    return true;
  }
  *ipv6 = true;
  return true;
}

}  // namespace

absl::StatusOr<IpNetwork> IpNetwork::Parse(absl::string_view cidr) {
  IpNetwork net;
  absl::string_view address = cidr;
  size_t slash = cidr.find('/');
  if (slash != absl::string_view::npos) address = cidr.substr(0, slash);
  if (!ParseAddress(address, &net.bytes_, &net.ipv6_)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", cidr, "' is not an IP address or network (a.b.c.d/n, x:y::z/n)"));
  }
  const int max_prefix = net.ipv6_ ? 128 : 32;
  net.prefix_ = max_prefix;
  if (slash != absl::string_view::npos &&
      (!absl::SimpleAtoi(cidr.substr(slash + 1), &net.prefix_) || net.prefix_ < 0 ||
       net.prefix_ > max_prefix)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", cidr, "': the prefix length must be 0..", max_prefix));
  }
  return net;
}

bool IpNetwork::Contains(absl::string_view address) const {
  std::array<uint8_t, 16> bytes;
  bool ipv6 = false;
  if (!ParseAddress(address, &bytes, &ipv6) || ipv6 != ipv6_) return false;
  int bits = prefix_;
  for (int i = 0; bits > 0; ++i, bits -= 8) {
    const uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((bytes[i] & mask) != (bytes_[i] & mask)) return false;
  }
  return true;
}

}  // namespace vmscan
