#pragma once
// UpstreamHostPolicy: where greenfleet may send requests, and the tokens in their paths — the
// parsed `upstream.allowed_hosts` list. Entries, comma-separated:
//   api.green-api.com   an exact host name
//   *.green-api.com     every subdomain of green-api.com (not green-api.com itself)
//   127.0.0.1, [::1]    an IP address (any form IpAddress reads)
//   10.0.0.0/8          a CIDR block (IPv4 or IPv6)
// The rules, checked at registration (checkUrl) and again for every request:
//   - the URL's host must match an entry: a name a name or wildcard entry, an IP literal an
//     address or block entry;
//   - plain http:// only for a loopback host (a loopback literal, or "localhost");
//   - after DNS (checkAddress), an address that is not global — loopback, private, link-local,
//     CGNAT, multicast, unspecified, broadcast, reserved — is refused unless an address or block
//     entry holds it (a name entry alone never lets a request reach an internal address), and an
//     http:// request connects only to loopback addresses.
// Immutable after construction; thread-safe.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "greenapi/ip_address.hpp"
#include "greenapi/upstream_url.hpp"

namespace greenfleet::greenapi {

class UpstreamHostPolicy {
 public:
  // Green API's own hosts: api./media.green-api.com, {NNNN}.api.green-api.com, and the same
  // under greenapi.com, which Green API's docs and consoles also hand out.
  static constexpr std::string_view kGreenApiHosts = "*.green-api.com, *.greenapi.com";

  UpstreamHostPolicy();  // kGreenApiHosts
  // The policy, or why an entry is not one ("entry 'x/99': prefix length must be 0-32").
  static base::Result<UpstreamHostPolicy, std::string> parse(std::string_view list);

  // nullopt when requests to `url` may start; else why not, naming the rule.
  std::optional<std::string> checkUrl(const UpstreamUrl& url) const;
  // An apiUrl as given → its normalised text when it parses and checkUrl passes, else why not
  // ("must be an http:// or https:// URL", "host x is not in upstream.allowed_hosts (…)").
  base::Result<std::string, std::string> admit(std::string_view api_url) const;
  // nullopt when a request to `url` may connect to `address`, which DNS gave for its host.
  std::optional<std::string> checkAddress(const UpstreamUrl& url, const IpAddress& address) const;
  // The entries as configured, for messages and logs.
  const std::string& text() const { return text_; }

 private:
  struct Unparsed {};
  explicit UpstreamHostPolicy(Unparsed) {}
  struct Entry {
    enum class Kind { name, wildcard, block } kind = Kind::name;
    std::string name;  // name: the host; wildcard: ".domain"
    std::optional<IpAddress> net;
    int prefix = 0;
  };
  static std::optional<std::string> parseEntry(std::string_view text, Entry& out);
  bool blockHolds(const IpAddress& address) const;

  std::vector<Entry> entries_;
  std::string text_;
};

}  // namespace greenfleet::greenapi
