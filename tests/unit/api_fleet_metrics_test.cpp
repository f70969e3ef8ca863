#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "api/api_error.hpp"
#include "api/fleet_metrics.hpp"
#include "api/metrics_handler.hpp"
#include "base/clock.hpp"
#include "greenapi/transfer_engine.hpp"
#include "scheduler/fleet_poller.hpp"
#include "support/prometheus_text.hpp"

using namespace greenfleet;
using namespace std::chrono_literals;
using testing::kPromtool;
using testing::promtoolCheck;
using testing::sample;

namespace {

constexpr const char* kToken = "5e1f0c3a9b7d4e2f8a6c1b3d5e7f9a0b2c4d6e8f0a1b3c5d7e";

// A poller that is never started: it makes no upstream calls, it only holds the fleet.
struct IdlePoller {
  base::ManualClock clock;
  greenapi::TransferEngine engine;
  scheduler::FleetPoller poller{scheduler::SchedulerConfig{}, scheduler::PollerOptions{}, engine,
                                clock, [](const scheduler::ProbeUpdate&) {}};

  void add(std::int64_t id, std::optional<std::string> state) {
    fleet::RegisteredInstance instance;
    instance.id = id;
    instance.api_url = "http://127.0.0.1:9";
    instance.token = kToken;
    instance.name = "shop " + std::to_string(id);
    instance.created_at = clock.wallNow();
    std::optional<fleet::InstanceStatus> stored;
    if (state) {
      const auto now = clock.steadyNow();
      stored = fleet::InstanceStatus::registered(now);
      stored->state = fleet::InstanceState::fromRaw(*state);
      stored->lastObservedState = stored->state;
      stored->lastOkAt = now;
      stored->lastReadingAt = now;
    }
    poller.upsert(instance, stored);
  }
};

scheduler::Job job(scheduler::Method method, base::Duration late = {}) {
  scheduler::Job j;
  j.id = 7103000042;
  j.method = method;
  j.dueAt = base::SteadyTime(1h);
  j.startedAt = j.dueAt + late;
  j.ticket = 99;
  return j;
}

scheduler::Outcome outcome(fleet::OutcomeKind kind, base::Duration took) {
  auto o = kind == fleet::OutcomeKind::ok ? scheduler::Outcome::stateReading("authorized")
                                          : scheduler::Outcome::failure(kind, "boom");
  o.took = took;
  return o;
}

}  // namespace

TEST_CASE("FleetMetrics counts upstream requests by method and result, and backoffs by method") {
  IdlePoller idle;
  api::FleetMetrics metrics("1.2.3");
  using fleet::OutcomeKind;
  using scheduler::Method;
  metrics.recordUpstream(job(Method::getStateInstance), outcome(OutcomeKind::ok, 20ms));
  metrics.recordUpstream(job(Method::getStateInstance), outcome(OutcomeKind::ok, 30ms));
  metrics.recordUpstream(job(Method::getStateInstance), outcome(OutcomeKind::timeout, 30s));
  metrics.recordUpstream(job(Method::qr), outcome(OutcomeKind::rateLimited, 10ms));
  metrics.recordUpstream(job(Method::logout), outcome(OutcomeKind::unauthorized, 10ms));

  const std::string text = metrics.scrape(idle.poller);
  const auto requests = [&](const char* method, const char* result) {
    return sample(text, std::string("greenfleet_upstream_requests_total{method=\"") + method +
                            "\",result=\"" + result + "\"}");
  };
  CHECK(requests("getStateInstance", "ok") == 2);
  CHECK(requests("getStateInstance", "timeout") == 1);
  CHECK(requests("qr", "rateLimited") == 1);
  CHECK(requests("logout", "unauthorized") == 1);
  // Every method x result series exists from the start, so rate() sees the first increment.
  CHECK(requests("reboot", "serverError") == 0);
  CHECK(requests("getWaSettings", "ok") == 0);

  SUBCASE("429s and outages count as backoffs; a 401 does not") {
    CHECK(sample(text, R"(greenfleet_backoffs_total{method="getStateInstance"})") == 1);
    CHECK(sample(text, R"(greenfleet_backoffs_total{method="qr"})") == 1);
    CHECK(sample(text, R"(greenfleet_backoffs_total{method="logout"})") == 0);
  }
  SUBCASE("durations land in the method's histogram in seconds") {
    const std::string h = "greenfleet_upstream_request_duration_seconds";
    CHECK(sample(text, h + R"(_count{method="getStateInstance"})") == 3);
    CHECK(sample(text, h + R"(_sum{method="getStateInstance"})") == doctest::Approx(30.05));
    CHECK(sample(text, h + R"(_bucket{method="getStateInstance",le="0.025"})") == 1);
    CHECK(sample(text, h + R"(_bucket{method="getStateInstance",le="10"})") == 2);
    CHECK(sample(text, h + R"(_bucket{method="getStateInstance",le="30"})") == 3);
    CHECK(sample(text, h + R"(_bucket{method="qr",le="+Inf"})") == 1);
  }
  SUBCASE("no label carries the instance id, the token or the error text") {
    CHECK(text.find("7103000042") == std::string::npos);
    CHECK(text.find(kToken) == std::string::npos);
    CHECK(text.find("boom") == std::string::npos);
  }
}

TEST_CASE("FleetMetrics records the scheduler's lateness as start minus due time") {
  IdlePoller idle;
  api::FleetMetrics metrics("1.2.3");
  const auto ok = outcome(fleet::OutcomeKind::ok, 5ms);
  metrics.recordUpstream(job(scheduler::Method::getStateInstance, 0ms), ok);
  metrics.recordUpstream(job(scheduler::Method::getStateInstance, 3s), ok);

  const std::string text = metrics.scrape(idle.poller);
  CHECK(sample(text, "greenfleet_scheduler_lateness_seconds_count") == 2);
  CHECK(sample(text, "greenfleet_scheduler_lateness_seconds_sum") == doctest::Approx(3.0));
  CHECK(sample(text, R"(greenfleet_scheduler_lateness_seconds_bucket{le="0.001"})") == 1);
  CHECK(sample(text, R"(greenfleet_scheduler_lateness_seconds_bucket{le="2.5"})") == 1);
  CHECK(sample(text, R"(greenfleet_scheduler_lateness_seconds_bucket{le="5"})") == 2);
}

TEST_CASE("FleetMetrics counts instances by state and attention from the poller at scrape time") {
  IdlePoller idle;
  api::FleetMetrics metrics("1.2.3");
  idle.add(7103000001, "notAuthorized");
  idle.add(7103000002, "notAuthorized");
  idle.add(7103000003, "authorized");
  idle.add(7103000004, "blocked");
  idle.add(7103000005, std::nullopt);  // never read yet

  std::string text = metrics.scrape(idle.poller);
  CHECK(sample(text, R"(greenfleet_instances{state="notAuthorized"})") == 2);
  CHECK(sample(text, R"(greenfleet_instances{state="authorized"})") == 1);
  CHECK(sample(text, R"(greenfleet_instances{state="blocked"})") == 1);
  CHECK(sample(text, R"(greenfleet_instances{state="unknown"})") == 1);
  CHECK(sample(text, R"(greenfleet_instances_by_attention{attention="needs_scan"})") == 2);
  CHECK(sample(text, R"(greenfleet_instances_by_attention{attention="blocked"})") == 1);
  CHECK(sample(text, R"(greenfleet_instances_by_attention{attention="none"})") == 2);
  CHECK(sample(text, "greenfleet_needs_scan_instances") == 2);
  CHECK(sample(text, "greenfleet_scan_sessions_active") == 0);
  CHECK(sample(text, "greenfleet_scheduler_in_flight") == 0);
  CHECK(sample(text, R"(greenfleet_build_info{version="1.2.3"})") == 1);

  SUBCASE("every known state and attention is exported, 0 when none") {
    for (const char* state : {"initializing", "starting", "sleepMode", "yellowCard", "suspended"}) {
      CHECK_MESSAGE(sample(text, std::string("greenfleet_instances{state=\"") + state + "\"}") == 0,
                    state);
    }
    for (std::size_t a = 0; a < fleet::kAttentionCount; ++a) {
      const auto name = fleet::attentionName(static_cast<fleet::Attention>(a));
      CHECK_MESSAGE(
          sample(text, "greenfleet_instances_by_attention{attention=\"" + std::string(name) + "\"}")
              .has_value(),
          name);
    }
  }
  SUBCASE("the next scrape shows the fleet as it is then, not accumulated") {
    idle.poller.remove(7103000001);
    idle.add(7103000003, "authorized");
    idle.clock.advance(1h);  // nothing answered for an hour: every instance is stale or worse
    text = metrics.scrape(idle.poller);
    CHECK(sample(text, R"(greenfleet_instances{state="notAuthorized"})") == 1);
    CHECK(sample(text, R"(greenfleet_instances{state="authorized"})") == 1);
    CHECK(sample(text, R"(greenfleet_instances_by_attention{attention="none"})") == 0);
    CHECK(sample(text, R"(greenfleet_instances_by_attention{attention="stale"})") == 2);
    CHECK(sample(text, "greenfleet_needs_scan_instances") == 1);
  }
  SUBCASE("a state Green API invents shows up verbatim") {
    idle.add(7103000006, "hibernating");
    text = metrics.scrape(idle.poller);
    CHECK(sample(text, R"(greenfleet_instances{state="hibernating"})") == 1);
  }
  SUBCASE("states Green API invents get their own series only up to a cap, then fold into other") {
    for (int i = 0; i < 30; ++i) idle.add(7104000000 + i, "invented" + std::to_string(i));
    text = metrics.scrape(idle.poller);
    // 9 known states + 23 invented ones make the 32 series allowed; the other 7 are "other".
    CHECK(sample(text, R"(greenfleet_instances{state="other"})") == 7);
    double sum = 0;
    std::size_t series = 0;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("greenfleet_instances{", 0) != 0) continue;
      sum += std::stod(line.substr(line.rfind(' ') + 1));
      ++series;
    }
    CHECK(sum == 35);
    CHECK(series == 33);
  }
  SUBCASE("no label carries an instance id or a token") {
    CHECK(text.find("710300000") == std::string::npos);
    CHECK(text.find(kToken) == std::string::npos);
  }
}

TEST_CASE(
    "FleetMetrics counts API requests by route pattern and status, 'unmatched' for no route") {
  IdlePoller idle;
  api::FleetMetrics metrics("1.2.3");
  metrics.recordApiRequest("/api/v1/instances/{id}", 200, 0.004);
  metrics.recordApiRequest("/api/v1/instances/{id}", 200, 0.2);
  metrics.recordApiRequest("/api/v1/instances/{id}", 404, 0.001);
  metrics.recordApiRequest("", 404, 0.0005);

  const std::string text = metrics.scrape(idle.poller);
  const std::string c = "greenfleet_api_requests_total";
  CHECK(sample(text, c + R"({route="/api/v1/instances/{id}",status="200"})") == 2);
  CHECK(sample(text, c + R"({route="/api/v1/instances/{id}",status="404"})") == 1);
  CHECK(sample(text, c + R"({route="unmatched",status="404"})") == 1);
  const std::string h = "greenfleet_api_request_duration_seconds";
  CHECK(sample(text, h + R"(_count{route="/api/v1/instances/{id}"})") == 3);
  CHECK(sample(text, h + R"(_bucket{route="/api/v1/instances/{id}",le="0.005"})") == 2);
  CHECK(sample(text, h + R"(_count{route="unmatched"})") == 1);
}

TEST_CASE("FleetMetrics counts status updates the writer dropped, exported from the start") {
  IdlePoller idle;
  api::FleetMetrics metrics("1.2.3");
  const std::string c = "greenfleet_status_updates_dropped_total";
  CHECK(sample(metrics.scrape(idle.poller), c) == 0);
  metrics.recordStatusUpdatesDropped(5);
  metrics.recordStatusUpdatesDropped(13);
  CHECK(sample(metrics.scrape(idle.poller), c) == 18);
}

TEST_CASE("FleetMetrics exposition passes promtool check metrics") {
  REQUIRE_MESSAGE(std::filesystem::exists(kPromtool),
                  "promtool is missing: apt-get install prometheus (scripts/lib/deps.sh)");
  IdlePoller idle;
  api::FleetMetrics metrics(GREENFLEET_VERSION);
  idle.add(7103000001, "notAuthorized");
  idle.add(7103000002, "authorized");
  idle.add(7103000003, "hibernating");
  metrics.recordUpstream(job(scheduler::Method::qr, 40ms), outcome(fleet::OutcomeKind::ok, 8ms));
  metrics.recordUpstream(job(scheduler::Method::reboot),
                         outcome(fleet::OutcomeKind::serverError, 2s));
  metrics.recordApiRequest("/metrics", 200, 0.002);
  metrics.recordApiRequest("", 404, 0.001);

  const std::string text = metrics.scrape(idle.poller);
  std::string output;
  const int code = promtoolCheck(text, output);
  CHECK_MESSAGE(code == 0, output);
  CHECK_MESSAGE(output.empty(), output);  // lint problems are printed even when the exit is 0
}

TEST_CASE("metricsResponse answers the exposition as Prometheus text 0.0.4") {
  IdlePoller idle;
  api::FleetMetrics metrics("1.2.3");
  idle.add(7103000001, "notAuthorized");

  const auto response = api::metricsResponse(&metrics, &idle.poller);
  CHECK(response.status == 200);
  CHECK(response.content_type == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(sample(response.body, R"(greenfleet_instances{state="notAuthorized"})") == 1);

  SUBCASE("without metrics or a scheduler wired it answers 503") {
    CHECK_THROWS_AS(api::metricsResponse(nullptr, &idle.poller), api::ApiError);
    CHECK_THROWS_AS(api::metricsResponse(&metrics, nullptr), api::ApiError);
  }
}
