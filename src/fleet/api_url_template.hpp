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
// shorter), without a trailing '/'. Whether the URL may be used is upstream.allowed_hosts'
// call (greenapi::UpstreamHostPolicy), made by the caller.
std::string expandApiUrlTemplate(std::string_view url_template, std::int64_t id);
// The sample id every expansion stands for: the placeholder only ever becomes 1-4 digits.
inline constexpr std::int64_t kApiUrlTemplateSampleId = 1101000001;
// An error message, or nullopt when no '{…}' but {first4} is left.
std::optional<std::string> validateApiUrlTemplate(std::string_view url_template);

}  // namespace greenfleet::fleet
