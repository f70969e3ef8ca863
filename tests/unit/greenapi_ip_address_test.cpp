#include <doctest/doctest.h>

#include "greenapi/ip_address.hpp"

using namespace greenfleet::greenapi;

namespace {
std::string canonical(std::string_view text) {
  const auto a = IpAddress::parse(text);
  return a ? a->toString() : "<invalid>";
}
std::string classOf(std::string_view text) {
  const auto a = IpAddress::parse(text);
  REQUIRE_MESSAGE(a.has_value(), text);
  return std::string(addressClassName(a->classify()));
}
}  // namespace

TEST_CASE("IpAddress reads IPv4 in every form inet_aton accepts") {
  CHECK(canonical("127.0.0.1") == "127.0.0.1");
  CHECK(canonical("2130706433") == "127.0.0.1");     // one 32-bit number
  CHECK(canonical("0x7f000001") == "127.0.0.1");     // ... in hex
  CHECK(canonical("017700000001") == "127.0.0.1");   // ... in octal
  CHECK(canonical("127.1") == "127.0.0.1");          // a.b: b fills 24 bits
  CHECK(canonical("127.0.1") == "127.0.0.1");        // a.b.c: c fills 16 bits
  CHECK(canonical("0x7f.1") == "127.0.0.1");         // hex part
  CHECK(canonical("0177.0.0.1") == "127.0.0.1");     // octal part
  CHECK(canonical("0X7F.0x0.0.01") == "127.0.0.1");  // mixed, upper-case X
  CHECK(canonical("0") == "0.0.0.0");
  CHECK(canonical("0x") == "0.0.0.0");  // glibc reads an empty hex part as 0
  CHECK(canonical("169.254.43518") == "169.254.169.254");
  CHECK(canonical("4294967295") == "255.255.255.255");
  CHECK(canonical("10.0.0.5") == "10.0.0.5");
}

TEST_CASE("IpAddress refuses what inet_aton refuses") {
  for (const char* bad :
       {"",          ".",         "1.",        ".1",         "1..2",       "1.2.3.4.5",
        "256.0.0.1", "1.256.0.1", "1.2.3.256", "4294967296", "1.16777216", "1.2.65536",
        "08",        "0x1g",      "09.1.1.1",  "1.2.3.4 ",   "-1",         "+1",
        "1.2.3.a",   "a",         "localhost"}) {
    CHECK_MESSAGE(!IpAddress::parseIpv4(bad).has_value(), bad);
  }
}

TEST_CASE("IpAddress reads IPv6 literals and prints them in RFC 5952 form") {
  CHECK(canonical("::1") == "::1");
  CHECK(canonical("::") == "::");
  CHECK(canonical("0:0:0:0:0:0:0:1") == "::1");
  CHECK(canonical("FE80::0001") == "fe80::1");
  CHECK(canonical("2001:db8:0:0:1:0:0:1") == "2001:db8::1:0:0:1");  // first of equal runs
  CHECK(canonical("2001:0db8:0000:0000:0000:0000:0002:0001") == "2001:db8::2:1");
  CHECK(canonical("1:2:3:4:5:6:7:8") == "1:2:3:4:5:6:7:8");
  CHECK(canonical("1:0:3:4:5:6:7:8") == "1:0:3:4:5:6:7:8");  // one zero group stays
  CHECK(canonical("::ffff:127.0.0.1") == "::ffff:127.0.0.1");
  CHECK(canonical("::ffff:7f00:1") == "::ffff:127.0.0.1");
  CHECK(canonical("64:ff9b::10.0.0.1") == "64:ff9b::a00:1");
  for (const char* bad :
       {":", ":::", "1:::2", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::", "::g",
        "fe80::1%eth0", "::ffff:127.1", "::ffff:1.2.3.256", ":1::", "1::2:"}) {
    CHECK_MESSAGE(!IpAddress::parse(bad).has_value(), bad);
  }
}

TEST_CASE("IpAddress classifies every special-purpose IPv4 block") {
  CHECK(classOf("127.0.0.1") == "loopback");
  CHECK(classOf("127.255.255.254") == "loopback");
  CHECK(classOf("2130706433") == "loopback");
  CHECK(classOf("10.0.0.5") == "private");
  CHECK(classOf("172.16.0.1") == "private");
  CHECK(classOf("172.31.255.255") == "private");
  CHECK(classOf("172.32.0.1") == "global");
  CHECK(classOf("172.15.255.255") == "global");
  CHECK(classOf("192.168.1.1") == "private");
  CHECK(classOf("169.254.169.254") == "link-local");  // cloud metadata
  CHECK(classOf("100.64.0.1") == "shared (CGNAT)");
  CHECK(classOf("100.127.255.255") == "shared (CGNAT)");
  CHECK(classOf("100.128.0.1") == "global");
  CHECK(classOf("224.0.0.1") == "multicast");
  CHECK(classOf("239.255.255.250") == "multicast");
  CHECK(classOf("0.0.0.0") == "unspecified");
  CHECK(classOf("0.1.2.3") == "unspecified");
  CHECK(classOf("255.255.255.255") == "broadcast");
  CHECK(classOf("240.0.0.1") == "reserved");
  CHECK(classOf("192.0.2.1") == "reserved");
  CHECK(classOf("198.51.100.7") == "reserved");
  CHECK(classOf("203.0.113.9") == "reserved");
  CHECK(classOf("198.18.0.1") == "reserved");
  CHECK(classOf("192.0.0.8") == "reserved");
  CHECK(classOf("8.8.8.8") == "global");
  CHECK(classOf("185.104.112.10") == "global");
}

TEST_CASE("IpAddress classifies IPv6, and IPv6 forms carrying IPv4 as that IPv4 address") {
  CHECK(classOf("::1") == "loopback");
  CHECK(classOf("::") == "unspecified");
  CHECK(classOf("fc00::1") == "private");
  CHECK(classOf("fd12:3456::1") == "private");
  CHECK(classOf("fec0::1") == "private");
  CHECK(classOf("fe80::1") == "link-local");
  CHECK(classOf("febf::1") == "link-local");
  CHECK(classOf("ff02::1") == "multicast");
  CHECK(classOf("2001:db8::1") == "reserved");
  CHECK(classOf("100::1") == "reserved");
  CHECK(classOf("::10.0.0.1") == "reserved");  // IPv4-compatible, deprecated
  CHECK(classOf("2a00:1450:4001::1") == "global");
  // Mapped, NAT64 and 6to4 addresses reach the IPv4 address inside them.
  CHECK(classOf("::ffff:127.0.0.1") == "loopback");
  CHECK(classOf("::ffff:169.254.169.254") == "link-local");
  CHECK(classOf("::ffff:10.1.2.3") == "private");
  CHECK(classOf("::ffff:8.8.8.8") == "global");
  CHECK(classOf("64:ff9b::127.0.0.1") == "loopback");
  CHECK(classOf("64:ff9b::8.8.8.8") == "global");
  CHECK(classOf("2002:7f00:1::") == "loopback");
  CHECK(classOf("2002:0a00:0001::1") == "private");
  CHECK(classOf("2002:0808:0808::1") == "global");
}

TEST_CASE("IpAddress::within compares addresses by prefix, mapped forms as IPv4") {
  const auto a = *IpAddress::parse("10.1.2.3");
  CHECK(a.within(*IpAddress::parse("10.0.0.0"), 8));
  CHECK_FALSE(a.within(*IpAddress::parse("10.0.0.0"), 16));
  CHECK(a.within(*IpAddress::parse("10.1.2.0"), 23));
  CHECK(a.within(*IpAddress::parse("0.0.0.0"), 0));
  CHECK(a.within(a, 32));
  CHECK_FALSE(a.within(*IpAddress::parse("10.1.2.4"), 32));
  CHECK(IpAddress::parse("::ffff:127.0.0.1")->within(*IpAddress::parse("127.0.0.1"), 32));
  CHECK(IpAddress::parse("127.0.0.1")->within(*IpAddress::parse("::ffff:127.0.0.0"), 8));
  CHECK_FALSE(IpAddress::parse("::1")->within(*IpAddress::parse("127.0.0.1"), 32));
  CHECK(IpAddress::parse("fd00::5")->within(*IpAddress::parse("fd00::"), 8));
  CHECK_FALSE(IpAddress::parse("fe00::5")->within(*IpAddress::parse("fd00::"), 8));
  CHECK(IpAddress::parse("2001:db8::1")->within(*IpAddress::parse("2001:db8::"), 33));
}
