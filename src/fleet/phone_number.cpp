#include "fleet/phone_number.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace greenfleet::fleet {

std::optional<std::string> validatePhoneNumber(std::string_view text) {
  if (text.empty()) return "phoneNumber is empty";
  if (text.front() == '+') {
    return "phoneNumber takes digits only: drop the leading '+' (441234567890, not +441234567890)";
  }
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return "phoneNumber takes digits only (no spaces, dashes or brackets)";
  }
  if (text.starts_with("00")) {
    return "phoneNumber takes the international number without the '00' prefix";
  }
  if (text.front() == '0') return "phoneNumber must start with the country code, not 0";
  if (text.size() < kMinPhoneDigits || text.size() > kMaxPhoneDigits) {
    return fmt::format("phoneNumber must have {} to {} digits, country code included; got {}",
                       kMinPhoneDigits, kMaxPhoneDigits, text.size());
  }
  return std::nullopt;
}

}  // namespace greenfleet::fleet
