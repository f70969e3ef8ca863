#include <doctest/doctest.h>

#include "greenapi/upstream_host_policy.hpp"

using namespace greenfleet::greenapi;

namespace {
UpstreamHostPolicy policyOf(std::string_view list) {
  auto p = UpstreamHostPolicy::parse(list);
  REQUIRE_MESSAGE(p.has_value(), p.error());
  return p.value();
}
// "ok" or the refusal of a request to `url` at registration.
std::string urlVerdict(const UpstreamHostPolicy& p, std::string_view url) {
  const auto u = UpstreamUrl::parse(url);
  REQUIRE_MESSAGE(u.has_value(), u.error());
  return p.checkUrl(u.value()).value_or("ok");
}
// "ok" or the refusal of a connection from a request to `url` to `address`.
std::string addressVerdict(const UpstreamHostPolicy& p, std::string_view url,
                           std::string_view address) {
  const auto u = UpstreamUrl::parse(url);
  REQUIRE(u.has_value());
  const auto a = IpAddress::parse(address);
  REQUIRE(a.has_value());
  return p.checkAddress(u.value(), *a).value_or("ok");
}
}  // namespace

TEST_CASE("the default policy allows Green API's hosts over https and nothing else") {
  const UpstreamHostPolicy p;
  CHECK(p.text() == "*.green-api.com, *.greenapi.com");
  for (const char* url :
       {"https://api.green-api.com", "https://7103.api.green-api.com",
        "https://media.green-api.com", "https://API.GREEN-API.COM/", "https://api.greenapi.com",
        "https://7105.api.greenapi.com", "https://api.green-api.com.:443"}) {
    CHECK_MESSAGE(urlVerdict(p, url) == "ok", url);
  }
  CHECK(urlVerdict(p, "https://green-api.com") ==
        "host green-api.com is not in upstream.allowed_hosts (*.green-api.com, *.greenapi.com)");
  CHECK(urlVerdict(p, "https://evilgreen-api.com").starts_with("host evilgreen-api.com is not in"));
  CHECK(urlVerdict(p, "https://api.green-api.com.evil.io").starts_with("host api.green-api.com"));
  CHECK(urlVerdict(p, "https://localhost").starts_with("host localhost is not in"));
  CHECK(urlVerdict(p, "http://api.green-api.com") ==
        "must use https:// for host api.green-api.com: plain http:// is only for loopback hosts");
  CHECK(urlVerdict(p, "https://127.0.0.1")
            .starts_with("loopback address 127.0.0.1 is not in upstream.allowed_hosts"));
  CHECK(urlVerdict(p, "https://2130706433").starts_with("loopback address 127.0.0.1"));
  CHECK(urlVerdict(p, "https://0x7f.1").starts_with("loopback address 127.0.0.1"));
  CHECK(urlVerdict(p, "https://[::1]").starts_with("loopback address ::1"));
  CHECK(urlVerdict(p, "https://[::ffff:127.0.0.1]").starts_with("loopback address"));
  CHECK(urlVerdict(p, "https://0.0.0.0").starts_with("unspecified address 0.0.0.0"));
  CHECK(urlVerdict(p, "https://169.254.169.254").starts_with("link-local address 169.254.169.254"));
  CHECK(urlVerdict(p, "https://10.0.0.5").starts_with("private address 10.0.0.5"));
  CHECK(urlVerdict(p, "https://100.64.1.1").starts_with("shared (CGNAT) address 100.64.1.1"));
  CHECK(urlVerdict(p, "https://8.8.8.8").starts_with("address 8.8.8.8 is not in"));
}

TEST_CASE("UpstreamHostPolicy reads names, wildcards, addresses and CIDR blocks") {
  const auto p = policyOf(
      " api.example.org ,*.Example.NET, 10.0.0.0/8, [fd00::]/8, 192.0.2.7,"
      " ::1, 0x7f.1 ,");
  CHECK(p.text() ==
        "api.example.org, *.Example.NET, 10.0.0.0/8, [fd00::]/8, 192.0.2.7, ::1, "
        "0x7f.1");
  CHECK(urlVerdict(p, "https://api.example.org") == "ok");
  CHECK(urlVerdict(p, "https://API.example.org.") == "ok");
  CHECK(urlVerdict(p, "https://x.api.example.org").starts_with("host x.api.example.org is not"));
  CHECK(urlVerdict(p, "https://a.b.example.net") == "ok");
  CHECK(urlVerdict(p, "https://example.net").starts_with("host example.net is not"));
  CHECK(urlVerdict(p, "https://10.200.0.1") == "ok");
  CHECK(urlVerdict(p, "https://167772161") == "ok");  // 10.0.0.1
  CHECK(urlVerdict(p, "https://11.0.0.1").starts_with("address 11.0.0.1 is not"));
  CHECK(urlVerdict(p, "https://[fd12::1]") == "ok");
  CHECK(urlVerdict(p, "https://192.0.2.7") == "ok");
  CHECK(urlVerdict(p, "https://192.0.2.8").starts_with("reserved address 192.0.2.8 is not"));
  CHECK(urlVerdict(p, "http://[::1]:9090") == "ok");
  CHECK(urlVerdict(p, "http://127.0.0.1:9090") == "ok");  // listed as 0x7f.1
  CHECK(urlVerdict(p, "http://10.0.0.1").starts_with("must use https:// for host 10.0.0.1"));
  // A name entry never lets an address literal through, and the other way round.
  CHECK(urlVerdict(policyOf("localhost"), "http://127.0.0.1").starts_with("loopback address"));
  CHECK(urlVerdict(policyOf("127.0.0.1"), "http://localhost").starts_with("host localhost"));
}

TEST_CASE("UpstreamHostPolicy::parse names the entry it cannot read") {
  const auto error = [](std::string_view list) {
    const auto p = UpstreamHostPolicy::parse(list);
    return p ? std::string("parsed") : p.error();
  };
  CHECK(error("") == "names no host: nothing could be polled");
  CHECK(error(" , ,") == "names no host: nothing could be polled");
  CHECK(error("10.0.0.0/33") == "entry '10.0.0.0/33': prefix length must be 0-32");
  CHECK(error("fd00::/129") == "entry 'fd00::/129': prefix length must be 0-128");
  CHECK(error("10.0.0.0/") == "entry '10.0.0.0/': prefix length must be 0-32");
  CHECK(error("10.0.0.0/x") == "entry '10.0.0.0/x': prefix length must be 0-32");
  CHECK(error("host/8") == "entry 'host/8': a block must be an IP address, '/', a prefix length");
  CHECK(error("*") == "entry '*': must be a host name, '*.domain', an IP address or a CIDR block");
  CHECK(error("*.") == "entry '*.': a wildcard must be '*.' followed by a domain name");
  CHECK(error("*.1.2.3") == "entry '*.1.2.3': a wildcard must be '*.' followed by a domain name");
  CHECK(error("a.*.com") ==
        "entry 'a.*.com': must be a host name, '*.domain', an IP address or a CIDR block");
  CHECK(error("api.green-api.com:443") ==
        "entry 'api.green-api.com:443': must be a host name, '*.domain', an IP address or a "
        "CIDR block");
  CHECK(error("https://api.green-api.com") ==
        "entry 'https://api.green-api.com': must be a host name, not a URL");
}

TEST_CASE("after DNS, only global addresses or listed ones may be connected to") {
  const UpstreamHostPolicy green;
  const std::string_view url = "https://7103.api.green-api.com";
  CHECK(addressVerdict(green, url, "185.104.112.10") == "ok");
  CHECK(addressVerdict(green, url, "2a00:1450:4001::1") == "ok");
  // A Green API name that resolves inward (a poisoned or rebinding resolver) is refused.
  CHECK(addressVerdict(green, url, "127.0.0.1") ==
        "loopback address 127.0.0.1 refused by upstream.allowed_hosts");
  CHECK(addressVerdict(green, url, "::1") ==
        "loopback address ::1 refused by upstream.allowed_hosts");
  CHECK(addressVerdict(green, url, "::ffff:127.0.0.1") ==
        "loopback address ::ffff:127.0.0.1 refused by upstream.allowed_hosts");
  CHECK(addressVerdict(green, url, "10.0.0.5") ==
        "private address 10.0.0.5 refused by upstream.allowed_hosts");
  CHECK(addressVerdict(green, url, "169.254.169.254") ==
        "link-local address 169.254.169.254 refused by upstream.allowed_hosts");
  CHECK(addressVerdict(green, url, "fe80::1") ==
        "link-local address fe80::1 refused by upstream.allowed_hosts");
  CHECK(addressVerdict(green, url, "fd00::1") ==
        "private address fd00::1 refused by upstream.allowed_hosts");
  CHECK(addressVerdict(green, url, "100.64.0.1") ==
        "shared (CGNAT) address 100.64.0.1 refused by upstream.allowed_hosts");
  CHECK(addressVerdict(green, url, "224.0.0.1") ==
        "multicast address 224.0.0.1 refused by upstream.allowed_hosts");
  CHECK(addressVerdict(green, url, "0.0.0.0") ==
        "unspecified address 0.0.0.0 refused by upstream.allowed_hosts");
  CHECK(addressVerdict(green, url, "::") ==
        "unspecified address :: refused by upstream.allowed_hosts");
  CHECK(addressVerdict(green, url, "255.255.255.255") ==
        "broadcast address 255.255.255.255 refused by upstream.allowed_hosts");
  CHECK(addressVerdict(green, url, "64:ff9b::a9fe:a9fe") ==
        "link-local address 64:ff9b::a9fe:a9fe refused by upstream.allowed_hosts");

  // localhost allowed by name only: its loopback address still needs an address entry.
  const auto by_name = policyOf("localhost");
  CHECK(addressVerdict(by_name, "http://localhost:9", "127.0.0.1") ==
        "loopback address 127.0.0.1 refused by upstream.allowed_hosts");
  const auto loopback = policyOf("127.0.0.0/8, localhost, [::1]");
  CHECK(addressVerdict(loopback, "http://localhost:9", "127.0.0.1") == "ok");
  CHECK(addressVerdict(loopback, "http://localhost:9", "127.0.0.2") == "ok");
  CHECK(addressVerdict(loopback, "http://localhost:9", "::1") == "ok");
  CHECK(addressVerdict(loopback, "http://localhost:9", "::ffff:127.0.0.1") == "ok");
  // Plain http:// never leaves loopback, even to an address the list allows.
  const auto internal = policyOf("greenapi.internal, 10.0.0.0/8");
  CHECK(addressVerdict(internal, "https://greenapi.internal", "10.1.2.3") == "ok");
  CHECK(addressVerdict(internal, "https://greenapi.internal", "192.168.1.1") ==
        "private address 192.168.1.1 refused by upstream.allowed_hosts");
  CHECK(addressVerdict(internal, "http://greenapi.internal", "10.1.2.3") ==
        "address 10.1.2.3 refused: plain http:// connects only to loopback addresses");
  CHECK(addressVerdict(internal, "http://greenapi.internal", "8.8.8.8") ==
        "address 8.8.8.8 refused: plain http:// connects only to loopback addresses");
}
