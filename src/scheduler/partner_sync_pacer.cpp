#include "scheduler/partner_sync_pacer.hpp"

#include <algorithm>

namespace greenfleet::scheduler {

PartnerSyncPacer::PartnerSyncPacer(PartnerSyncPacing pacing) : pacing_(pacing) {}

void PartnerSyncPacer::add(std::int64_t id, SteadyTime first_due) {
  // Failures back off from twice the minimum spacing up to one sync interval.
  const auto base = 2 * pacing_.min_interval;
  accounts_.insert_or_assign(
      id, Account{first_due, std::nullopt, Backoff(base, std::max(base, pacing_.sync_interval))});
}

void PartnerSyncPacer::remove(std::int64_t id) { accounts_.erase(id); }

void PartnerSyncPacer::resetBackoff(std::int64_t id) {
  const auto it = accounts_.find(id);
  if (it == accounts_.end()) return;
  it->second.backoff.reset();
}

SteadyTime PartnerSyncPacer::earliestCall(const Account& a) const {
  return a.last_call ? *a.last_call + pacing_.min_interval : SteadyTime::min();
}

base::Duration PartnerSyncPacer::waitBeforeCall(std::int64_t id, SteadyTime now) const {
  const auto it = accounts_.find(id);
  if (it == accounts_.end() || !it->second.last_call) return base::Duration::zero();
  return std::max(base::Duration::zero(), earliestCall(it->second) - now);
}

void PartnerSyncPacer::callStarted(std::int64_t id, SteadyTime now) {
  auto& a = accounts_[id];
  a.last_call = now;
  a.due = std::max(a.due, now + pacing_.min_interval);
}

void PartnerSyncPacer::succeeded(std::int64_t id, SteadyTime now, base::Rng& rng) {
  auto& a = accounts_[id];
  a.backoff.reset();
  const double factor = 1.0 + pacing_.jitter * (2.0 * base::uniformUnit(rng) - 1.0);
  const auto interval = std::chrono::duration_cast<base::Duration>(pacing_.sync_interval * factor);
  a.due = std::max(now + interval, earliestCall(a));
}

void PartnerSyncPacer::failed(std::int64_t id, SteadyTime now, base::Rng& rng) {
  auto& a = accounts_[id];
  const auto delay = a.backoff.onFailure(now, rng);
  a.due = std::max({now + delay, now + pacing_.min_interval, earliestCall(a)});
}

std::vector<std::int64_t> PartnerSyncPacer::due(SteadyTime now) const {
  std::vector<std::int64_t> out;
  for (const auto& [id, a] : accounts_) {
    if (a.due <= now && earliestCall(a) <= now) out.push_back(id);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<SteadyTime> PartnerSyncPacer::nextDue() const {
  std::optional<SteadyTime> out;
  for (const auto& [id, a] : accounts_) {
    const auto at = std::max(a.due, earliestCall(a));
    if (!out || at < *out) out = at;
  }
  return out;
}

std::uint32_t PartnerSyncPacer::failures(std::int64_t id) const {
  const auto it = accounts_.find(id);
  return it == accounts_.end() ? 0 : it->second.backoff.failures();
}

}  // namespace greenfleet::scheduler
