#pragma once
// ApiContext: what handlers may use — repositories, the clock, and hooks into the running
// service — handed in by the composition root (app/). Handlers hold references; the context
// outlives the server.

#include <cstdint>
#include <functional>
#include <string>

#include "fleet/clock.hpp"
#include "fleet/registered_instance.hpp"
#include "scheduler/fleet_poller.hpp"
#include "store/api_key_repository.hpp"
#include "store/instance_repository.hpp"

namespace greenfleet::api {

// Told about every committed registry change, so polling follows without a restart.
class RegistryObserver {
 public:
  virtual ~RegistryObserver() = default;
  virtual void instanceUpserted(const fleet::RegisteredInstance& instance) = 0;
  virtual void instanceRemoved(std::int64_t id) = 0;
};

struct ApiContext {
  store::InstanceRepository& instances;
  store::ApiKeyRepository& keys;
  const fleet::Clock& clock;
  std::string default_api_url;
  std::function<bool()> ready;  // /readyz: database open and migrated, scheduler running
  RegistryObserver* observer = nullptr;
  scheduler::FleetPoller* poller = nullptr;  // live status, QR sessions, actions
};

}  // namespace greenfleet::api
