#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "base/random.hpp"
#include "scheduler/probe_scheduler.hpp"

using namespace greenfleet;
using namespace greenfleet::scheduler;
using namespace std::chrono_literals;
using fleet::OutcomeKind;

namespace {

const SteadyTime kT0 = SteadyTime(std::chrono::hours(1));

struct SchedulerDriver {
  ProbeScheduler& scheduler;
  SteadyTime now = kT0;
  std::function<Outcome(const Job&)> respond = [](const Job&) {
    return Outcome::stateReading("authorized");
  };
  std::vector<Job> started;
  std::vector<ProbeUpdate> updates;

  // Answers every due job instantly, event by event, until `end`.
  void runUntil(SteadyTime end) {
    while (now <= end) {
      const auto jobs = scheduler.takeDue(now, 100000);
      for (const Job& job : jobs) {
        started.push_back(job);
        if (auto u = scheduler.onResult(job, respond(job), now)) updates.push_back(*u);
      }
      const auto wake = scheduler.nextWakeup();
      if (!wake || *wake > end) break;
      if (*wake <= now) {
        REQUIRE_FALSE(jobs.empty());  // nothing ran yet the scheduler says "now": it would spin
        continue;
      }
      now = *wake;
    }
    now = end;
  }

  std::vector<Job> jobsOf(fleet::InstanceId id) const {
    std::vector<Job> out;
    for (const Job& j : started) {
      if (j.id == id) out.push_back(j);
    }
    return out;
  }
};

InstanceSpec newInstance(fleet::InstanceId id, std::string host = "api.green-api.com",
                         SteadyTime registeredAt = kT0) {
  return InstanceSpec{id, std::move(host), registeredAt, std::nullopt};
}

// A stored status as loaded at start: confirmed in `state`, read just before `at`.
InstanceSpec loadedInstance(fleet::InstanceId id, const char* state, SteadyTime at = kT0,
                            std::string host = "api.green-api.com") {
  fleet::InstanceStatus s = fleet::InstanceStatus::registered(at - std::chrono::hours(24));
  s.state = fleet::InstanceState::fromRaw(state);
  s.stateSince = at - std::chrono::hours(1);
  s.lastOkAt = at;
  s.lastReadingAt = at;
  s.attention = fleet::deriveAttention(s, at, fleet::AttentionRules{});
  return InstanceSpec{id, std::move(host), s.registeredAt, s};
}

}  // namespace

TEST_CASE("A new instance is probed at once, then at its state's interval with jitter") {
  ProbeScheduler s(SchedulerConfig{}, 1);
  REQUIRE(s.upsertInstance(newInstance(1), kT0));
  const auto jobs = s.takeDue(kT0, 10);
  REQUIRE(jobs.size() == 1);
  CHECK(jobs[0].id == 1);
  CHECK(jobs[0].method == Method::getStateInstance);
  CHECK(jobs[0].reason == JobReason::scheduled);
  CHECK(jobs[0].dueAt == kT0);
  const auto u = s.onResult(jobs[0], Outcome::stateReading("authorized"), kT0 + 100ms);
  REQUIRE(u.has_value());
  REQUIRE(u->transition.has_value());
  CHECK(u->transition->to.raw() == "authorized");
  CHECK(u->nextProbeAt >= kT0 + 100ms + 54s);
  CHECK(u->nextProbeAt <= kT0 + 100ms + 66s);
  CHECK(s.takeDue(u->nextProbeAt - 1ms, 10).empty());
  CHECK(s.nextWakeup() == u->nextProbeAt);
  CHECK(s.takeDue(u->nextProbeAt, 10).size() == 1);
}

TEST_CASE("Probe intervals follow the confirmed state") {
  struct Case {
    const char* state;
    Duration interval;
  };
  for (const Case c : {Case{"authorized", 60s}, Case{"notAuthorized", 30s}, Case{"starting", 15s},
                       Case{"sleepMode", 15s}, Case{"blocked", 300s}, Case{"suspended", 300s},
                       Case{"somethingNew", 60s}}) {
    CAPTURE(c.state);
    SchedulerConfig cfg;
    cfg.sessions.autoStartOnNotAuthorized = false;
    ProbeScheduler s(cfg, 2);
    s.upsertInstance(loadedInstance(1, c.state), kT0);
    SchedulerDriver d{s};
    d.respond = [&](const Job&) { return Outcome::stateReading(c.state); };
    d.runUntil(kT0 + 30min);
    const auto jobs = d.jobsOf(1);
    REQUIRE(jobs.size() >= 4);
    for (std::size_t i = 1; i < jobs.size(); ++i) {
      const Duration gap = jobs[i].startedAt - jobs[i - 1].startedAt;
      CHECK(gap >= c.interval * 9 / 10);
      CHECK(gap <= c.interval * 11 / 10);
      CHECK(jobs[i].reason == JobReason::scheduled);
    }
  }
}

TEST_CASE("Instances loaded at start have their first probes spread over one interval") {
  SchedulerConfig cfg;
  cfg.maxRps = 1e6;
  cfg.maxInFlightPerHost = 100000;
  ProbeScheduler s(cfg, 3);
  for (fleet::InstanceId id = 1; id <= 1000; ++id)
    s.upsertInstance(loadedInstance(id, "authorized"), kT0);
  std::map<std::int64_t, int> per_second;
  SchedulerDriver d{s};
  d.runUntil(kT0 + 60s);
  std::set<fleet::InstanceId> seen;
  for (const Job& j : d.started) {
    if (!seen.insert(j.id).second) continue;  // first probes only
    ++per_second[(j.startedAt - kT0) / 1s];
  }
  CHECK(seen.size() == 1000);
  int busiest = 0;
  for (const auto& [second, n] : per_second) busiest = std::max(busiest, n);
  CHECK(per_second.size() >= 55);  // nearly every second of the minute has some
  CHECK(busiest <= 40);            // ~17 per second on average, never a herd
}

TEST_CASE("The global rps limit caps starts across all instances and hosts") {
  SchedulerConfig cfg;
  cfg.maxRps = 10;
  cfg.maxBurst = 5;
  ProbeScheduler s(cfg, 4);
  for (fleet::InstanceId id = 1; id <= 500; ++id) {
    s.upsertInstance(newInstance(id, id % 2 ? "a.example" : "b.example"), kT0);
  }
  SchedulerDriver d{s};
  d.runUntil(kT0 + 20s);
  // At most burst + rate x time.
  CHECK(d.started.size() <= 5 + 10 * 20 + 1);
  CHECK(d.started.size() >= 10 * 20 - 5);
  std::vector<SteadyTime> times;
  for (const Job& j : d.started) times.push_back(j.startedAt);
  for (std::size_t i = 0; i + 15 < times.size(); ++i) {
    CHECK(times[i + 15] - times[i] >= 1s);  // never 16 starts within a second (burst 5 + 10)
  }
}

TEST_CASE("The dispatch tick lets due work gather without losing global-bucket tokens") {
  SchedulerConfig cfg;
  cfg.maxRps = 25000;
  cfg.maxBurst = 50;
  CHECK(ProbeScheduler(cfg, 1).dispatchTick() == 2ms);  // 50 tokens take 2 ms to refill
  cfg.maxRps = 1e6;
  CHECK(ProbeScheduler(cfg, 1).dispatchTick() == 50us);  // a longer nap would drop tokens
  cfg.maxRps = 100;
  CHECK(ProbeScheduler(cfg, 1).dispatchTick() == 2ms);  // never more than 2 ms late
}

TEST_CASE("rateIdle says whether upstream.max_rps holds anything back") {
  SchedulerConfig cfg;
  cfg.maxRps = 10;
  cfg.maxBurst = 2;
  ProbeScheduler s(cfg, 6);
  for (fleet::InstanceId id = 1; id <= 5; ++id) s.upsertInstance(newInstance(id, "a.example"), kT0);
  CHECK(s.rateIdle(kT0));
  CHECK(s.takeDue(kT0, 10).size() == 2);  // the burst
  CHECK_FALSE(s.rateIdle(kT0));
  CHECK_FALSE(s.rateIdle(kT0 + 100ms));  // one token back of two
  CHECK(s.rateIdle(kT0 + 200ms));
}

TEST_CASE("The per-host concurrency cap holds jobs until a slot frees") {
  SchedulerConfig cfg;
  cfg.maxInFlightPerHost = 3;
  ProbeScheduler s(cfg, 5);
  for (fleet::InstanceId id = 1; id <= 10; ++id)
    s.upsertInstance(newInstance(id, "a.example"), kT0);
  s.upsertInstance(newInstance(100, "b.example"), kT0);
  s.upsertInstance(newInstance(101, "b.example"), kT0);
  auto jobs = s.takeDue(kT0, 100);
  const auto on_a =
      std::count_if(jobs.begin(), jobs.end(), [](const Job& j) { return j.id <= 10; });
  CHECK(on_a == 3);
  CHECK(jobs.size() == 5);
  CHECK(s.takeDue(kT0 + 1s, 100).empty());
  CHECK(s.stats(kT0 + 1s).parked == 7);
  const Job first_a =
      *std::find_if(jobs.begin(), jobs.end(), [](const Job& j) { return j.id <= 10; });
  s.onResult(first_a, Outcome::stateReading("authorized"), kT0 + 2s);
  const auto more = s.takeDue(kT0 + 2s, 100);
  REQUIRE(more.size() == 1);
  CHECK(more[0].id <= 10);
  CHECK(more[0].dueAt == kT0);  // lateness = 2 s waiting for the host
  CHECK(s.stats(kT0 + 2s).inFlight == 5);
}

TEST_CASE("At most one request is in flight per instance across all methods") {
  SchedulerConfig cfg;
  ProbeScheduler s(cfg, 6);
  s.upsertInstance(loadedInstance(1, "notAuthorized"), kT0);
  REQUIRE(s.startSession(1, kT0).status == SessionStartStatus::started);
  REQUIRE(s.requestAction(1, Method::reboot, kT0).status == ActionStatus::queued);
  REQUIRE(s.requestAction(1, Method::getStateInstance, kT0).status == ActionStatus::queued);
  std::set<Method> methods;
  SteadyTime t = kT0;
  for (int i = 0; i < 3; ++i) {
    const auto jobs = s.takeDue(t, 100);
    REQUIRE(jobs.size() == 1);
    CHECK(s.takeDue(t, 100).empty());  // nothing else while it is in flight
    methods.insert(jobs[0].method);
    t += 10ms;
    s.onResult(jobs[0],
               jobs[0].method == Method::qr       ? Outcome::qrAnswer("qrCode", "AAA")
               : jobs[0].method == Method::reboot ? Outcome::ok()
                                                  : Outcome::stateReading("notAuthorized"),
               t);
  }
  CHECK(methods == std::set<Method>{Method::reboot, Method::getStateInstance, Method::qr});
}

TEST_CASE("Removing an instance drops its pending work at once") {
  ProbeScheduler s(SchedulerConfig{}, 7);
  for (fleet::InstanceId id = 1; id <= 3; ++id) s.upsertInstance(newInstance(id), kT0);
  CHECK(s.removeInstance(2));
  CHECK_FALSE(s.removeInstance(2));
  CHECK_FALSE(s.contains(2));
  const auto jobs = s.takeDue(kT0, 100);
  REQUIRE(jobs.size() == 2);
  for (const Job& j : jobs) CHECK(j.id != 2);
  SUBCASE("removal while in flight ignores the result and frees the host slot") {
    CHECK(s.removeInstance(jobs[0].id));
    CHECK_FALSE(s.onResult(jobs[0], Outcome::stateReading("authorized"), kT0 + 1s).has_value());
    CHECK(s.stats(kT0 + 1s).inFlight == 1);
    CHECK(s.requestAction(jobs[0].id, Method::getStateInstance, kT0 + 1s).status ==
          ActionStatus::unknownInstance);
  }
  SUBCASE("a result for an unknown ticket is ignored") {
    Job forged = jobs[0];
    forged.ticket += 1000;
    CHECK_FALSE(s.onResult(forged, Outcome::ok(), kT0 + 1s).has_value());
    CHECK(s.stats(kT0 + 1s).inFlight == 2);
  }
}

TEST_CASE("A removed and re-added instance never gets a second request in flight") {
  ProbeScheduler s(SchedulerConfig{}, 8);
  s.upsertInstance(newInstance(1), kT0);
  const auto jobs = s.takeDue(kT0, 10);
  REQUIRE(jobs.size() == 1);
  s.removeInstance(1);
  s.upsertInstance(newInstance(1), kT0 + 1s);
  CHECK(s.takeDue(kT0 + 1s, 10).empty());
  s.onResult(jobs[0], Outcome::stateReading("authorized"), kT0 + 2s);
  CHECK(s.nextWakeup().has_value());
}

TEST_CASE("A removed instance registered again keeps its pacing: no request within the limit") {
  ProbeScheduler s(SchedulerConfig{}, 8);
  s.upsertInstance(newInstance(1), kT0);
  auto jobs = s.takeDue(kT0, 10);
  REQUIRE(jobs.size() == 1);
  s.onResult(jobs[0], Outcome::stateReading("authorized"), kT0 + 10ms);
  SteadyTime finished = kT0 + 10ms;
  SteadyTime again = kT0 + 100ms;
  SUBCASE("deleted and registered again") {
    REQUIRE(s.removeInstance(1));
    s.upsertInstance(newInstance(1), again);
  }
  SUBCASE("removed while in flight, registered again after the answer") {
    REQUIRE(s.requestAction(1, Method::getStateInstance, kT0 + 2s).status == ActionStatus::queued);
    jobs = s.takeDue(kT0 + 2s, 10);
    REQUIRE(jobs.size() == 1);
    REQUIRE(s.removeInstance(1));
    finished = kT0 + 2100ms;
    CHECK_FALSE(s.onResult(jobs[0], Outcome::stateReading("authorized"), finished).has_value());
    again = kT0 + 2200ms;
    s.upsertInstance(newInstance(1), again);
  }
  CHECK(s.takeDue(again, 10).empty());
  const auto at = s.nextWakeup();
  REQUIRE(at.has_value());
  CHECK(*at >= jobs[0].startedAt + 1250ms);
  CHECK(*at >= finished + 1250ms);
  CHECK(s.takeDue(*at, 10).size() == 1);
}

TEST_CASE("An instance loaded at start is not probed within one period of the start") {
  ProbeScheduler s(SchedulerConfig{}, 8);
  for (fleet::InstanceId id = 1; id <= 200; ++id)
    s.upsertInstance(loadedInstance(id, "authorized"), kT0);
  CHECK(s.takeDue(kT0 + 1249ms, 1000).empty());
  CHECK_FALSE(s.takeDue(kT0 + 1250ms, 1000).empty());
}

TEST_CASE("A 429 backs off that instance and method with growing delays, and success resets it") {
  SchedulerConfig cfg;
  ProbeScheduler s(cfg, 9);
  s.upsertInstance(newInstance(1), kT0);
  SchedulerDriver d{s};
  int calls = 0;
  d.respond = [&](const Job&) {
    return ++calls <= 6 ? Outcome::failure(OutcomeKind::rateLimited)
                        : Outcome::stateReading("authorized");
  };
  d.runUntil(kT0 + 10min);
  const auto jobs = d.jobsOf(1);
  REQUIRE(jobs.size() >= 8);
  for (std::size_t i = 1; i < 7; ++i) {
    const Duration gap = jobs[i].startedAt - jobs[i - 1].startedAt;
    CHECK(gap >= 1250ms);                        // the bucket/completion spacing still holds
    CHECK(gap <= 2s * (1 << (i - 1)) + 1250ms);  // full jitter under base * 2^(n-1)
  }
  // After the success the regular interval applies again (no leftover backoff).
  const Duration after_ok = jobs[7].startedAt - jobs[6].startedAt;
  CHECK(after_ok >= 54s);
  CHECK(after_ok <= 66s);
  CHECK(s.stats(jobs[6].startedAt).rateLimited5m == 6);
}

TEST_CASE("Outages back off and, after five in a row, the instance is unreachable") {
  ProbeScheduler s(SchedulerConfig{}, 10);
  s.upsertInstance(loadedInstance(1, "authorized"), kT0);
  SchedulerDriver d{s};
  d.respond = [](const Job&) { return Outcome::failure(OutcomeKind::timeout, "read timed out"); };
  d.runUntil(kT0 + 5min);
  REQUIRE(d.jobsOf(1).size() >= 5);
  const auto* st = s.status(1);
  REQUIRE(st);
  CHECK(st->consecutiveFailures >= 5);
  CHECK(st->attention == fleet::Attention::unreachable);
  CHECK(st->lastError == "read timed out");
}

TEST_CASE("Confirm before alarm: a worse reading triggers a confirming probe a few seconds later") {
  SchedulerConfig cfg;
  cfg.sessions.autoStartOnNotAuthorized = false;
  ProbeScheduler s(cfg, 11);
  s.upsertInstance(loadedInstance(1, "authorized"), kT0);
  auto jobs = s.takeDue(kT0 + 60s, 10);
  REQUIRE(jobs.size() == 1);
  const SteadyTime t1 = jobs[0].startedAt + 200ms;
  auto u = s.onResult(jobs[0], Outcome::stateReading("notAuthorized"), t1);
  REQUIRE(u.has_value());
  CHECK(u->confirmationPending);
  CHECK_FALSE(u->transition.has_value());
  CHECK(u->status.state.raw() == "authorized");
  CHECK(u->status.lastObservedState.raw() == "notAuthorized");
  CHECK(u->nextProbeAt == t1 + 5s);
  jobs = s.takeDue(t1 + 5s, 10);
  REQUIRE(jobs.size() == 1);
  CHECK(jobs[0].reason == JobReason::confirm);
  SUBCASE("confirmed") {
    u = s.onResult(jobs[0], Outcome::stateReading("notAuthorized"), t1 + 5200ms);
    REQUIRE(u->transition.has_value());
    CHECK(u->transition->at == t1);
    CHECK(u->status.attention == fleet::Attention::needsScan);
    CHECK(u->attentionChanged);
  }
  SUBCASE("dismissed") {
    u = s.onResult(jobs[0], Outcome::stateReading("authorized"), t1 + 5200ms);
    CHECK_FALSE(u->transition.has_value());
    CHECK(u->status.attention == fleet::Attention::none);
    CHECK_FALSE(u->status.pending.has_value());
  }
}

TEST_CASE("A webhook reporting a worse state is confirmed by a probe before it is stored") {
  SchedulerConfig cfg;
  cfg.sessions.autoStartOnNotAuthorized = false;
  ProbeScheduler s(cfg, 12);
  s.upsertInstance(loadedInstance(1, "authorized"), kT0);
  const auto u = s.applyWebhookState(1, "blocked", kT0 + 10s);
  REQUIRE(u.has_value());
  CHECK(u->confirmationPending);
  CHECK(u->nextProbeAt == kT0 + 15s);
  const auto jobs = s.takeDue(kT0 + 15s, 10);
  REQUIRE(jobs.size() == 1);
  CHECK(jobs[0].reason == JobReason::confirm);
  CHECK_FALSE(s.applyWebhookState(999, "authorized", kT0).has_value());
}

TEST_CASE(
    "Operator actions are queued, coalesced, and refused with a retry-after when rate limited") {
  ProbeScheduler s(SchedulerConfig{}, 13);
  s.upsertInstance(loadedInstance(1, "authorized"), kT0);
  SUBCASE("a poll runs now with reason action") {
    const auto a = s.requestAction(1, Method::getStateInstance, kT0);
    CHECK(a.status == ActionStatus::queued);
    CHECK(a.expectedAt == kT0);
    const auto jobs = s.takeDue(kT0, 10);
    REQUIRE(jobs.size() == 1);
    CHECK(jobs[0].reason == JobReason::action);
    CHECK(s.requestAction(1, Method::getStateInstance, kT0).status == ActionStatus::alreadyQueued);
  }
  SUBCASE("a second logout while one is queued is coalesced") {
    CHECK(s.requestAction(1, Method::logout, kT0).status == ActionStatus::queued);
    CHECK(s.requestAction(1, Method::reboot, kT0).status == ActionStatus::alreadyQueued);
    const auto jobs = s.takeDue(kT0, 10);
    REQUIRE(jobs.size() == 1);
    CHECK(jobs[0].method == Method::logout);
    CHECK(jobs[0].reason == JobReason::action);
    SUBCASE("a successful logout is followed by a state probe") {
      const auto u = s.onResult(jobs[0], Outcome::ok(), kT0 + 100ms);
      REQUIRE(u.has_value());
      CHECK(u->nextProbeAt == kT0 + 3100ms);
    }
  }
  SUBCASE("qr is not an action") {
    CHECK(s.requestAction(1, Method::qr, kT0).status == ActionStatus::unsupported);
  }
  SUBCASE("an action during a long backoff is refused with retry-after") {
    s.requestAction(1, Method::reboot, kT0);
    SteadyTime t = kT0;
    for (int i = 0; i < 8; ++i) {  // keep answering 429 until the backoff is long
      auto jobs = s.takeDue(t, 10);
      while (jobs.empty()) {
        t = *s.nextWakeup();
        jobs = s.takeDue(t, 10);
      }
      s.onResult(jobs[0],
                 jobs[0].method == Method::reboot ? Outcome::failure(OutcomeKind::rateLimited)
                                                  : Outcome::stateReading("authorized"),
                 t);
    }
    // Find the moment the reboot backoff exceeds the 10 s action wait.
    const auto a = s.requestAction(1, Method::reboot, t);
    if (a.status == ActionStatus::rateLimited) {
      CHECK(a.retryAfter > 10s);
      CHECK(a.expectedAt == t + a.retryAfter);
    } else {
      CHECK(a.status == ActionStatus::alreadyQueued);  // re-queued after the 429 itself
    }
  }
  CHECK(s.requestAction(42, Method::reboot, kT0).status == ActionStatus::unknownInstance);
}

TEST_CASE(
    "An operator reboot is refused while its method backs off for longer than the action wait") {
  SchedulerConfig cfg;
  cfg.actionMaxWait = 1s;
  cfg.backoffBase = 60s;
  cfg.backoffCap = 60s;
  ProbeScheduler s(cfg, 14);
  s.upsertInstance(loadedInstance(1, "authorized"), kT0);
  REQUIRE(s.requestAction(1, Method::reboot, kT0).status == ActionStatus::queued);
  const auto jobs = s.takeDue(kT0, 10);
  REQUIRE(jobs.size() == 1);
  // 5xx is not re-queued; the backoff still applies to the next request.
  s.onResult(jobs[0], Outcome::failure(OutcomeKind::serverError), kT0);
  std::optional<ActionDecision> refused;
  for (std::uint64_t i = 0; i < 50 && !refused; ++i) {
    const auto a = s.requestAction(1, Method::reboot, kT0 + 1250ms);
    if (a.status == ActionStatus::rateLimited)
      refused = a;
    else
      break;
  }
  // Full jitter may draw a short delay; when it is long, the refusal carries a retry-after.
  if (refused) {
    CHECK(refused->retryAfter > 1s);
    CHECK(refused->retryAfter <= 60s);
  }
}

TEST_CASE("A host whose requests keep failing is paused and other hosts carry on") {
  SchedulerConfig cfg;
  ProbeScheduler s(cfg, 15);
  for (fleet::InstanceId id = 1; id <= 40; ++id)
    s.upsertInstance(newInstance(id, "bad.example"), kT0);
  s.upsertInstance(newInstance(100, "good.example"), kT0);
  auto jobs = s.takeDue(kT0, 100);
  REQUIRE(jobs.size() == 41);
  for (const Job& j : jobs) {
    s.onResult(j,
               j.id == 100 ? Outcome::stateReading("authorized")
                           : Outcome::failure(OutcomeKind::serverError),
               kT0 + 1s);
  }
  const auto st = s.stats(kT0 + 1s);
  CHECK(st.hostsPaused == 1);
  CHECK(st.breakerTrips == 1);
  CHECK(s.requestAction(100, Method::getStateInstance, kT0 + 3s).status == ActionStatus::queued);
  // During the pause only the good host's work runs.
  for (SteadyTime t = kT0 + 3s; t < kT0 + 15s; t += 500ms) {
    for (const Job& j : s.takeDue(t, 100)) {
      CHECK(j.id == 100);
      s.onResult(j, Outcome::stateReading("authorized"), t);
    }
  }
  const auto after = s.takeDue(kT0 + 17s, 100);
  CHECK(after.size() >= 30);  // released when the pause ends (backoffs permitting)
}

TEST_CASE("Lateness and rates are reported for the summary") {
  SchedulerConfig cfg;
  cfg.maxInFlightPerHost = 1;
  ProbeScheduler s(cfg, 16);
  s.upsertInstance(newInstance(1), kT0);
  s.upsertInstance(newInstance(2), kT0);
  auto jobs = s.takeDue(kT0, 10);
  REQUIRE(jobs.size() == 1);
  s.onResult(jobs[0], Outcome::failure(OutcomeKind::rateLimited), kT0 + 3s);
  jobs = s.takeDue(kT0 + 3s, 10);
  REQUIRE(jobs.size() == 1);
  s.onResult(jobs[0], Outcome::stateReading("authorized"), kT0 + 3s);
  const auto st = s.stats(kT0 + 3s);
  CHECK(st.instances == 2);
  CHECK(st.latenessSamples == 2);
  CHECK(st.latenessP50 == Duration::zero());
  CHECK(st.latenessP99 == 3s);
  CHECK(st.rateLimited5m == 1);
  CHECK(st.outcomes5m[0] == 1);
  CHECK(st.startsPerSecond == doctest::Approx(2.0 / 60.0));
  CHECK(s.stats(kT0 + 10min).rateLimited5m == 0);
}

TEST_CASE(
    "With 100k instances takeDue returns exactly the due work and every instance gets probed") {
  SchedulerConfig cfg;
  cfg.maxRps = 1e7;
  cfg.maxBurst = 1000000;
  cfg.maxInFlightPerHost = 1000000;
  ProbeScheduler s(cfg, 17);
  constexpr fleet::InstanceId kCount = 100000;
  for (fleet::InstanceId id = 1; id <= kCount; ++id) {
    s.upsertInstance(loadedInstance(id, "authorized", kT0, "h" + std::to_string(id % 7)), kT0);
  }
  // Ids removed before their first probe must never appear.
  for (fleet::InstanceId id = 10; id <= kCount; id += 1000) s.removeInstance(id);
  std::vector<int> probes(kCount + 1, 0);
  std::size_t total = 0;
  for (SteadyTime t = kT0; t <= kT0 + 60s; t += 250ms) {
    const auto jobs = s.takeDue(t, 1000000);
    for (const Job& j : jobs) {
      REQUIRE(j.dueAt <= t);
      REQUIRE(j.id % 1000 != 10);
      ++probes[static_cast<std::size_t>(j.id)];
      s.onResult(j, Outcome::stateReading("authorized"), t);
    }
    total += jobs.size();
    const auto wake = s.nextWakeup();
    REQUIRE(wake.has_value());
    CHECK(*wake > t);
  }
  // Everyone once within the first interval; some (early offsets) a second time after 54-66 s.
  CHECK(std::count(probes.begin() + 1, probes.end(), 0) == 100);
  CHECK(std::count_if(probes.begin() + 1, probes.end(), [](int n) { return n > 2; }) == 0);
  CHECK(total < kCount + kCount / 10);
  // The heap holds about one live item per instance, not one per change.
  CHECK(s.stats(kT0 + 60s).heapEntries <= 2 * kCount + 1024);
}

namespace {

Outcome scanUpstream(const Job& j) {
  return j.method == Method::qr ? Outcome::qrAnswer("qrCode", "iVBORw0KGgo=")
                                : Outcome::stateReading("notAuthorized");
}

std::vector<Job> qrJobs(const SchedulerDriver& d, fleet::InstanceId id) {
  std::vector<Job> out;
  for (const Job& j : d.jobsOf(id)) {
    if (j.method == Method::qr) out.push_back(j);
  }
  return out;
}

}  // namespace

TEST_CASE("A scan session polls qr every second and keeps the latest QR for 20 seconds") {
  ProbeScheduler s(SchedulerConfig{}, 20);
  s.upsertInstance(loadedInstance(1, "notAuthorized"), kT0);
  const auto started = s.startSession(1, kT0);
  CHECK(started.status == SessionStartStatus::started);
  CHECK(started.until == kT0 + 120s);
  SchedulerDriver d{s};
  d.respond = scanUpstream;
  d.runUntil(kT0 + 10s);
  const auto polls = qrJobs(d, 1);
  REQUIRE(polls.size() >= 10);
  for (std::size_t i = 1; i < polls.size(); ++i) {
    CHECK(polls[i].startedAt - polls[i - 1].startedAt == 1s);
    CHECK(polls[i].reason == JobReason::session);
  }
  const auto qr = s.latestQr(1, kT0 + 10s);
  REQUIRE(qr.has_value());
  CHECK(qr->kind == fleet::QrKind::qrCode);
  CHECK(qr->message == "iVBORw0KGgo=");
  CHECK(qr->expiresAt == qr->fetchedAt + 20s);
  CHECK_FALSE(s.latestQr(1, qr->fetchedAt + 20s).has_value());
  CHECK(s.status(1)->qrOffered);
}

TEST_CASE("A scan session ends after 120 s without a fetch and each fetch extends it") {
  ProbeScheduler s(SchedulerConfig{}, 21);
  s.upsertInstance(loadedInstance(1, "notAuthorized"), kT0);
  REQUIRE(s.startSession(1, kT0).status == SessionStartStatus::started);
  SchedulerDriver d{s};
  d.respond = scanUpstream;
  SUBCASE("untouched") {
    d.runUntil(kT0 + 119s);
    CHECK(s.session(1, d.now).has_value());
    d.runUntil(kT0 + 130s);
    CHECK_FALSE(s.session(1, d.now).has_value());
    CHECK(qrJobs(d, 1).back().startedAt < kT0 + 120s);
    CHECK(s.stats(d.now).activeSessions == 0);
  }
  SUBCASE("touched at 100 s") {
    d.runUntil(kT0 + 100s);
    CHECK(s.touchSession(1, kT0 + 100s));
    CHECK(s.session(1, kT0 + 100s)->endsAt == kT0 + 220s);
    d.runUntil(kT0 + 219s);
    CHECK(s.session(1, d.now).has_value());
    CHECK(qrJobs(d, 1).back().startedAt >= kT0 + 218s);
  }
  SUBCASE("starting it again extends it too") {
    const auto again = s.startSession(1, kT0 + 50s);
    CHECK(again.status == SessionStartStatus::alreadyActive);
    CHECK(again.until == kT0 + 170s);
  }
  CHECK_FALSE(s.touchSession(999, kT0));
}

TEST_CASE("Scan sessions never poll longer than 4 minutes in a row, then cool down for 2") {
  ProbeScheduler s(SchedulerConfig{}, 22);
  s.upsertInstance(loadedInstance(1, "notAuthorized"), kT0);
  REQUIRE(s.startSession(1, kT0).status == SessionStartStatus::started);
  SchedulerDriver d{s};
  d.respond = scanUpstream;
  for (SteadyTime t = kT0; t < kT0 + 6min; t += 10s) {
    d.runUntil(t);
    s.touchSession(1, t);  // someone keeps fetching the QR
  }
  const auto polls = qrJobs(d, 1);
  REQUIRE_FALSE(polls.empty());
  CHECK(polls.back().startedAt < kT0 + 4min);
  CHECK(polls.back().startedAt >= kT0 + 4min - 2s);
  CHECK_FALSE(s.session(1, kT0 + 4min).has_value());
  const auto refused = s.startSession(1, kT0 + 5min);
  CHECK(refused.status == SessionStartStatus::coolingDown);
  CHECK(refused.until == kT0 + 6min);
  SUBCASE("after the cooldown a fresh run may start") {
    const auto again = s.startSession(1, kT0 + 6min);
    CHECK(again.status == SessionStartStatus::started);
    CHECK(again.until == kT0 + 8min);
  }
  SUBCASE("a session restarted within the cooldown continues the previous run's budget") {
    ProbeScheduler s2(SchedulerConfig{}, 23);
    s2.upsertInstance(loadedInstance(1, "notAuthorized"), kT0);
    REQUIRE(s2.startSession(1, kT0).status == SessionStartStatus::started);
    SchedulerDriver d2{s2};
    d2.respond = scanUpstream;
    d2.runUntil(kT0 + 125s);  // idle end at 120 s
    REQUIRE_FALSE(s2.session(1, d2.now).has_value());
    const auto cont = s2.startSession(1, kT0 + 150s);
    CHECK(cont.status == SessionStartStatus::started);
    CHECK(s2.session(1, kT0 + 150s)->runCapAt == kT0 + 4min);
  }
}

TEST_CASE("alreadyLogged ends the session and triggers a state probe at once") {
  ProbeScheduler s(SchedulerConfig{}, 24);
  s.upsertInstance(loadedInstance(1, "notAuthorized"), kT0);
  REQUIRE(s.startSession(1, kT0).status == SessionStartStatus::started);
  auto jobs = s.takeDue(kT0 + 20s, 10);  // first the state probe if due; run until a qr job
  while (jobs.empty() || jobs[0].method != Method::qr) {
    if (!jobs.empty())
      s.onResult(jobs[0], Outcome::stateReading("notAuthorized"), jobs[0].startedAt);
    jobs = s.takeDue(*s.nextWakeup(), 10);
  }
  const SteadyTime t = jobs[0].startedAt + 300ms;
  const auto u = s.onResult(
      jobs[0], Outcome::qrAnswer("alreadyLogged", "instance account already authorized"), t);
  REQUIRE(u.has_value());
  CHECK(u->sessionEnded == SessionEnd::alreadyLogged);
  CHECK_FALSE(s.session(1, t).has_value());
  CHECK_FALSE(s.latestQr(1, t).has_value());
  const auto next = s.takeDue(t + 1250ms, 10);
  REQUIRE(next.size() == 1);
  CHECK(next[0].method == Method::getStateInstance);
  CHECK(next[0].reason == JobReason::session);
}

TEST_CASE("A state other than notAuthorized ends the session, from a probe or a webhook") {
  SchedulerConfig cfg;
  ProbeScheduler s(cfg, 25);
  s.upsertInstance(loadedInstance(1, "notAuthorized"), kT0);
  s.upsertInstance(loadedInstance(2, "notAuthorized"), kT0);
  REQUIRE(s.startSession(1, kT0).status == SessionStartStatus::started);
  REQUIRE(s.startSession(2, kT0).status == SessionStartStatus::started);
  SUBCASE("a probe reads starting (issue #285)") {
    REQUIRE(s.requestAction(1, Method::getStateInstance, kT0).status == ActionStatus::queued);
    const auto jobs = s.takeDue(kT0, 10);
    const auto it = std::find_if(jobs.begin(), jobs.end(), [](const Job& j) { return j.id == 1; });
    REQUIRE(it != jobs.end());
    REQUIRE(it->method == Method::getStateInstance);
    const auto u = s.onResult(*it, Outcome::stateReading("starting"), kT0 + 1s);
    CHECK(u->sessionEnded == SessionEnd::stateChanged);
    CHECK_FALSE(s.session(1, kT0 + 1s).has_value());
  }
  SUBCASE("a webhook reports authorized") {
    const auto u = s.applyWebhookState(2, "authorized", kT0 + 2s);
    REQUIRE(u.has_value());
    CHECK(u->sessionEnded == SessionEnd::stateChanged);
    REQUIRE(u->transition.has_value());  // better: adopted at once
    CHECK(u->transition->source == fleet::ReadingSource::webhook);
    CHECK_FALSE(s.session(2, kT0 + 2s).has_value());
    CHECK(s.stats(kT0 + 2s).activeSessions == 1);
  }
}

TEST_CASE("Concurrent scan sessions are capped and only instances that need a scan get one") {
  SchedulerConfig cfg;
  cfg.sessions.maxConcurrent = 2;
  ProbeScheduler s(cfg, 26);
  for (fleet::InstanceId id = 1; id <= 3; ++id)
    s.upsertInstance(loadedInstance(id, "notAuthorized"), kT0);
  s.upsertInstance(loadedInstance(4, "authorized"), kT0);
  CHECK(s.startSession(4, kT0).status == SessionStartStatus::notNeeded);
  CHECK(s.startSession(1, kT0).status == SessionStartStatus::started);
  CHECK(s.startSession(2, kT0).status == SessionStartStatus::started);
  CHECK(s.startSession(3, kT0).status == SessionStartStatus::capReached);
  CHECK(s.startSession(99, kT0).status == SessionStartStatus::unknownInstance);
  s.removeInstance(1);
  CHECK(s.startSession(3, kT0).status == SessionStartStatus::started);
}

TEST_CASE("Entering notAuthorized starts a scan session automatically unless disabled") {
  for (const bool enabled : {true, false}) {
    CAPTURE(enabled);
    SchedulerConfig cfg;
    cfg.sessions.autoStartOnNotAuthorized = enabled;
    ProbeScheduler s(cfg, 27);
    s.upsertInstance(loadedInstance(1, "authorized"), kT0);
    SchedulerDriver d{s};
    d.respond = scanUpstream;
    d.runUntil(kT0 + 70s);  // first probe (notAuthorized), confirm 5 s later
    bool started = false;
    for (const auto& u : d.updates) started = started || u.sessionStarted;
    CHECK(started == enabled);
    CHECK(s.session(1, d.now).has_value() == enabled);
    CHECK(qrJobs(d, 1).empty() == !enabled);
    CHECK(s.status(1)->state.raw() == "notAuthorized");
  }
}

TEST_CASE(
    "Arrivals upstream never exceed the per-method limit in any sliding second, whatever the "
    "latency") {
  // Green API and the emulator count arrivals; requests take a random time to get there and back.
  SchedulerConfig cfg;
  cfg.sessions.maxConcurrent = 100;
  ProbeScheduler s(cfg, 28);
  constexpr int kInstances = 20;
  for (fleet::InstanceId id = 1; id <= kInstances; ++id) {
    s.upsertInstance(loadedInstance(id, id % 2 ? "notAuthorized" : "authorized"), kT0);
  }
  base::Rng rng(99);
  auto rand_ms = [&](double max_ms) {
    return std::chrono::duration_cast<Duration>(
        std::chrono::duration<double, std::milli>(base::uniformUnit(rng) * max_ms));
  };
  struct Pending {
    SteadyTime done;
    Job job;
  };
  std::vector<Pending> pending;
  std::map<std::pair<fleet::InstanceId, Method>, std::vector<SteadyTime>> arrivals;
  SteadyTime t = kT0;
  const SteadyTime end = kT0 + 10min;
  while (t < end) {
    // Operators hammer the API: polls, reboots, QR fetches, at random.
    if (base::uniformUnit(rng) < 0.3) {
      const auto id = static_cast<fleet::InstanceId>(1 + rng() % kInstances);
      const Method m = std::array{Method::getStateInstance, Method::reboot, Method::logout,
                                  Method::getWaSettings}[rng() % 4];
      s.requestAction(id, m, t);
      if (s.startSession(id, t).status == SessionStartStatus::alreadyActive) s.touchSession(id, t);
    }
    for (const Job& j : s.takeDue(t, 1000)) {
      const SteadyTime arrive = t + rand_ms(400);  // uplink
      arrivals[{j.id, j.method}].push_back(arrive);
      pending.push_back({arrive + rand_ms(1500), j});
    }
    std::sort(pending.begin(), pending.end(),
              [](const Pending& a, const Pending& b) { return a.done < b.done; });
    SteadyTime next = t + rand_ms(300);
    if (auto w = s.nextWakeup()) next = std::min(next, std::max(*w, t + Duration(1)));
    if (!pending.empty()) next = std::min(next, std::max(pending.front().done, t));
    t = next;
    while (!pending.empty() && pending.front().done <= t) {
      const Job j = pending.front().job;
      pending.erase(pending.begin());
      const double u = base::uniformUnit(rng);
      Outcome o = j.method == Method::qr ? Outcome::qrAnswer("qrCode", "x")
                  : j.method == Method::reboot || j.method == Method::logout
                      ? Outcome::ok()
                      : Outcome::stateReading(j.id % 2 ? "notAuthorized" : "authorized");
      if (u < 0.1)
        o = Outcome::failure(OutcomeKind::rateLimited);
      else if (u < 0.15)
        o = Outcome::failure(OutcomeKind::timeout);
      s.onResult(j, o, t);
    }
  }
  std::size_t qr_total = 0;
  for (auto& [key, times] : arrivals) {
    std::sort(times.begin(), times.end());
    const std::size_t limit = key.second == Method::qr ? 2 : 1;
    std::size_t lo = 0;
    for (std::size_t hi = 0; hi < times.size(); ++hi) {
      while (times[hi] - times[lo] >= 1s) ++lo;
      CAPTURE(key.first);
      CAPTURE(methodName(key.second));
      REQUIRE(hi - lo + 1 <= limit);
    }
    if (key.second == Method::qr) qr_total += times.size();
  }
  CHECK(qr_total > 1000);  // the test exercised sessions
  CHECK(arrivals.size() > 50);
}

TEST_CASE("An update that moves only the probe times is persisted at most once per interval") {
  SchedulerConfig cfg;
  cfg.sessions.autoStartOnNotAuthorized = false;
  cfg.attention.probes.authorized = 2s;
  cfg.attention.probes.jitterFraction = 0;
  cfg.checkedWriteInterval = 10s;
  ProbeScheduler s(cfg, 3);
  s.upsertInstance(newInstance(1), kT0);
  SchedulerDriver d{s};
  d.runUntil(kT0 + 31s);
  REQUIRE(d.updates.size() >= 14);
  std::vector<SteadyTime> persisted;
  for (std::size_t i = 0; i < d.updates.size(); ++i) {
    if (i > 0) CHECK(d.updates[i].seq > d.updates[i - 1].seq);
    if (d.updates[i].persist) persisted.push_back(d.updates[i].status.lastCheckedAt.value());
  }
  CHECK(d.updates.front().persist);  // the first reading changes the state
  REQUIRE(persisted.size() == 4);    // ~0, ~10, ~20, ~30 s
  for (std::size_t i = 1; i < persisted.size(); ++i) {
    CHECK(persisted[i] - persisted[i - 1] >= 10s);
    CHECK(persisted[i] - persisted[i - 1] <= 12s);
  }

  // A change is persisted at once, whatever the interval says.
  d.respond = [](const Job&) { return Outcome::failure(OutcomeKind::serverError, "HTTP 502"); };
  d.updates.clear();
  d.runUntil(d.now + 2s);
  REQUIRE_FALSE(d.updates.empty());
  CHECK(d.updates.front().persist);
  CHECK(d.updates.front().seq > persisted.size());

  // Back to health: the recovery is persisted, the next unchanged reading held back and then
  // handed out once, for a clean stop.
  d.respond = [](const Job&) { return Outcome::stateReading("authorized"); };
  d.updates.clear();
  d.runUntil(d.now + 7s);
  REQUIRE(d.updates.size() >= 2);
  CHECK(d.updates.front().persist);
  REQUIRE_FALSE(d.updates.back().persist);
  const auto held = s.takeUnpersisted();
  REQUIRE(held.size() == 1);
  CHECK(held[0].id == 1);
  CHECK(held[0].status.lastCheckedAt == d.updates.back().status.lastCheckedAt);
  CHECK(held[0].seq > d.updates.back().seq);
  CHECK(s.takeUnpersisted().empty());
}

TEST_CASE("With checkedWriteInterval zero every update is persisted") {
  SchedulerConfig cfg;
  cfg.attention.probes.authorized = 2s;
  cfg.checkedWriteInterval = Duration::zero();
  ProbeScheduler s(cfg, 4);
  s.upsertInstance(newInstance(1), kT0);
  SchedulerDriver d{s};
  d.runUntil(kT0 + 20s);
  REQUIRE(d.updates.size() >= 5);
  for (const auto& u : d.updates) CHECK(u.persist);
  CHECK(s.takeUnpersisted().empty());
}
