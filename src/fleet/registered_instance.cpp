#include "fleet/registered_instance.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace greenfleet::fleet {

namespace {
bool isPrintableAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= 0x21 && c < 0x7f; });
}
bool hasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}
}  // namespace

std::optional<std::string> validateInstanceId(std::int64_t id) {
  if (id <= 0) return "must be a positive integer (idInstance)";
  return std::nullopt;
}

std::optional<std::string> validateApiUrl(std::string_view url) {
  if (url.size() > kMaxApiUrlLength) return fmt::format("must be at most {} characters", kMaxApiUrlLength);
  std::string_view rest;
  if (url.rfind("https://", 0) == 0) {
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return "must be an http:// or https:// URL";
  }
  if (!isPrintableAscii(url)) return "must not contain spaces or control characters";
  const auto host_end = rest.find_first_of("/?#");
  const std::string_view host = rest.substr(0, host_end);
  if (host.empty() || host.front() == ':' || host.find('@') != std::string_view::npos) {
    return "must name a host";
  }
  if (host_end != std::string_view::npos) {
    const std::string_view tail = rest.substr(host_end);
    if (tail.find_first_of("?#") != std::string_view::npos) return "must not have a query or fragment";
  }
  return std::nullopt;
}

std::optional<std::string> validateToken(std::string_view token) {
  if (token.empty()) return "must not be empty";
  if (token.size() > kMaxTokenLength) return fmt::format("must be at most {} characters", kMaxTokenLength);
  // The token goes into a URL path segment.
  for (const unsigned char c : token) {
    if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.')) {
      return "may hold only letters, digits, '-', '_' and '.'";
    }
  }
  return std::nullopt;
}

std::optional<std::string> validateName(std::string_view name) {
  if (name.size() > kMaxNameLength) return fmt::format("must be at most {} bytes", kMaxNameLength);
  if (hasControl(name)) return "must not contain control characters";
  return std::nullopt;
}

std::optional<std::string> validateTag(std::string_view tag) {
  if (tag.empty()) return "tags must not be empty strings";
  if (tag.size() > kMaxTagLength) return fmt::format("tags must be at most {} bytes", kMaxTagLength);
  if (hasControl(tag)) return "tags must not contain control characters";
  return std::nullopt;
}

bool looksLikeGreenApiToken(std::string_view token) {
  return token.size() == 50 && std::all_of(token.begin(), token.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string normalizeApiUrl(std::string_view url) {
  std::string out(url);
  while (out.size() > 8 && out.back() == '/') out.pop_back();
  return out;
}

}  // namespace greenfleet::fleet
