#include "app/partner_sync_runner.hpp"

#include <fmt/format.h>

#include "base/log.hpp"
#include "base/time_format.hpp"
#include "greenapi/partner_reply.hpp"

namespace greenfleet::app {

namespace {
const base::Log kLog{"partners"};
constexpr const char* kPeriodicActor = "partner-sync";

store::EventRow partnerEvent(std::int64_t at_ms, const char* type,
                             const store::PartnerAccount& account, const std::string& actor) {
  store::EventRow e;
  e.at_ms = at_ms;
  e.source = "partner";
  e.type = type;
  e.detail = fmt::format("partner {} ({})", account.id, account.name);
  e.actor = actor;
  return e;
}

// The counts of a planned sync, before the registry has been written.
fleet::PartnerSyncResult plannedResult(const fleet::ReconciliationPlan& plan, std::size_t listed,
                                       std::int64_t at_ms) {
  fleet::PartnerSyncResult result;
  result.at_ms = at_ms;
  result.ok = true;
  result.listed = listed;
  result.added = plan.added.size();
  result.updated = plan.token_changes.size() + plan.restored.size();
  result.expired = plan.expired.size();
  result.unchanged = plan.unchanged;
  result.not_managed = plan.not_managed;
  result.skipped = plan.skipped;
  result.errors = plan.errors;
  return result;
}

// The planned new instances that were inserted (inserted: their ids, in plan order).
std::vector<const fleet::RegisteredInstance*> insertedInstances(
    const fleet::ReconciliationPlan& plan, const std::vector<std::int64_t>& inserted) {
  std::vector<const fleet::RegisteredInstance*> added;
  std::size_t k = 0;
  for (const auto& in : plan.added) {
    if (k < inserted.size() && inserted[k] == in.id) {
      added.push_back(&in);
      ++k;
    }
  }
  return added;
}
}  // namespace

PartnerSyncRunner::PartnerSyncRunner(store::PartnerRepository& partners,
                                     store::InstanceRepository& instances,
                                     greenapi::TransferEngine& engine,
                                     api::RegistryObserver& observer, store::StatusWriter& writer,
                                     const base::Clock& clock, scheduler::PartnerSyncPacing pacing)
    : partners_(partners),
      instances_(instances),
      engine_(engine),
      observer_(observer),
      writer_(writer),
      clock_(clock),
      pacing_(pacing),
      pacer_(pacing),
      rng_(static_cast<std::uint64_t>(clock.steadyNow().time_since_epoch().count())) {}

PartnerSyncRunner::~PartnerSyncRunner() { stop(); }

void PartnerSyncRunner::start() {
  const auto now = clock_.steadyNow();
  {
    std::lock_guard lock(mutex_);
    for (const auto& account : partners_.list()) {
      accounts_.insert(account.id);
      if (account.last_sync) last_results_[account.id] = *account.last_sync;
      // A restart must not bring calls closer than min_interval: the first waits that long.
      pacer_.add(account.id, now + pacing_.min_interval);
      pacer_.callStarted(account.id, now);
    }
    stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
}

void PartnerSyncRunner::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mutex_);
  for (auto& d : demands_) d.done.set_value(api::SyncAttempt{api::SyncAttempt::Kind::stopped});
  demands_.clear();
}

api::SyncAttempt PartnerSyncRunner::syncNow(std::int64_t id, const std::string& actor) {
  std::future<api::SyncAttempt> answer;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return {api::SyncAttempt::Kind::stopped};
    if (accounts_.count(id) == 0) return {api::SyncAttempt::Kind::unknown};
    const auto wait = pacer_.waitBeforeCall(id, clock_.steadyNow());
    if (wait > base::Duration::zero()) {
      api::SyncAttempt paced{api::SyncAttempt::Kind::too_soon};
      paced.retry_after = std::chrono::ceil<std::chrono::milliseconds>(wait);
      return paced;
    }
    // Reserved here, under the lock: a second demand racing this one is paced.
    pacer_.callStarted(id, clock_.steadyNow());
    demands_.push_back(Demand{id, actor, {}});
    answer = demands_.back().done.get_future();
  }
  wake_.notify_all();
  return answer.get();
}

void PartnerSyncRunner::accountChanged(std::int64_t id) {
  {
    std::lock_guard lock(mutex_);
    if (accounts_.insert(id).second) {
      pacer_.add(id, clock_.steadyNow());
    } else {
      pacer_.resetBackoff(id);
    }
  }
  wake_.notify_all();
}

void PartnerSyncRunner::accountRemoved(std::int64_t id) {
  std::lock_guard lock(mutex_);
  accounts_.erase(id);
  last_results_.erase(id);
  pacer_.remove(id);
}

api::PartnersSummary PartnerSyncRunner::summary() const {
  std::lock_guard lock(mutex_);
  api::PartnersSummary s;
  s.accounts = accounts_.size();
  for (const auto& [id, r] : last_results_) {
    if (!r.ok) ++s.failing;
    if (!s.last_sync_at_ms || r.at_ms > *s.last_sync_at_ms) s.last_sync_at_ms = r.at_ms;
    s.added += r.added;
    s.updated += r.updated;
    s.expired += r.expired;
    s.skipped += r.skipped.size();
    s.errors += r.errors.size();
  }
  return s;
}

void PartnerSyncRunner::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (!demands_.empty()) {
      Demand demand = std::move(demands_.front());
      demands_.pop_front();
      lock.unlock();
      demand.done.set_value(sync(demand.id, demand.actor));
      lock.lock();
      continue;
    }
    const auto now = clock_.steadyNow();
    const auto due = pacer_.due(now);
    if (!due.empty()) {
      pacer_.callStarted(due.front(), now);
      lock.unlock();
      sync(due.front(), kPeriodicActor);
      lock.lock();
      continue;
    }
    const auto next = pacer_.nextDue();
    const auto wait = next ? std::max(base::Duration::zero(), *next - now)
                           : base::Duration(std::chrono::hours(1));
    wake_.wait_for(lock, wait);
  }
}

api::SyncAttempt PartnerSyncRunner::sync(std::int64_t id, const std::string& actor) {
  api::SyncAttempt attempt;
  std::optional<store::PartnerAccount> account;
  try {
    account = partners_.get(id, /*with_token=*/true);
  } catch (const std::exception& e) {
    kLog.error("event=partner_sync_failed partner={} error=\"{}\"", id, e.what());
  }
  if (!account) {
    attempt.kind = api::SyncAttempt::Kind::unknown;
    return attempt;
  }
  std::promise<greenapi::RawReply> promise;
  auto reply = promise.get_future();
  engine_.submit(greenapi::partnerInstancesRequest(
      account->api_url, account->token,
      [&promise](greenapi::RawReply&& r) { promise.set_value(std::move(r)); }));
  auto listing = greenapi::partnerInstancesReply(reply.get(), account->token);

  auto& result = attempt.result;
  bool ok = listing.ok();
  if (ok) {
    try {
      result = reconcile(*account, std::move(*listing.value), actor);
    } catch (const std::exception& e) {
      // Never half-applied: the registry writes are one transaction.
      ok = false;
      listing.outcome.message = fmt::format("registry update failed: {}", e.what());
      kLog.error("event=partner_sync_failed partner={} error=\"{}\"", id, e.what());
    }
  }
  if (!ok) {
    result = fleet::PartnerSyncResult{};
    result.at_ms = base::toUnixMillis(clock_.wallNow());
    result.errors.push_back(listing.outcome.message.empty()
                                ? std::string(fleet::outcomeKindName(listing.outcome.kind))
                                : listing.outcome.message);
    kLog.warn("event=partner_sync_failed partner={} name={} token={} outcome={} message=\"{}\"", id,
              account->name, account->token_hint, fleet::outcomeKindName(listing.outcome.kind),
              result.errors.front());
    try {
      partners_.saveResult(id, result);
    } catch (const std::exception& e) {
      kLog.error("event=partner_result_not_saved partner={} error=\"{}\"", id, e.what());
    }
  }
  std::lock_guard lock(mutex_);
  const auto now = clock_.steadyNow();
  if (accounts_.count(id) != 0) {
    if (ok) {
      pacer_.succeeded(id, now, rng_);
    } else {
      pacer_.failed(id, now, rng_);
    }
    last_results_[id] = result;
  }
  return attempt;
}

void PartnerSyncRunner::admitApiUrls(fleet::ReconciliationPlan& plan) const {
  const auto& policy = engine_.options().allowedHosts;
  std::erase_if(plan.added, [&](fleet::RegisteredInstance& in) {
    auto admitted = policy.admit(in.api_url);
    if (admitted) {
      in.api_url = std::move(admitted).value();
      return false;
    }
    plan.errors.push_back(fmt::format("instance {}: apiUrl {}", in.id, admitted.error()));
    return true;
  });
}

fleet::ReconciliationPlan PartnerSyncRunner::planSync(
    const store::PartnerAccount& account, const std::vector<fleet::PartnerInstance>& listing) {
  std::vector<std::int64_t> ids;
  ids.reserve(listing.size());
  for (const auto& item : listing) ids.push_back(item.id);
  const auto known = partners_.known(ids);
  auto plan = fleet::planReconciliation(
      listing, fleet::PartnerDefaults{account.id, account.tags, account.api_url_template},
      [&known](std::int64_t id) -> std::optional<fleet::KnownInstance> {
        const auto it = known.find(id);
        if (it == known.end()) return std::nullopt;
        return it->second;
      });
  admitApiUrls(plan);
  return plan;
}

fleet::PartnerSyncResult PartnerSyncRunner::reconcile(const store::PartnerAccount& account,
                                                      std::vector<fleet::PartnerInstance> listing,
                                                      const std::string& actor) {
  auto plan = planSync(account, listing);
  const auto wall_now = clock_.wallNow();
  const std::int64_t now_ms = base::toUnixMillis(wall_now);
  for (auto& in : plan.added) in.created_at = in.updated_at = wall_now;
  auto result = plannedResult(plan, listing.size(), now_ms);

  // Polling of an expiring instance stops first, and its queued observations are committed, so
  // none lands after the 'expired' mark.
  for (const auto id : plan.expired) observer_.instanceRemoved(id);
  if (!plan.expired.empty()) writer_.flush();
  const auto inserted = partners_.applySync(account.id, plan, result);
  if (inserted.size() != plan.added.size()) {
    // Some were registered by hand meanwhile and left alone: they count as not managed.
    result.not_managed += plan.added.size() - inserted.size();
    result.added = inserted.size();
    partners_.saveResult(account.id, result);
  }

  const auto added = insertedInstances(plan, inserted);
  tellObserver(plan, added);
  recordEvents(account, plan, added, now_ms, actor);
  if (plan.changesRegistry()) writer_.flush();
  kLog.info(
      "event=partner_synced partner={} listed={} added={} updated={} expired={} unchanged={} "
      "not_managed={} skipped={} errors={}",
      account.id, result.listed, result.added, result.updated, result.expired, result.unchanged,
      result.not_managed, result.skipped.size(), result.errors.size());
  return result;
}

void PartnerSyncRunner::tellObserver(const fleet::ReconciliationPlan& plan,
                                     const std::vector<const fleet::RegisteredInstance*>& added) {
  if (!added.empty()) observer_.instancesUpserted(added);
  const auto reload = [&](std::int64_t id) {
    if (const auto row = instances_.get(id)) observer_.instanceUpserted(row->instance);
  };
  for (const auto& change : plan.token_changes) reload(change.id);
  for (const auto& change : plan.restored) reload(change.id);
}

void PartnerSyncRunner::recordEvents(const store::PartnerAccount& account,
                                     const fleet::ReconciliationPlan& plan,
                                     const std::vector<const fleet::RegisteredInstance*>& added,
                                     std::int64_t at_ms, const std::string& actor) {
  for (const auto* in : added) {
    writer_.enqueueEvent(in->id, partnerEvent(at_ms, "partner_instance_added", account, actor));
  }
  for (const auto& c : plan.token_changes) {
    writer_.enqueueEvent(c.id, partnerEvent(at_ms, "partner_token_rotated", account, actor));
  }
  for (const auto id : plan.expired) {
    writer_.enqueueEvent(id, partnerEvent(at_ms, "partner_instance_expired", account, actor));
  }
  for (const auto& c : plan.restored) {
    writer_.enqueueEvent(c.id, partnerEvent(at_ms, "partner_instance_restored", account, actor));
  }
}

}  // namespace greenfleet::app
