#pragma once
// UpstreamUrl: an apiUrl taken apart and normalised, so that the host a request goes to is the
// host the policy (greenapi::UpstreamHostPolicy) judged. Scheme http or https, lowercased; host
// lowercased with one trailing dot dropped; an IP literal in any form libc or libcurl would take
// ("2130706433", "0x7f.1", "[::ffff:127.0.0.1]") rewritten to its canonical text; optional port;
// path without trailing '/'. Refused: user info, query, fragment, backslashes, percent-escapes
// and IPv6 zone ids in the host, ports outside 1..65535, numeric hosts that are not addresses,
// anything but printable ASCII. Pure value type.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "greenapi/ip_address.hpp"

namespace greenfleet::greenapi {

struct UpstreamUrl {
  static constexpr std::size_t kMaxLength = 2048;

  std::string scheme;                 // "http" | "https"
  std::string host;                   // normalised; an IPv6 literal without brackets
  std::optional<IpAddress> address;   // set when the host is an IP literal
  std::optional<std::uint16_t> port;  // as given; none = the scheme's default
  std::string path;                   // "" or "/…", never ending in '/'

  // The URL, or why it is not an acceptable apiUrl ("must be an http:// or https:// URL").
  static base::Result<UpstreamUrl, std::string> parse(std::string_view text);

  bool isHttps() const { return scheme == "https"; }
  // The normalised URL: "https://7103.api.green-api.com", "http://[::1]:9090/base".
  std::string toString() const;
};

}  // namespace greenfleet::greenapi
