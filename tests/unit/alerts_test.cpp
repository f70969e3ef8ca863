#include <doctest/doctest.h>

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "alerts/alert_notice.hpp"
#include "alerts/alert_queue.hpp"
#include "alerts/alert_target.hpp"
#include "scheduler/fleet_index.hpp"
#include "support/json.hpp"

using namespace greenfleet;
using namespace greenfleet::alerts;
using namespace std::chrono_literals;

namespace {

const SteadyTime kT0 = SteadyTime(std::chrono::hours(1));

AlertNotice notice(std::int64_t id, fleet::Attention reason, bool entered) {
  AlertNotice n;
  n.id = id;
  n.reason = reason;
  n.entered = entered;
  n.at_ms = 1'700'000'000'000;
  return n;
}

}  // namespace

TEST_CASE("AlertQueue: an open condition is entered once; a leave is always sent") {
  AlertQueue queue(1, {});
  CHECK(queue.push(notice(1, fleet::Attention::needsScan, true)));
  CHECK_FALSE(queue.push(notice(1, fleet::Attention::needsScan, true)));  // still open
  CHECK(queue.push(notice(1, fleet::Attention::blocked, true)));          // another reason
  CHECK(queue.push(notice(2, fleet::Attention::needsScan, true)));        // another instance
  CHECK(queue.push(notice(1, fleet::Attention::needsScan, false)));
  CHECK(queue.push(notice(1, fleet::Attention::needsScan, true)));  // a new episode
  CHECK(queue.push(notice(3, fleet::Attention::blocked, false)));   // leave without enter
  CHECK(queue.pending() == 6);
}

TEST_CASE(
    "AlertQueue: in order per target; a failing target backs off alone, doubling to the cap") {
  AlertQueue queue(2, AlertQueueOptions{100, 1000ms, 4000ms});
  queue.push(notice(1, fleet::Attention::needsScan, true));
  queue.push(notice(2, fleet::Attention::needsScan, true));
  SteadyTime now = kT0;

  auto d = queue.next(now);
  REQUIRE(d);
  CHECK(d->target == 0);
  CHECK(d->notice.id == 1);
  CHECK(d->attempt == 1);
  CHECK(queue.failed(0, now) == 1000ms);
  d = queue.next(now);  // target 0 waits; target 1 is not held up
  REQUIRE(d);
  CHECK(d->target == 1);
  queue.succeeded(1);
  d = queue.next(now);
  REQUIRE(d);
  CHECK(d->target == 1);
  CHECK(d->notice.id == 2);
  queue.succeeded(1);
  CHECK_FALSE(queue.next(now));
  CHECK(queue.nextDueAt() == now + 1000ms);

  const std::vector<std::chrono::milliseconds> delays{2000ms, 4000ms, 4000ms};
  for (const auto want : delays) {
    now = *queue.nextDueAt();
    d = queue.next(now);
    REQUIRE(d);
    CHECK(d->notice.id == 1);  // the same notice again, nothing skipped
    CHECK(queue.failed(0, now) == want);
  }
  now = *queue.nextDueAt();
  d = queue.next(now);
  REQUIRE(d);
  CHECK(d->attempt == 5);
  queue.succeeded(0);
  d = queue.next(now);
  REQUIRE(d);
  CHECK(d->notice.id == 2);
  CHECK(d->attempt == 1);  // the backoff ended with the notice that earned it
  queue.succeeded(0);
  CHECK(queue.pending() == 0);
  CHECK_FALSE(queue.nextDueAt());
}

TEST_CASE("AlertQueue: a full target drops its oldest waiting notice, never the one on the wire") {
  AlertQueue queue(1, AlertQueueOptions{2, 1000ms, 1000ms});
  queue.push(notice(1, fleet::Attention::needsScan, true));
  queue.push(notice(2, fleet::Attention::needsScan, true));
  auto d = queue.next(kT0);
  REQUIRE(d);
  CHECK(d->notice.id == 1);  // out on the wire
  queue.push(notice(3, fleet::Attention::needsScan, true));
  CHECK(queue.dropped() == 1);
  queue.succeeded(0);
  d = queue.next(kT0);
  REQUIRE(d);
  CHECK(d->notice.id == 3);  // 2 was dropped
  queue.succeeded(0);
  CHECK(queue.pending() == 0);
}

TEST_CASE("parseAlertTargets: URLs, the slack: prefix, and errors that never quote the URL") {
  const auto targets =
      parseAlertTargets(" https://alerts.example.com/hook , slack:https://hooks.slack.com/T/B/x,");
  REQUIRE(targets.size() == 2);
  CHECK(targets[0].format == AlertTarget::Format::json);
  CHECK(targets[0].label() == "https://alerts.example.com");
  CHECK(targets[1].format == AlertTarget::Format::slack);
  CHECK(targets[1].url == "https://hooks.slack.com/T/B/x");
  CHECK(targets[1].label() == "https://hooks.slack.com");
  CHECK(parseAlertTargets("").empty());
  for (const auto* bad : {"ftp://host/secret", "https://", "https:///path", "slack:hooks/secret"}) {
    CAPTURE(bad);
    try {
      parseAlertTargets(fmt::format("https://ok.example, {}", bad));
      FAIL("accepted");
    } catch (const std::invalid_argument& e) {
      CHECK(std::string(e.what()).find("item 2") != std::string::npos);
      CHECK(std::string(e.what()).find("secret") == std::string::npos);
    }
  }
}

TEST_CASE("AlertNotice renders generic JSON and a Slack text, escaping the name") {
  auto n = notice(1101000001, fleet::Attention::needsScan, true);
  n.name = "shop \"north\"\n";
  n.dashboard_url = "http://127.0.0.1:8080/ui/#/instances/1101000001";
  const auto generic = testing::parseObject(renderGenericJson(n));
  CHECK(generic->getValue<std::string>("event") == "entered");
  CHECK(generic->getValue<std::string>("attention") == "needs_scan");
  CHECK(generic->getObject("instance")->getValue<std::int64_t>("id") == 1101000001);
  CHECK(generic->getObject("instance")->getValue<std::string>("name") == "shop \"north\"\n");
  CHECK(generic->getValue<std::string>("since") == "2023-11-14T22:13:20.000Z");
  CHECK(generic->getValue<std::string>("dashboardUrl") == n.dashboard_url);
  const auto slack = testing::parseObject(renderSlackJson(n));
  CHECK(slack->getValue<std::string>("text") ==
        "WhatsApp instance shop \"north\"\n (1101000001) needs a QR scan "
        "<http://127.0.0.1:8080/ui/#/instances/1101000001|open>");
  n.entered = false;
  n.name.clear();
  CHECK(sentence(n) == "WhatsApp instance 1101000001 no longer needs a QR scan");
  n.reason = fleet::Attention::blocked;
  CHECK(sentence(n) == "WhatsApp instance 1101000001 is no longer blocked");
}

TEST_CASE("FleetIndex tells its listener every attention change: updates, timers and removals") {
  fleet::AttentionRules rules;
  std::unordered_map<fleet::InstanceId, fleet::InstanceStatus> truth;
  scheduler::FleetIndex index(rules, [&](fleet::InstanceId id) { return &truth.at(id); });
  std::vector<std::tuple<fleet::InstanceId, fleet::Attention, fleet::Attention>> told;
  index.setAttentionListener([&](fleet::InstanceId id, fleet::Attention from, fleet::Attention to) {
    told.emplace_back(id, from, to);
  });
  SteadyTime now = kT0;
  auto s = fleet::InstanceStatus::registered(now);
  s.state = fleet::InstanceState::fromRaw("authorized");
  s.stateSince = now;
  s.lastReadingAt = now;
  truth[1] = s;
  index.update(1, s, now);
  index.update(1, s, now);
  CHECK(told.empty());  // none → none is no change
  // Silence turns it stale through the timer queue, found by a query.
  now += rules.staleAfter(fleet::StateKind::authorized) + base::Duration(1);
  index.counts(now);
  REQUIRE(told.size() == 1);
  CHECK(told[0] ==
        std::make_tuple(fleet::InstanceId{1}, fleet::Attention::none, fleet::Attention::stale));
  s.state = fleet::InstanceState::fromRaw("notAuthorized");
  s.stateSince = now;
  s.lastReadingAt = now;
  truth[1] = s;
  index.update(1, s, now);
  index.update(1, s, now);  // the same again: no second call
  REQUIRE(told.size() == 2);
  CHECK(told[1] == std::make_tuple(fleet::InstanceId{1}, fleet::Attention::stale,
                                   fleet::Attention::needsScan));
  index.remove(1);
  REQUIRE(told.size() == 3);
  CHECK(told[2] ==
        std::make_tuple(fleet::InstanceId{1}, fleet::Attention::needsScan, fleet::Attention::none));
}
