#include "greenapi/upstream_url.hpp"

#include <algorithm>

#include <Poco/String.h>
#include <fmt/format.h>

namespace greenfleet::greenapi {

namespace {

using Parsed = base::Result<UpstreamUrl, std::string>;

Parsed failure(std::string why) { return base::Unexpected<std::string>(std::move(why)); }

bool allOf(std::string_view s, bool (*pred)(char)) {
  return !s.empty() && std::all_of(s.begin(), s.end(), pred);
}
bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isHexDigit(char c) { return isDigit(c) || (c >= 'a' && c <= 'f'); }
bool isLabelChar(char c) { return isDigit(c) || (c >= 'a' && c <= 'z') || c == '-' || c == '_'; }

// A last label that a resolver or URL parser would read as a number makes the host an IPv4
// address or nothing ("1.2.3.4.5", "example.0x10"): never a name we could match.
bool numericLastLabel(std::string_view host) {
  const auto dot = host.rfind('.');
  const std::string_view last = dot == std::string_view::npos ? host : host.substr(dot + 1);
  if (allOf(last, isDigit)) return true;
  return last.size() >= 2 && last[0] == '0' && last[1] == 'x' &&
         (last.size() == 2 || allOf(last.substr(2), isHexDigit));
}

std::optional<std::string> checkHostName(std::string_view host) {
  if (host.size() > 253) return "must name a host of at most 253 characters";
  std::size_t start = 0;
  while (start <= host.size()) {
    auto end = host.find('.', start);
    if (end == std::string_view::npos) end = host.size();
    const std::string_view label = host.substr(start, end - start);
    if (label.empty() || label.size() > 63 || !allOf(label, isLabelChar)) {
      return "must name a valid host (letters, digits, '-' and '.')";
    }
    start = end + 1;
  }
  return std::nullopt;
}

std::optional<std::uint16_t> parsePort(std::string_view text) {
  if (text.empty() || text.size() > 5 || !allOf(text, isDigit)) return std::nullopt;
  unsigned v = 0;
  for (const char c : text) v = v * 10 + static_cast<unsigned>(c - '0');
  if (v == 0 || v > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

// Why text cannot be an apiUrl whatever its parts say, if it cannot.
std::optional<std::string> checkCharacters(std::string_view text) {
  if (text.size() > UpstreamUrl::kMaxLength)
    return fmt::format("must be at most {} characters", UpstreamUrl::kMaxLength);
  if (!std::all_of(text.begin(), text.end(),
                   [](unsigned char c) { return c >= 0x21 && c < 0x7f; })) {
    return "must not contain spaces or control characters";
  }
  return std::nullopt;
}

// Takes an authority ("host", "host:port", "[v6]:port") apart: sets url.address for an IPv6
// literal and url.port, and gives the host text, or why the authority is not acceptable.
base::Result<std::string_view, std::string> takeAuthority(std::string_view authority,
                                                          UpstreamUrl& url) {
  using Refused = base::Unexpected<std::string>;
  std::string_view host;
  std::optional<std::string_view> port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return Refused("has an unclosed '[' around its host");
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Refused("has text after its IPv6 address");
      port_text = after.substr(1);
    }
    if (host.find('%') != std::string_view::npos) return Refused("must not carry an IPv6 zone id");
    url.address = IpAddress::parseIpv6(host);
    if (!url.address) return Refused("has an invalid IPv6 address");
  } else {
    const auto colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (port_text) {
    url.port = parsePort(*port_text);
    if (!url.port) return Refused("has an invalid port (1-65535)");
  }
  return host;
}

// Sets url.host to the normalised host (and url.address for an IPv4 literal in any form), or
// says why the host is not acceptable.
std::optional<std::string> normaliseHost(std::string_view host, UpstreamUrl& url) {
  if (url.address) {
    url.host = url.address->toString();
    return std::nullopt;
  }
  url.host = Poco::toLower(std::string(host));
  if (!url.host.empty() && url.host.back() == '.') url.host.pop_back();
  if (url.host.empty()) return "must name a host";
  if (url.host.find('%') != std::string::npos) {
    return "must not contain percent-escapes in its host";
  }
  url.address = IpAddress::parseIpv4(url.host);
  if (url.address) {
    url.host = url.address->toString();
    return std::nullopt;
  }
  if (numericLastLabel(url.host)) return "has a numeric host that is not a valid IPv4 address";
  return checkHostName(url.host);
}

}  // namespace

Parsed UpstreamUrl::parse(std::string_view text) {
  if (const auto problem = checkCharacters(text)) return failure(*problem);
  UpstreamUrl url;
  const auto sep = text.find("://");
  if (sep != std::string_view::npos) url.scheme = Poco::toLower(std::string(text.substr(0, sep)));
  if (url.scheme != "http" && url.scheme != "https") {
    return failure("must be an http:// or https:// URL");
  }
  const std::string_view rest = text.substr(sep + 3);
  if (rest.find('\\') != std::string_view::npos) return failure("must not contain backslashes");
  const auto authority_end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, authority_end);
  const std::string_view tail =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (tail.find_first_of("?#") != std::string_view::npos) {
    return failure("must not have a query or fragment");
  }
  if (authority.find('@') != std::string_view::npos) {
    return failure("must not carry a user name or password");
  }
  const auto host = takeAuthority(authority, url);
  if (!host) return failure(host.error());
  if (const auto problem = normaliseHost(host.value(), url)) return failure(*problem);
  url.path = std::string(tail);
  while (!url.path.empty() && url.path.back() == '/') url.path.pop_back();
  return url;
}

std::string UpstreamUrl::toString() const {
  const bool v6 = address && !address->isV4();
  std::string out = scheme + "://" + (v6 ? "[" + host + "]" : host);
  if (port) out += fmt::format(":{}", *port);
  return out + path;
}

}  // namespace greenfleet::greenapi
