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
#include "fleet/clock.hpp"
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

struct ApiContext {
  store::InstanceRepository& instances;
  store::ApiKeyRepository& keys;
  const fleet::Clock& clock;
  std::string default_api_url;
  std::function<bool()> ready;  // /readyz: database open and migrated, scheduler running
  RegistryObserver* observer = nullptr;
  scheduler::FleetPoller* poller = nullptr;  // live status, QR sessions, actions
  FleetMetrics* metrics = nullptr;           // GET /metrics
  bool metrics_require_key = false;          // metrics.require_key: /metrics needs a read key
  EventHub* events = nullptr;                // event log reads and the live stream
  sweep::SweepRunner* sweeps = nullptr;      // health sweeps
  store::StatusWriter* status_writer = nullptr;  // store health for /summary
  EventRecorder record_event;
  std::string webhook_token;  // Bearer token Green API sends (webhookUrlToken); empty = disabled
  std::chrono::milliseconds sse_heartbeat{15000};
  store::PartnerRepository* partners = nullptr;  // partner accounts
  PartnerSyncControl* partner_sync = nullptr;    // the running partner sync
  greenapi::UpstreamHostPolicy allowed_hosts{};  // upstream.allowed_hosts: apiUrls registrable
  // Public scan links (/s/{token}); null: the routes answer 503.
  store::ScanLinkRepository* scan_links = nullptr;
  ScanLinkSettings scan_link_settings;
  scheduler::PairingCodeRequester* pairing = nullptr;  // getAuthorizationCode; null: 503
  // Webhooks greenfleet sets up (configure-webhook); null: those routes answer 503 and the
  // receiver knows only webhooks.token.
  store::WebhookRepository* webhooks = nullptr;
  scheduler::WebhookSetter* webhook_setter = nullptr;
  double webhook_jobs_per_second = 2;  // webhooks.configure_per_second: a fleet job's pace
};

}  // namespace greenfleet::api
