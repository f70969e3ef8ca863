#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>

#include "app/status_mapping.hpp"
#include "base/clock.hpp"
#include "scheduler/probe_scheduler.hpp"
#include "store/database.hpp"
#include "store/instance_repository.hpp"
#include "store/migrator.hpp"
#include "store/status_writer.hpp"
#include "store/token_cipher.hpp"
#include "support/temp_dir.hpp"

using namespace greenfleet;
using namespace std::chrono_literals;

namespace {
constexpr fleet::InstanceId kId = 1101000777;
}  // namespace

// The poller decides updates under its lock but hands them to the writer outside it, so a
// webhook's thread and the engine's thread can enqueue one instance's updates in the other
// order. The writer must keep the update decided last, in one batch or across two.
TEST_CASE(
    "A webhook and a probe result of one instance enqueued out of order: the last decided "
    "state is stored") {
  testing::TempDir dir;
  store::Database db{store::DatabaseOptions{.path = dir.file("greenfleet.db")}};
  store::Migrator(db).migrate();
  base::ManualClock clock;
  const store::TokenCipher cipher{store::TokenCipher::generateKey()};
  store::InstanceRepository instances{db, clock, cipher};
  fleet::RegisteredInstance in;
  in.id = kId;
  in.token = "1f2485e80f474293b935f77d78c64e76fa4bdceb417a4998a4";
  in.name = "shop";
  REQUIRE(instances.create({in}).has_value());

  scheduler::SchedulerConfig cfg;
  cfg.sessions.autoStartOnNotAuthorized = false;
  scheduler::ProbeScheduler core(cfg, 1);
  const auto t0 = clock.steadyNow();
  core.upsertInstance(scheduler::InstanceSpec{kId, "h", t0, std::nullopt}, t0);
  const auto jobs = core.takeDue(t0, 1);
  REQUIRE(jobs.size() == 1);
  // Decided first: the probe reads starting. Decided second: the webhook says authorized.
  const auto probe =
      core.onResult(jobs[0], scheduler::Outcome::stateReading("starting"), t0 + 10ms);
  const auto webhook = core.applyWebhookState(kId, "authorized", t0 + 20ms);
  REQUIRE(probe.has_value());
  REQUIRE(webhook.has_value());
  REQUIRE(probe->seq < webhook->seq);
  const auto anchor = base::TimeAnchor::of(clock);
  const auto first = app::toStoredUpdate(*probe, anchor);
  const auto last = app::toStoredUpdate(*webhook, anchor);
  REQUIRE(first.state == "starting");
  REQUIRE(last.state == "authorized");

  store::StatusWriter writer(db, clock, std::chrono::hours(1));
  writer.start();
  writer.enqueue(last);  // the webhook's thread got to the writer first
  SUBCASE("in one batch") {}
  SUBCASE("across batches") { writer.flush(); }
  writer.enqueue(first);
  writer.flush();

  const auto row = instances.get(kId);
  REQUIRE(row.has_value());
  CHECK(row->status.state == "authorized");
  CHECK(row->status.last_checked_at_ms == last.last_checked_at_ms);
  CHECK(writer.staleRowsDropped() == 1);
  // Both transitions are history and stay in the event log.
  CHECK(writer.pendingCount() == 0);
}
