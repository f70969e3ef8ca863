#include "greenapi/ip_address.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

namespace greenfleet::greenapi {

namespace {

constexpr std::uint64_t kMaxV4 = 0xffffffffULL;

int digitValue(char c, int base) {
  int d = -1;
  if (c >= '0' && c <= '9') d = c - '0';
  if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
  if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
  return d < base ? d : -1;
}

// a.b.c.d with four decimal parts of 1–3 digits: the only IPv4 form inet_pton takes inside IPv6.
std::optional<std::uint32_t> strictDottedQuad(std::string_view s) {
  std::uint32_t out = 0;
  int parts = 0;
  std::size_t i = 0;
  while (parts < 4) {
    std::uint32_t v = 0;
    std::size_t digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && digits < 3) {
      v = v * 10 + static_cast<std::uint32_t>(s[i] - '0');
      ++i;
      ++digits;
    }
    if (digits == 0 || v > 255) return std::nullopt;
    out = (out << 8) | v;
    if (++parts < 4) {
      if (i >= s.size() || s[i] != '.') return std::nullopt;
      ++i;
    }
  }
  if (i != s.size()) return std::nullopt;
  return out;
}

// Colon-separated hex groups; the last one may be a dotted quad when `v4_tail`.
bool parseGroups(std::string_view s, bool v4_tail, std::vector<std::uint16_t>& out) {
  if (s.empty()) return true;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = s.find(':', start);
    const std::string_view g =
        s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (end == std::string_view::npos && v4_tail && g.find('.') != std::string_view::npos) {
      const auto v4 = strictDottedQuad(g);
      if (!v4) return false;
      out.push_back(static_cast<std::uint16_t>(*v4 >> 16));
      out.push_back(static_cast<std::uint16_t>(*v4 & 0xffff));
      return true;
    }
    if (g.empty() || g.size() > 4) return false;
    std::uint16_t v = 0;
    for (const char c : g) {
      const int d = digitValue(c, 16);
      if (d < 0) return false;
      v = static_cast<std::uint16_t>(v * 16 + d);
    }
    out.push_back(v);
    if (end == std::string_view::npos) return true;
    start = end + 1;
  }
}

std::uint32_t v4Value(const IpAddress::Bytes& b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) |
         (std::uint32_t{b[at + 2]} << 8) | std::uint32_t{b[at + 3]};
}

bool inV4(std::uint32_t a, std::uint32_t net, int prefix) {
  const std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
  return (a & mask) == (net & mask);
}

AddressClass classifyV4(std::uint32_t a) {
  struct Block {
    std::uint32_t net;
    int prefix;
    AddressClass cls;
  };
  // RFC 6890's special-purpose registry, the blocks a request must not reach by accident.
  static constexpr Block kBlocks[] = {
      {0x00000000, 8, AddressClass::unspecified},
      {0x0a000000, 8, AddressClass::privateUse},
      {0x64400000, 10, AddressClass::sharedAddressSpace},
      {0x7f000000, 8, AddressClass::loopback},
      {0xa9fe0000, 16, AddressClass::linkLocal},
      {0xac100000, 12, AddressClass::privateUse},
      {0xc0000000, 24, AddressClass::reserved},  // IETF protocol assignments
      {0xc0000200, 24, AddressClass::reserved},  // TEST-NET-1
      {0xc0586300, 24, AddressClass::reserved},  // 6to4 relay anycast
      {0xc0a80000, 16, AddressClass::privateUse},
      {0xc6120000, 15, AddressClass::reserved},  // benchmarking
      {0xc6336400, 24, AddressClass::reserved},  // TEST-NET-2
      {0xcb007100, 24, AddressClass::reserved},  // TEST-NET-3
      {0xe0000000, 4, AddressClass::multicast},
      {0xffffffff, 32, AddressClass::broadcast},  // before 240/4, which holds it
      {0xf0000000, 4, AddressClass::reserved},
  };
  for (const auto& b : kBlocks) {
    if (inV4(a, b.net, b.prefix)) return b.cls;
  }
  return AddressClass::global;
}

AddressClass classifyV6(const IpAddress::Bytes& b) {
  bool zero96 = true;
  for (std::size_t i = 0; i < 12; ++i) zero96 = zero96 && b[i] == 0;
  if (zero96) {
    const std::uint32_t low = v4Value(b, 12);
    if (low == 0) return AddressClass::unspecified;
    if (low == 1) return AddressClass::loopback;
    return AddressClass::reserved;  // IPv4-compatible, deprecated
  }
  if (b[0] == 0x01 && b[1] == 0x00 && b[2] == 0 && b[3] == 0 && b[4] == 0 && b[5] == 0 &&
      b[6] == 0 && b[7] == 0) {
    return AddressClass::reserved;  // 100::/64 discard
  }
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) {
    return AddressClass::reserved;  // 2001:db8::/32 documentation
  }
  if ((b[0] & 0xfe) == 0xfc) return AddressClass::privateUse;                  // fc00::/7
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return AddressClass::linkLocal;   // fe80::/10
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return AddressClass::privateUse;  // fec0::/10
  if (b[0] == 0xff) return AddressClass::multicast;
  return AddressClass::global;
}

}  // namespace

std::string_view addressClassName(AddressClass c) {
  switch (c) {
    case AddressClass::global:
      return "global";
    case AddressClass::loopback:
      return "loopback";
    case AddressClass::privateUse:
      return "private";
    case AddressClass::linkLocal:
      return "link-local";
    case AddressClass::sharedAddressSpace:
      return "shared (CGNAT)";
    case AddressClass::multicast:
      return "multicast";
    case AddressClass::unspecified:
      return "unspecified";
    case AddressClass::broadcast:
      return "broadcast";
    case AddressClass::reserved:
      return "reserved";
  }
  return "reserved";
}

IpAddress IpAddress::v4(std::uint32_t value) {
  IpAddress a;
  a.v4_ = true;
  a.bytes_[0] = static_cast<std::uint8_t>(value >> 24);
  a.bytes_[1] = static_cast<std::uint8_t>(value >> 16);
  a.bytes_[2] = static_cast<std::uint8_t>(value >> 8);
  a.bytes_[3] = static_cast<std::uint8_t>(value);
  return a;
}

IpAddress IpAddress::v6(const Bytes& bytes) {
  IpAddress a;
  a.v4_ = false;
  a.bytes_ = bytes;
  return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.find(':') != std::string_view::npos) return parseIpv6(text);
  return parseIpv4(text);
}

std::optional<IpAddress> IpAddress::parseIpv4(std::string_view text) {
  // inet_aton(3): up to four parts, each decimal, octal (leading 0) or hex (0x); the last part
  // fills all remaining bytes, so "127.1" is 127.0.0.1 and "2130706433" is too.
  std::array<std::uint64_t, 4> parts{};
  std::size_t n = 0;
  std::size_t i = 0;
  while (true) {
    if (n == parts.size() || i >= text.size() || text[i] < '0' || text[i] > '9') {
      return std::nullopt;
    }
    int base = 10;
    if (text[i] == '0') {
      base = 8;
      ++i;
      if (i < text.size() && (text[i] == 'x' || text[i] == 'X')) {
        base = 16;
        ++i;
      }
    }
    std::uint64_t v = 0;
    for (; i < text.size() && text[i] != '.'; ++i) {
      const int d = digitValue(text[i], base);
      if (d < 0) return std::nullopt;
      v = v * static_cast<std::uint64_t>(base) + static_cast<std::uint64_t>(d);
      if (v > kMaxV4) return std::nullopt;
    }
    parts.at(n++) = v;
    if (i == text.size()) break;
    ++i;  // the '.'
  }
  std::uint64_t value = parts[n - 1];
  const std::uint64_t last_max = kMaxV4 >> (8 * (n - 1));
  if (value > last_max) return std::nullopt;
  for (std::size_t k = 0; k + 1 < n; ++k) {
    if (parts.at(k) > 255) return std::nullopt;
    value |= parts.at(k) << (24 - 8 * k);
  }
  return v4(static_cast<std::uint32_t>(value));
}

std::optional<IpAddress> IpAddress::parseIpv6(std::string_view text) {
  if (text.size() < 2 || text.size() > 45) return std::nullopt;
  std::vector<std::uint16_t> head, tail;
  const auto gap = text.find("::");
  if (gap != std::string_view::npos) {
    if (text.find("::", gap + 1) != std::string_view::npos) return std::nullopt;
    if (!parseGroups(text.substr(0, gap), false, head) ||
        !parseGroups(text.substr(gap + 2), true, tail) || head.size() + tail.size() > 7) {
      return std::nullopt;
    }
  } else if (!parseGroups(text, true, head) || head.size() != 8) {
    return std::nullopt;
  }
  std::array<std::uint16_t, 8> groups{};
  for (std::size_t k = 0; k < head.size(); ++k) groups.at(k) = head[k];
  for (std::size_t k = 0; k < tail.size(); ++k) groups.at(8 - tail.size() + k) = tail[k];
  Bytes bytes{};
  for (std::size_t k = 0; k < 8; ++k) {
    bytes.at(2 * k) = static_cast<std::uint8_t>(groups.at(k) >> 8);
    bytes.at(2 * k + 1) = static_cast<std::uint8_t>(groups.at(k) & 0xff);
  }
  return v6(bytes);
}

IpAddress IpAddress::embedded() const {
  if (v4_) return *this;
  const auto& b = bytes_;
  bool zero80 = true;
  for (std::size_t i = 0; i < 10; ++i) zero80 = zero80 && b[i] == 0;
  if (zero80 && b[10] == 0xff && b[11] == 0xff) return v4(v4Value(b, 12));  // ::ffff:a.b.c.d
  bool nat64 = b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b;
  for (std::size_t i = 4; i < 12; ++i) nat64 = nat64 && b[i] == 0;
  if (nat64) return v4(v4Value(b, 12));                        // 64:ff9b::/96
  if (b[0] == 0x20 && b[1] == 0x02) return v4(v4Value(b, 2));  // 2002:aabb:ccdd::/48 (6to4)
  return *this;
}

AddressClass IpAddress::classify() const {
  const IpAddress e = embedded();
  return e.v4_ ? classifyV4(v4Value(e.bytes_, 0)) : classifyV6(e.bytes_);
}

bool IpAddress::within(const IpAddress& net, int prefix_len) const {
  const IpAddress a = embedded();
  const IpAddress b = net.embedded();
  if (a.v4_ != b.v4_) return false;
  const int bits = std::clamp(prefix_len, 0, a.v4_ ? 32 : 128);
  const auto whole = static_cast<std::size_t>(bits / 8);
  for (std::size_t i = 0; i < whole; ++i) {
    if (a.bytes_.at(i) != b.bytes_.at(i)) return false;
  }
  if (bits % 8 == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - bits % 8));
  return (a.bytes_.at(whole) & mask) == (b.bytes_.at(whole) & mask);
}

std::string IpAddress::toString() const {
  const auto& b = bytes_;
  if (v4_) return fmt::format("{}.{}.{}.{}", b[0], b[1], b[2], b[3]);
  bool zero80 = true;
  for (std::size_t i = 0; i < 10; ++i) zero80 = zero80 && b[i] == 0;
  if (zero80 && b[10] == 0xff && b[11] == 0xff) {
    return fmt::format("::ffff:{}.{}.{}.{}", b[12], b[13], b[14], b[15]);
  }
  std::array<unsigned, 8> g{};
  for (std::size_t k = 0; k < 8; ++k) g.at(k) = (unsigned{b.at(2 * k)} << 8) | b.at(2 * k + 1);
  // RFC 5952: the longest run of two or more zero groups (the first on a tie) becomes "::".
  std::size_t best = 8, best_len = 1;
  for (std::size_t k = 0; k < 8;) {
    if (g.at(k) != 0) {
      ++k;
      continue;
    }
    std::size_t end = k;
    while (end < 8 && g.at(end) == 0) ++end;
    if (end - k > best_len) {
      best = k;
      best_len = end - k;
    }
    k = end;
  }
  std::string out;
  for (std::size_t k = 0; k < 8; ++k) {
    if (k == best) {
      out += "::";
      k += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    out += fmt::format("{:x}", g.at(k));
  }
  return out;
}

}  // namespace greenfleet::greenapi
