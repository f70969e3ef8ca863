#pragma once
// PartnerSyncPacer: when each partner account's getInstances may be called. A periodic sync
// every sync_interval (jittered), never two calls of one account closer than min_interval
// (periodic or on demand), and after a failure an exponential backoff with full jitter (the
// partner's answer is one account-wide resource). Value type; every method takes `now` and the
// caller's Rng, so tests drive it with plain time points. Not thread-safe.

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "base/clock.hpp"
#include "base/random.hpp"
#include "scheduler/backoff.hpp"

namespace greenfleet::scheduler {

struct PartnerSyncPacing {
  base::Duration sync_interval = std::chrono::minutes(15);
  base::Duration min_interval = std::chrono::minutes(1);
  double jitter = 0.1;  // ± fraction of sync_interval
};

class PartnerSyncPacer {
 public:
  explicit PartnerSyncPacer(PartnerSyncPacing pacing);

  // A new account is synced at once (a restart: once min_interval allows, see add's caller).
  void add(std::int64_t id, SteadyTime first_due);
  void remove(std::int64_t id);
  // A changed account (new token, URL): the backoff of the old settings no longer applies.
  void resetBackoff(std::int64_t id);

  // How long before `id` may be called (zero: now). Unknown ids may be called at once.
  base::Duration waitBeforeCall(std::int64_t id, SteadyTime now) const;
  // A call starts now (periodic or on demand): the next one waits min_interval at least.
  void callStarted(std::int64_t id, SteadyTime now);
  // Its outcome: the next periodic sync is one jittered interval away, or backs off.
  void succeeded(std::int64_t id, SteadyTime now, base::Rng& rng);
  void failed(std::int64_t id, SteadyTime now, base::Rng& rng);

  // Accounts whose periodic sync is due (and allowed) at `now`.
  std::vector<std::int64_t> due(SteadyTime now) const;
  // The earliest time one becomes due; nullopt without accounts.
  std::optional<SteadyTime> nextDue() const;
  std::uint32_t failures(std::int64_t id) const;

 private:
  struct Account {
    SteadyTime due{};
    std::optional<SteadyTime> last_call;
    Backoff backoff;
  };
  SteadyTime earliestCall(const Account& a) const;
  PartnerSyncPacing pacing_;
  std::unordered_map<std::int64_t, Account> accounts_;
};

}  // namespace greenfleet::scheduler
