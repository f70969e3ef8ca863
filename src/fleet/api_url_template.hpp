#pragma once
// ApiUrlTemplate: where a partner's instances are reached. Green API's getInstances lists no
// apiUrl; hosts are named after the first four digits of the id (https://1101.api.green-api.com),
// so a partner account carries a template with an optional "{first4}" placeholder, or a fixed
// URL. Pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace greenfleet::fleet {

inline constexpr std::string_view kDefaultApiUrlTemplate = "https://{first4}.api.green-api.com";
inline constexpr std::string_view kFirst4Placeholder = "{first4}";

// The template with "{first4}" replaced by the first four digits of `id` (all of them when
// shorter), normalized (no trailing '/').
std::string expandApiUrlTemplate(std::string_view url_template, std::int64_t id);
// An error message, or nullopt when every expansion is an acceptable apiUrl (validateApiUrl)
// and no other '{…}' placeholder is left.
std::optional<std::string> validateApiUrlTemplate(std::string_view url_template);

}  // namespace greenfleet::fleet
