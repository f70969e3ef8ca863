#pragma once
// IpAddress: an IPv4 or IPv6 address as a value, read the way libc and libcurl read a host
// (IPv4 in every inet_aton form: dotted quad, one 32-bit number "2130706433", octal and hex
// parts "0177.0x1", short forms "127.1"), and its AddressClass for the outbound-request policy
// (greenapi::UpstreamHostPolicy). IPv6 forms that carry an IPv4 address (mapped ::ffff:a.b.c.d,
// NAT64 64:ff9b::/96, 6to4 2002::/16) classify and match as that IPv4 address. Pure value type.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace greenfleet::greenapi {

enum class AddressClass {
  global,              // anything below does not hold
  loopback,            // 127/8, ::1
  privateUse,          // 10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10
  linkLocal,           // 169.254/16 (cloud metadata 169.254.169.254), fe80::/10
  sharedAddressSpace,  // 100.64/10 (carrier-grade NAT)
  multicast,           // 224/4, ff00::/8
  unspecified,         // 0/8, :: (connecting to 0.0.0.0 reaches this host)
  broadcast,           // 255.255.255.255
  reserved,            // documentation, benchmarking, 240/4, IETF blocks, ::/96, 100::/64
};

// "loopback", "private", "link-local", "shared (CGNAT)", … for messages.
std::string_view addressClassName(AddressClass c);

class IpAddress {
 public:
  using Bytes = std::array<std::uint8_t, 16>;

  // IPv4 in any form above, or IPv6 without brackets and without a zone id.
  static std::optional<IpAddress> parse(std::string_view text);
  static std::optional<IpAddress> parseIpv4(std::string_view text);
  static std::optional<IpAddress> parseIpv6(std::string_view text);
  static IpAddress v4(std::uint32_t value);  // host byte order: 0x7f000001 = 127.0.0.1
  static IpAddress v6(const Bytes& bytes);

  bool isV4() const { return v4_; }
  // The IPv4 address an IPv6 address carries (mapped, NAT64, 6to4); otherwise itself.
  IpAddress embedded() const;
  AddressClass classify() const;
  // Whether this address lies in net/prefix_len, both compared in their embedded form.
  bool within(const IpAddress& net, int prefix_len) const;
  // "127.0.0.1"; IPv6 in RFC 5952 form ("::1", "fe80::1", "::ffff:127.0.0.1").
  std::string toString() const;

  bool operator==(const IpAddress&) const = default;

 private:
  IpAddress() = default;
  bool v4_ = true;
  Bytes bytes_{};  // IPv4 in the first four bytes
};

}  // namespace greenfleet::greenapi
