#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.hpp"
#include "greenapi/transfer_engine.hpp"
#include "scheduler/fleet_poller.hpp"
#include "support/wait_for.hpp"

using namespace greenfleet;

namespace {

// Never started: no upstream call is made, the poller only holds the fleet.
struct IdlePoller {
  explicit IdlePoller(const base::ManualClock& clock)
      : poller{scheduler::SchedulerConfig{}, options(), engine, clock,
               [](const scheduler::ProbeUpdate&) {}} {}
  static scheduler::PollerOptions options() {
    scheduler::PollerOptions o;
    o.seed = 42;
    return o;
  }
  greenapi::TransferEngine engine;
  scheduler::FleetPoller poller;
};

fleet::RegisteredInstance instance(std::int64_t id, const base::ManualClock& clock) {
  fleet::RegisteredInstance in;
  in.id = id;
  in.api_url = id % 2 == 0 ? "http://127.0.0.1:9" : "http://127.0.0.1:10/";
  in.token = std::string(50, 'b');
  in.name = "shop " + std::to_string(id);
  in.tags = {"t" + std::to_string(id % 3)};
  in.created_at = in.updated_at = clock.wallNow();
  return in;
}

}  // namespace

TEST_CASE("FleetPoller::upsertMany leaves the fleet as upserting one by one does") {
  base::ManualClock clock;
  IdlePoller one_by_one(clock);
  IdlePoller bulk(clock);
  std::vector<fleet::RegisteredInstance> batch;
  for (std::int64_t id = 1; id <= 40; ++id) batch.push_back(instance(id, clock));
  batch[7].enabled = false;             // a disabled one is not polled
  batch.push_back(instance(3, clock));  // the same id again, renamed: the last one wins
  batch.back().name = "renamed";
  // One already known before the batch keeps its schedule.
  one_by_one.poller.upsert(instance(40, clock));
  bulk.poller.upsert(instance(40, clock));

  std::vector<const fleet::RegisteredInstance*> pointers;
  for (const auto& in : batch) {
    one_by_one.poller.upsert(in);
    pointers.push_back(&in);
  }
  bulk.poller.upsertMany(pointers);

  const auto a = one_by_one.poller.counts();
  const auto b = bulk.poller.counts();
  CHECK(a.instances == 39);
  CHECK(b.instances == a.instances);
  CHECK(b.byState == a.byState);
  CHECK(b.byAttention == a.byAttention);
  for (std::int64_t id = 1; id <= 40; ++id) {
    CAPTURE(id);
    const auto va = one_by_one.poller.view(id);
    const auto vb = bulk.poller.view(id);
    REQUIRE(va.has_value() == vb.has_value());
    if (!va) continue;
    CHECK(vb->name == va->name);
    CHECK(vb->tags == va->tags);
    CHECK(vb->status.state == va->status.state);
    CHECK(vb->status.registeredAt == va->status.registeredAt);
    CHECK(vb->attention == va->attention);
    CHECK(vb->nextProbeAt == va->nextProbeAt);
  }
  CHECK_FALSE(bulk.poller.view(8).has_value());
  CHECK(bulk.poller.view(3)->name == "renamed");
}

TEST_CASE("FleetPoller::reserve changes nothing the fleet shows") {
  base::ManualClock clock;
  IdlePoller idle(clock);
  idle.poller.upsert(instance(1, clock));
  idle.poller.reserve(1000);
  idle.poller.upsert(instance(2, clock));
  CHECK(idle.poller.counts().instances == 2);
  REQUIRE(idle.poller.view(1).has_value());
  CHECK(idle.poller.view(1)->name == "shop 1");
}

TEST_CASE("FleetPoller::stop waits for a completion that is still publishing its update") {
  // The completion used to free its in-flight slot before publishing, so stop() could return
  // (and the poller be destroyed) while the engine thread still called the sink: a
  // heap-use-after-free under ASan when the service shut down under load.
  base::ManualClock clock;
  greenapi::TransferEngine engine;
  std::atomic<bool> publishing{false};
  std::atomic<bool> stop_called{false};
  std::atomic<bool> sink_done{false};
  auto poller = std::make_unique<scheduler::FleetPoller>(
      scheduler::SchedulerConfig{}, IdlePoller::options(), engine, clock,
      [&](const scheduler::ProbeUpdate&) {
        if (publishing.exchange(true)) return;
        while (!stop_called) std::this_thread::yield();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        sink_done = true;
      });
  poller->upsert(instance(2, clock));  // 127.0.0.1:9: refused at once, a result to publish
  poller->start();
  REQUIRE(testing::waitFor([&] { return publishing.load(); }, std::chrono::seconds(20)));
  stop_called = true;
  poller->stop();
  CHECK(sink_done);
  poller.reset();
}
