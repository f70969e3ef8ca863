#pragma once
// PartnerSyncRunner: the partner sync of `greenfleet serve`. One thread runs every sync, periodic
// (PartnerSyncPacer) or on demand, calling getInstances through the service's TransferEngine
// (no thread per request), reconciling with planReconciliation, committing through
// PartnerRepository, then telling the poller (RegistryObserver) and the event log. The partner
// token is read from the store for the call only and never logged. Thread-safe.

#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "api/api_context.hpp"
#include "api/partner_sync_control.hpp"
#include "base/clock.hpp"
#include "base/random.hpp"
#include "greenapi/transfer_engine.hpp"
#include "scheduler/partner_sync_pacer.hpp"
#include "store/instance_repository.hpp"
#include "store/partner_repository.hpp"
#include "store/status_writer.hpp"

namespace greenfleet::app {

class PartnerSyncRunner final : public api::PartnerSyncControl {
 public:
  PartnerSyncRunner(store::PartnerRepository& partners, store::InstanceRepository& instances,
                    greenapi::TransferEngine& engine, api::RegistryObserver& observer,
                    store::StatusWriter& writer, const base::Clock& clock,
                    scheduler::PartnerSyncPacing pacing);
  ~PartnerSyncRunner() override;

  // Loads the accounts (each synced once min_interval after start, then periodically).
  void start();
  void stop();

  api::SyncAttempt syncNow(std::int64_t id, const std::string& actor) override;
  void accountChanged(std::int64_t id) override;
  void accountRemoved(std::int64_t id) override;
  api::PartnersSummary summary() const override;

 private:
  struct Demand {
    std::int64_t id = 0;
    std::string actor;
    std::promise<api::SyncAttempt> done;
  };
  void run();
  api::SyncAttempt sync(std::int64_t id, const std::string& actor);
  fleet::PartnerSyncResult reconcile(const store::PartnerAccount& account,
                                     std::vector<fleet::PartnerInstance> listing,
                                     const std::string& actor);
  // The reconciliation of the listing with the registry (the account's known instances read).
  fleet::ReconciliationPlan planSync(const store::PartnerAccount& account,
                                     const std::vector<fleet::PartnerInstance>& listing);
  // Tells the poller about the instances a committed sync added, rotated or restored.
  void tellObserver(const fleet::ReconciliationPlan& plan,
                    const std::vector<const fleet::RegisteredInstance*>& added);
  // Queues one partner event per change of a committed sync (flushed by the caller).
  void recordEvents(const store::PartnerAccount& account, const fleet::ReconciliationPlan& plan,
                    const std::vector<const fleet::RegisteredInstance*>& added, std::int64_t at_ms,
                    const std::string& actor);
  // New instances whose templated apiUrl upstream.allowed_hosts refuses become errors, not rows:
  // the poller would refuse every request to them anyway.
  void admitApiUrls(fleet::ReconciliationPlan& plan) const;

  store::PartnerRepository& partners_;
  store::InstanceRepository& instances_;
  greenapi::TransferEngine& engine_;
  api::RegistryObserver& observer_;
  store::StatusWriter& writer_;
  const base::Clock& clock_;
  const scheduler::PartnerSyncPacing pacing_;

  mutable std::mutex mutex_;  // guards everything below
  std::condition_variable wake_;
  scheduler::PartnerSyncPacer pacer_;
  base::Rng rng_;
  std::deque<Demand> demands_;
  std::map<std::int64_t, fleet::PartnerSyncResult> last_results_;
  std::set<std::int64_t> accounts_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace greenfleet::app
