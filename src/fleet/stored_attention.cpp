#include "fleet/stored_attention.hpp"

#include "fleet/attention.hpp"

namespace greenfleet::fleet {

bool isStoredAttentionName(std::string_view name) {
  return name == kExpiredAttentionName || parseAttention(name).has_value();
}

std::string storedAttentionNames() {
  std::string out(attentionName(Attention::none));
  for (std::size_t a = 0; a < kAttentionCount; ++a) {
    const auto attention = static_cast<Attention>(a);
    if (attention == Attention::none) continue;
    out += ", ";
    out += attentionName(attention);
  }
  out += ", ";
  out += kExpiredAttentionName;
  return out;
}

}  // namespace greenfleet::fleet
