#include "api/utf8_text.hpp"

namespace greenfleet::api {

namespace {
// Length of the well-formed sequence at `at`, 0 when there is none (RFC 3629, table 3-7).
std::size_t sequenceLength(std::string_view s, std::size_t at) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[at + k]); };
  const auto continuation = [&](std::size_t k, unsigned char lo = 0x80, unsigned char hi = 0xbf) {
    return at + k < s.size() && byte(k) >= lo && byte(k) <= hi;
  };
  const unsigned char b = byte(0);
  if (b < 0x80) return 1;
  if (b >= 0xc2 && b <= 0xdf) return continuation(1) ? 2 : 0;
  if (b >= 0xe0 && b <= 0xef) {
    const unsigned char lo = b == 0xe0 ? 0xa0 : 0x80;  // no overlong forms
    const unsigned char hi = b == 0xed ? 0x9f : 0xbf;  // no surrogates
    return continuation(1, lo, hi) && continuation(2) ? 3 : 0;
  }
  if (b >= 0xf0 && b <= 0xf4) {
    const unsigned char lo = b == 0xf0 ? 0x90 : 0x80;
    const unsigned char hi = b == 0xf4 ? 0x8f : 0xbf;  // nothing beyond U+10FFFF
    return continuation(1, lo, hi) && continuation(2) && continuation(3) ? 4 : 0;
  }
  return 0;
}
}  // namespace

bool isValidUtf8(std::string_view text) {
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t n = sequenceLength(text, at);
    if (n == 0) return false;
    at += n;
  }
  return true;
}

std::string toValidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t n = sequenceLength(text, at);
    if (n == 0) {
      out += "\xef\xbf\xbd";
      ++at;
    } else {
      out.append(text.substr(at, n));
      at += n;
    }
  }
  return out;
}

}  // namespace greenfleet::api
