#include "fleet/attention.hpp"

#include <array>

namespace greenfleet::fleet {

namespace {

constexpr std::array<std::string_view, kAttentionCount> kNames{
    "credentials_rejected", "blocked",   "passkey_required",
    "needs_scan",           "suspended", "stuck_starting",
    "unreachable",          "stale",     "none",
};

}  // namespace

std::string_view attentionName(Attention a) { return kNames.at(static_cast<std::size_t>(a)); }

std::optional<Attention> parseAttention(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<Attention>(i);
  }
  return std::nullopt;
}

int severity(Attention a) { return static_cast<int>(kAttentionCount) - 1 - static_cast<int>(a); }

}  // namespace greenfleet::fleet
