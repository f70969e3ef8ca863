#include "fleet/registered_instance.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace greenfleet::fleet {

namespace {
bool hasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}
}  // namespace

std::optional<std::string> validateInstanceId(std::int64_t id) {
  if (id <= 0) return "must be a positive integer (idInstance)";
  return std::nullopt;
}

std::optional<std::string> validateToken(std::string_view token) {
  if (token.empty()) return "must not be empty";
  if (token.size() > kMaxTokenLength)
    return fmt::format("must be at most {} characters", kMaxTokenLength);
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
  if (tag.size() > kMaxTagLength)
    return fmt::format("tags must be at most {} bytes", kMaxTagLength);
  if (hasControl(tag)) return "tags must not contain control characters";
  return std::nullopt;
}

bool looksLikeGreenApiToken(std::string_view token) {
  return token.size() == 50 && std::all_of(token.begin(), token.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace greenfleet::fleet
