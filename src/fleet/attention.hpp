#pragma once
// Attention: the one thing an operator should know about an instance, most severe first
// (DESIGN §4). Names are the JSON/SQLite spelling and parse back. Derivation lives in
// attention_rules.hpp.

#include <cstdint>
#include <optional>
#include <string_view>

namespace greenfleet::fleet {

// Declared most severe first; severity() relies on this order.
enum class Attention : std::uint8_t {
  credentialsRejected,  // 401/403 beyond the grace period
  blocked,              // state blocked
  passkeyRequired,      // notAuthorized and the QR answer was passkeyRequired: no QR helps
  needsScan,            // notAuthorized, or the QR method answered qrCode
  suspended,            // suspended or yellowCard
  stuckStarting,        // starting/sleepMode (or initializing) for too long
  unreachable,          // N consecutive outages (transport, timeout, 5xx, garbage)
  stale,                // no answer within N x the state's interval
  none,
};

inline constexpr std::size_t kAttentionCount = 9;

// "credentials_rejected", "blocked", "needs_scan", ... "none".
std::string_view attentionName(Attention a);
std::optional<Attention> parseAttention(std::string_view name);
// Higher = more severe; none = 0.
int severity(Attention a);
inline bool isWorse(Attention a, Attention than) { return severity(a) > severity(than); }

}  // namespace greenfleet::fleet
