#include <doctest/doctest.h>

#include "greenapi/upstream_url.hpp"

using namespace greenfleet::greenapi;

namespace {
std::string normalised(std::string_view text) {
  const auto u = UpstreamUrl::parse(text);
  return u ? u->toString() : "error: " + u.error();
}
}  // namespace

TEST_CASE("UpstreamUrl normalises scheme, host case, trailing dots and slashes") {
  CHECK(normalised("https://api.green-api.com") == "https://api.green-api.com");
  CHECK(normalised("HTTPS://API.Green-API.com/") == "https://api.green-api.com");
  CHECK(normalised("https://7103.api.greenapi.com///") == "https://7103.api.greenapi.com");
  CHECK(normalised("https://api.green-api.com./v1/") == "https://api.green-api.com/v1");
  CHECK(normalised("https://api.green-api.com:443") == "https://api.green-api.com:443");
  CHECK(normalised("http://localhost:9090") == "http://localhost:9090");
  const auto u = UpstreamUrl::parse("https://Media.Green-Api.com:8443/base");
  REQUIRE(u);
  CHECK(u->scheme == "https");
  CHECK(u->host == "media.green-api.com");
  CHECK(u->port == 8443);
  CHECK(u->path == "/base");
  CHECK_FALSE(u->address.has_value());
  CHECK(u->isHttps());
}

TEST_CASE("UpstreamUrl rewrites an IP literal in any form to its canonical address") {
  CHECK(normalised("http://2130706433:9") == "http://127.0.0.1:9");
  CHECK(normalised("http://0x7f.1") == "http://127.0.0.1");
  CHECK(normalised("http://0177.0.0.1") == "http://127.0.0.1");
  CHECK(normalised("http://127.1/") == "http://127.0.0.1");
  CHECK(normalised("http://127.0.0.1.:80") == "http://127.0.0.1:80");
  CHECK(normalised("http://[::1]:9090") == "http://[::1]:9090");
  CHECK(normalised("http://[0:0:0:0:0:0:0:1]") == "http://[::1]");
  CHECK(normalised("http://[::FFFF:7F00:1]") == "http://[::ffff:127.0.0.1]");
  const auto u = UpstreamUrl::parse("http://0x7f.1:8080");
  REQUIRE(u);
  REQUIRE(u->address.has_value());
  CHECK(u->address->classify() == AddressClass::loopback);
}

TEST_CASE("UpstreamUrl refuses URLs that are not plain http(s) hosts") {
  const auto why = [](std::string_view text) {
    const auto u = UpstreamUrl::parse(text);
    return u ? std::string("accepted") : u.error();
  };
  CHECK(why("ftp://api.green-api.com") == "must be an http:// or https:// URL");
  CHECK(why("file:///etc/passwd") == "must be an http:// or https:// URL");
  CHECK(why("gopher://127.0.0.1:25/") == "must be an http:// or https:// URL");
  CHECK(why("api.green-api.com") == "must be an http:// or https:// URL");
  CHECK(why("https:/api.green-api.com") == "must be an http:// or https:// URL");
  CHECK(why("https://") == "must name a host");
  CHECK(why("https://:443") == "must name a host");
  CHECK(why("https:///path") == "must name a host");
  CHECK(why("https://user:pw@api.green-api.com") == "must not carry a user name or password");
  CHECK(why("https://api.green-api.com@10.0.0.5") == "must not carry a user name or password");
  CHECK(why("https://api.green-api.com/?x=1") == "must not have a query or fragment");
  CHECK(why("https://api.green-api.com#frag") == "must not have a query or fragment");
  CHECK(why("https://api.green-api.com\\@evil") == "must not contain backslashes");
  CHECK(why("https://api.green-api.com /") == "must not contain spaces or control characters");
  CHECK(why("https://api.green-api.com\n") == "must not contain spaces or control characters");
  CHECK(why("https://api.gr\xc3\xa9\x65n-api.com") ==
        "must not contain spaces or control characters");
  CHECK(why("https://api.green-api.com:0") == "has an invalid port (1-65535)");
  CHECK(why("https://api.green-api.com:65536") == "has an invalid port (1-65535)");
  CHECK(why("https://api.green-api.com:") == "has an invalid port (1-65535)");
  CHECK(why("https://api.green-api.com:+443") == "has an invalid port (1-65535)");
  CHECK(why("https://api.green-api.com:80:80") == "has an invalid port (1-65535)");
  CHECK(why("http://[::1") == "has an unclosed '[' around its host");
  CHECK(why("http://[::1]x") == "has text after its IPv6 address");
  CHECK(why("http://[fe80::1%25eth0]") == "must not carry an IPv6 zone id");
  CHECK(why("http://[127.0.0.1]") == "has an invalid IPv6 address");
  CHECK(why("http://%31%32%37.0.0.1") == "must not contain percent-escapes in its host");
  CHECK(why("http://1.2.3.4.5") == "has a numeric host that is not a valid IPv4 address");
  CHECK(why("http://256.0.0.1") == "has a numeric host that is not a valid IPv4 address");
  CHECK(why("http://example.0x10") == "has a numeric host that is not a valid IPv4 address");
  CHECK(why("http://a..b") == "must name a valid host (letters, digits, '-' and '.')");
  CHECK(why("http://a!b.com") == "must name a valid host (letters, digits, '-' and '.')");
  CHECK(why("https://" + std::string(2100, 'a')) == "must be at most 2048 characters");
}
