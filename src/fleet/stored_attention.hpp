#pragma once
// The names the stored attention column may hold: every Attention's (attention.hpp), and
// "expired", which is stored only, never derived — a partner lists the instance as deleted or
// expired. Pure functions.

#include <string>
#include <string_view>

namespace greenfleet::fleet {

inline constexpr std::string_view kExpiredAttentionName = "expired";

bool isStoredAttentionName(std::string_view name);
// "none, credentials_rejected, …, expired": for messages that list the accepted names.
std::string storedAttentionNames();

}  // namespace greenfleet::fleet
