#include "greenapi/upstream_host_policy.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "base/comma_list.hpp"

namespace greenfleet::greenapi {

namespace {

bool isLoopbackHost(const UpstreamUrl& url) {
  if (url.address) return url.address->classify() == AddressClass::loopback;
  return url.host == "localhost";
}

}  // namespace

UpstreamHostPolicy::UpstreamHostPolicy() : UpstreamHostPolicy(parse(kGreenApiHosts).value()) {}

std::optional<std::string> UpstreamHostPolicy::parseEntry(std::string_view text, Entry& out) {
  if (text.find("://") != std::string_view::npos) return "must be a host name, not a URL";
  if (text.starts_with("*.")) {
    // Validated like a host: "https://x<domain>" must parse to a name.
    const auto probe = UpstreamUrl::parse(fmt::format("https://x{}", text.substr(1)));
    if (!probe || probe->address || probe->port || !probe->path.empty() || probe->host.size() < 3 ||
        probe->host[1] != '.') {
      return "a wildcard must be '*.' followed by a domain name";
    }
    out.kind = Entry::Kind::wildcard;
    out.name = probe->host.substr(1);
    return std::nullopt;
  }
  const auto slash = text.find('/');
  std::string_view addr = text.substr(0, slash);
  if (addr.size() >= 2 && addr.front() == '[' && addr.back() == ']') {
    addr = addr.substr(1, addr.size() - 2);
  }
  if (const auto ip = IpAddress::parse(addr)) {
    const int bits = ip->isV4() ? 32 : 128;
    out.kind = Entry::Kind::block;
    out.prefix = bits;
    if (slash != std::string_view::npos) {
      const std::string_view len = text.substr(slash + 1);
      int v = -1;
      if (!len.empty() && len.size() <= 3 &&
          std::all_of(len.begin(), len.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        v = std::stoi(std::string(len));
      }
      if (v < 0 || v > bits) return fmt::format("prefix length must be 0-{}", bits);
      out.prefix = v;
    }
    out.net = *ip;
    return std::nullopt;
  }
  if (slash != std::string_view::npos) return "a block must be an IP address, '/', a prefix length";
  const auto probe = UpstreamUrl::parse(fmt::format("https://{}", text));
  if (!probe || probe->port || !probe->path.empty()) {
    return "must be a host name, '*.domain', an IP address or a CIDR block";
  }
  if (probe->address) {  // a numeric name like 0x7f.1: an address after all
    out.kind = Entry::Kind::block;
    out.net = probe->address;
    out.prefix = probe->address->isV4() ? 32 : 128;
    return std::nullopt;
  }
  out.kind = Entry::Kind::name;
  out.name = probe->host;
  return std::nullopt;
}

base::Result<UpstreamHostPolicy, std::string> UpstreamHostPolicy::parse(std::string_view list) {
  UpstreamHostPolicy policy(Unparsed{});
  for (const std::string_view item : base::splitCommaList(list, " \t")) {
    Entry entry;
    if (const auto problem = parseEntry(item, entry)) {
      return base::Unexpected<std::string>(fmt::format("entry '{}': {}", item, *problem));
    }
    policy.entries_.push_back(std::move(entry));
    if (!policy.text_.empty()) policy.text_ += ", ";
    policy.text_ += item;
  }
  if (policy.entries_.empty()) {
    return base::Unexpected<std::string>(std::string("names no host: nothing could be polled"));
  }
  return policy;
}

bool UpstreamHostPolicy::blockHolds(const IpAddress& address) const {
  return std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) {
    return e.kind == Entry::Kind::block && address.within(*e.net, e.prefix);
  });
}

std::optional<std::string> UpstreamHostPolicy::checkUrl(const UpstreamUrl& url) const {
  bool listed = false;
  if (url.address) {
    listed = blockHolds(*url.address);
  } else {
    listed = std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) {
      return (e.kind == Entry::Kind::name && url.host == e.name) ||
             (e.kind == Entry::Kind::wildcard && url.host.size() > e.name.size() &&
              url.host.ends_with(e.name));
    });
  }
  if (!listed) {
    std::string what = fmt::format("host {}", url.host);
    if (url.address) {
      const AddressClass cls = url.address->classify();
      what = cls == AddressClass::global
                 ? fmt::format("address {}", url.host)
                 : fmt::format("{} address {}", addressClassName(cls), url.host);
    }
    return fmt::format("{} is not in upstream.allowed_hosts ({})", what, text_);
  }
  if (!url.isHttps() && !isLoopbackHost(url)) {
    return fmt::format("must use https:// for host {}: plain http:// is only for loopback hosts",
                       url.host);
  }
  return std::nullopt;
}

base::Result<std::string, std::string> UpstreamHostPolicy::admit(std::string_view api_url) const {
  const auto url = UpstreamUrl::parse(api_url);
  if (!url) return base::Unexpected<std::string>(url.error());
  if (auto refusal = checkUrl(url.value())) return base::Unexpected<std::string>(*refusal);
  return url.value().toString();
}

std::optional<std::string> UpstreamHostPolicy::checkAddress(const UpstreamUrl& url,
                                                            const IpAddress& address) const {
  const AddressClass cls = address.classify();
  if (!url.isHttps() && cls != AddressClass::loopback) {
    return fmt::format("address {} refused: plain http:// connects only to loopback addresses",
                       address.toString());
  }
  if (cls == AddressClass::global || blockHolds(address)) return std::nullopt;
  return fmt::format("{} address {} refused by upstream.allowed_hosts", addressClassName(cls),
                     address.toString());
}

}  // namespace greenfleet::greenapi
