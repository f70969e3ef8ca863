#pragma once
// ApiContext: what handlers may use — repositories, the clock, and hooks into the running
// service — handed in by the composition root (app/). Handlers hold references; the context
// outlives the server.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "api/scan_link_settings.hpp"
#include "base/clock.hpp"
#include "fleet/registered_instance.hpp"
#include "greenapi/upstream_host_policy.hpp"
#include "scheduler/fleet_poller.hpp"
#include "store/api_key_repository.hpp"
#include "store/instance_repository.hpp"
#include "store/partner_repository.hpp"

namespace greenfleet::api {

// Told about every committed registry change, so polling follows without a restart.
class RegistryObserver {
 public:
  virtual ~RegistryObserver() = default;
  virtual void instanceUpserted(const fleet::RegisteredInstance& instance) = 0;
  // A batch at once (bulk import); by default one by one.
  virtual void instancesUpserted(const std::vector<const fleet::RegisteredInstance*>& instances) {
    for (const auto* instance : instances) instanceUpserted(*instance);
  }
  virtual void instanceRemoved(std::int64_t id) = 0;
};

class EventHub;
class FleetMetrics;
class PartnerSyncControl;
}  // namespace greenfleet::api
namespace greenfleet::sweep {
class SweepRunner;
}  // namespace greenfleet::sweep
namespace greenfleet::scheduler {
class PairingCodeRequester;
class WebhookSetter;
}  // namespace greenfleet::scheduler
namespace greenfleet::store {
class StatusWriter;
class ScanLinkRepository;
class WebhookRepository;
}  // namespace greenfleet::store
namespace greenfleet::api {

// Records a notable event (an operator action) in the event log.
using EventRecorder = std::function<void(std::int64_t id, const std::string& type,
                                         const std::string& detail, const std::string& actor)>;

// Built complete by the composition root: every service below exists for the server's whole
// life, so handlers use them without checks. Options switched off by configuration are
// values that say so (an empty webhook_token), never missing services.
struct ApiContext {
  store::InstanceRepository& instances;
  store::ApiKeyRepository& keys;
  const base::Clock& clock;
  RegistryObserver& observer;
  scheduler::FleetPoller& poller;            // live status, QR sessions, actions
  FleetMetrics& metrics;                     // GET /metrics
  EventHub& events;                          // event log reads and the live stream
  sweep::SweepRunner& sweeps;                // health sweeps
  store::StatusWriter& status_writer;        // store health for /summary
  store::PartnerRepository& partners;        // partner accounts
  PartnerSyncControl& partner_sync;          // the running partner sync
  store::ScanLinkRepository& scan_links;     // public scan links (/s/{token})
  scheduler::PairingCodeRequester& pairing;  // getAuthorizationCode
  store::WebhookRepository& webhooks;        // webhooks greenfleet sets up
  scheduler::WebhookSetter& webhook_setter;  // configure-webhook, verify-webhook
  EventRecorder record_event;                // operator actions into the event log
  std::function<bool()> ready;  // /readyz: database open and migrated, scheduler running
  std::string default_api_url;
  bool metrics_require_key = false;  // metrics.require_key: /metrics needs a read key
  std::string webhook_token;  // Bearer token Green API sends (webhookUrlToken); empty = disabled
  std::chrono::milliseconds sse_heartbeat{15000};
  greenapi::UpstreamHostPolicy allowed_hosts{};  // upstream.allowed_hosts: apiUrls registrable
  ScanLinkSettings scan_link_settings;
  double webhook_jobs_per_second = 2;  // webhooks.configure_per_second: a fleet job's pace
};

}  // namespace greenfleet::api
