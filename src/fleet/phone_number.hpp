#pragma once
// Phone numbers for Green API's getAuthorizationCode: international format as digits only, no
// '+' and no '00' prefix (green-api.md §5), 10 to 15 digits (E.164 allows at most 15; the lower
// bound catches a number typed without its country code). Pure.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace greenfleet::fleet {

inline constexpr std::size_t kMinPhoneDigits = 10;
inline constexpr std::size_t kMaxPhoneDigits = 15;

// Why `text` is not an acceptable number, or nullopt when it is.
std::optional<std::string> validatePhoneNumber(std::string_view text);

}  // namespace greenfleet::fleet
