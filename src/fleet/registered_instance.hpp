#pragma once
// RegisteredInstance: one Green API instance as the registry knows it (what an operator gave us),
// plus the validation rules for its fields (apiUrl's are greenapi::UpstreamHostPolicy's). Value
// type.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.hpp"
#include "fleet/input_limits.hpp"

namespace greenfleet::fleet {

using base::WallTime;

inline constexpr std::string_view kDefaultApiUrl = "https://api.green-api.com";

struct RegisteredInstance {
  std::int64_t id = 0;  // idInstance
  std::string api_url{kDefaultApiUrl};
  std::string token;  // apiTokenInstance — write-only to the outside world
  std::string name;
  std::vector<std::string> tags;
  WallTime created_at{};
  WallTime updated_at{};
  bool enabled = true;
};

// Each returns an error message, or nullopt when the value is acceptable.
std::optional<std::string> validateInstanceId(std::int64_t id);
std::optional<std::string> validateToken(std::string_view token);
std::optional<std::string> validateName(std::string_view name);
std::optional<std::string> validateTag(std::string_view tag);
// Green API issues 50 lowercase hex characters today; other shapes are accepted with a warning
// because formats change.
bool looksLikeGreenApiToken(std::string_view token);

}  // namespace greenfleet::fleet
