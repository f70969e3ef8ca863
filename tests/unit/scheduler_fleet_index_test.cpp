#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <map>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/random.hpp"
#include "scheduler/fleet_index.hpp"
#include "scheduler/probe_scheduler.hpp"

using namespace greenfleet;
using namespace greenfleet::scheduler;
using namespace std::chrono_literals;

namespace {

const SteadyTime kT0 = SteadyTime(std::chrono::hours(1));

std::uint64_t below(base::Rng& rng, std::uint64_t n) { return rng() % n; }

Duration randomAge(base::Rng& rng, std::chrono::minutes at_most) {
  return std::chrono::seconds(below(rng, static_cast<std::uint64_t>(at_most.count()) * 60));
}

fleet::InstanceState randomState(base::Rng& rng) {
  switch (below(rng, 10)) {
    case 0:
      return {};  // unknown: never read
    case 1:
      return fleet::InstanceState::initializing();
    case 2:
      return fleet::InstanceState::fromRaw("someNewState");  // kept verbatim
    default: {
      static const std::array<const char*, 7> kStates{"authorized", "notAuthorized", "blocked",
                                                      "starting",   "sleepMode",     "yellowCard",
                                                      "suspended"};
      return fleet::InstanceState::fromRaw(kStates[below(rng, kStates.size())]);
    }
  }
}

// A status as a probe might leave it, with times around `now` that cross every threshold.
fleet::InstanceStatus randomStatus(base::Rng& rng, SteadyTime now) {
  auto s = fleet::InstanceStatus::registered(now - randomAge(rng, 30min));
  s.state = randomState(rng);
  s.stateSince = now - randomAge(rng, 15min);
  s.qrOffered = below(rng, 10) == 0;
  if (below(rng, 2) == 0) s.lastOkAt = now - randomAge(rng, 15min);
  if (below(rng, 4) != 0) s.lastReadingAt = now - randomAge(rng, 10min);
  s.consecutiveFailures = static_cast<int>(below(rng, 7));
  if (below(rng, 5) == 0) s.firstAuthFailureAt = now - randomAge(rng, 15min);
  return s;
}

struct Recomputed {
  FleetCounts counts;
  std::vector<fleet::InstanceId> needsScan;
};

// The full walk the index replaces.
template <typename ForEach>
Recomputed recompute(ForEach&& for_each, SteadyTime now, const fleet::AttentionRules& rules) {
  Recomputed out;
  std::vector<std::pair<SteadyTime, fleet::InstanceId>> scan;
  for_each([&](fleet::InstanceId id, const fleet::InstanceStatus& s) {
    const auto a = fleet::deriveAttention(s, now, rules);
    ++out.counts.instances;
    ++out.counts.byState[std::string(s.state.name())];
    ++out.counts.byAttention[static_cast<std::size_t>(a)];
    if (a == fleet::Attention::needsScan) scan.emplace_back(s.stateSince, id);
  });
  std::sort(scan.begin(), scan.end());
  for (const auto& [since, id] : scan) out.needsScan.push_back(id);
  out.counts.needsScan = scan.size();
  return out;
}

std::vector<fleet::InstanceId> needsScanOf(const FleetIndex& index, SteadyTime now) {
  std::vector<fleet::InstanceId> out;
  index.forEachNeedsScan(now, [&](fleet::InstanceId id) {
    out.push_back(id);
    return true;
  });
  return out;
}

void checkEqual(const FleetCounts& got, const Recomputed& want) {
  CHECK(got.instances == want.counts.instances);
  CHECK(got.byState == want.counts.byState);
  CHECK(got.byAttention == want.counts.byAttention);
  CHECK(got.needsScan == want.counts.needsScan);
}

}  // namespace

TEST_CASE("FleetIndex equals a full recomputation after 100,000 random status changes") {
  fleet::AttentionRules rules;
  std::unordered_map<fleet::InstanceId, fleet::InstanceStatus> truth;
  FleetIndex index(rules, [&](fleet::InstanceId id) -> const fleet::InstanceStatus* {
    const auto it = truth.find(id);
    return it == truth.end() ? nullptr : &it->second;
  });
  const auto walk = [&](auto&& visit) {
    for (const auto& [id, s] : truth) visit(id, s);
  };
  base::Rng rng(20260114);
  SteadyTime now = kT0;
  constexpr int kChanges = 100000;
  constexpr fleet::InstanceId kIds = 600;
  std::size_t mismatches = 0;
  for (int change = 1; change <= kChanges; ++change) {
    // Mostly small steps, sometimes long quiet spells that only time changes.
    now +=
        below(rng, 50) == 0 ? randomAge(rng, 20min) : std::chrono::milliseconds(below(rng, 3000));
    const auto id = static_cast<fleet::InstanceId>(1 + below(rng, kIds));
    if (below(rng, 20) == 0) {
      truth.erase(id);
      index.remove(id);
    } else {
      const auto status = randomStatus(rng, now);
      truth.insert_or_assign(id, status);
      index.update(id, truth.at(id), now);
    }
    if (change % 97 == 0 || change == kChanges) {
      const auto want = recompute(walk, now, rules);
      const auto got = index.counts(now);
      const bool same =
          got.instances == want.counts.instances && got.byState == want.counts.byState &&
          got.byAttention == want.counts.byAttention && needsScanOf(index, now) == want.needsScan;
      if (!same) {
        ++mismatches;
        checkEqual(got, want);
        CHECK(needsScanOf(index, now) == want.needsScan);
      }
    }
  }
  CHECK(mismatches == 0);
  CHECK(index.size() == truth.size());
  // One live timer per instance, plus superseded items not yet popped: bounded, not per update.
  CHECK(index.pendingTimers() <= 2 * truth.size() + 1024);
}

TEST_CASE("FleetIndex turns attention by time alone: grace, stuck starting and stale") {
  fleet::AttentionRules rules;  // grace 10 min, stuck after 10 min, stale after 3 intervals
  std::unordered_map<fleet::InstanceId, fleet::InstanceStatus> truth;
  FleetIndex index(rules, [&](fleet::InstanceId id) { return &truth.at(id); });
  SteadyTime now = kT0;

  auto rejected = fleet::InstanceStatus::registered(now);
  rejected.state = fleet::InstanceState::fromRaw("notAuthorized");
  rejected.stateSince = now;
  rejected.lastReadingAt = now;
  rejected.firstAuthFailureAt = now;
  auto starting = fleet::InstanceStatus::registered(now);
  starting.state = fleet::InstanceState::fromRaw("starting");
  starting.stateSince = now;
  starting.lastReadingAt = now;
  truth = {{1, rejected}, {2, starting}};
  index.update(1, truth.at(1), now);
  index.update(2, truth.at(2), now);
  CHECK(index.attention(1, now) == fleet::Attention::needsScan);
  CHECK(needsScanOf(index, now) == std::vector<fleet::InstanceId>{1});
  CHECK(index.attention(2, now) == fleet::Attention::none);

  now += rules.authGrace;
  CHECK(index.attention(1, now) == fleet::Attention::credentialsRejected);
  CHECK(needsScanOf(index, now).empty());
  truth.at(2).lastReadingAt = now;  // still starting, freshly read
  index.update(2, truth.at(2), now);
  CHECK(index.attention(2, now) == fleet::Attention::none);  // not yet strictly longer
  now += Duration(1);
  CHECK(index.attention(2, now) == fleet::Attention::stuckStarting);
  const auto counts = index.counts(now);
  CHECK(counts.byAttention[static_cast<std::size_t>(fleet::Attention::stuckStarting)] == 1);
  CHECK(counts.byAttention[static_cast<std::size_t>(fleet::Attention::credentialsRejected)] == 1);
  CHECK(counts.needsScan == 0);

  // A fresh reading resets it; silence long enough makes it stale.
  truth.at(2).state = fleet::InstanceState::fromRaw("authorized");
  truth.at(2).stateSince = now;
  truth.at(2).lastReadingAt = now;
  index.update(2, truth.at(2), now);
  CHECK(index.attention(2, now) == fleet::Attention::none);
  now += rules.staleAfter(fleet::StateKind::authorized) + Duration(1);
  CHECK(index.attention(2, now) == fleet::Attention::stale);
}

TEST_CASE("ProbeScheduler's index equals a full recomputation while it polls a changing fleet") {
  SchedulerConfig config;
  config.attention.authGrace = 2min;
  ProbeScheduler scheduler(config, 7);
  base::Rng rng(99);
  SteadyTime now = kT0;
  for (fleet::InstanceId id = 1; id <= 300; ++id) {
    std::optional<fleet::InstanceStatus> stored;
    if (id % 2 == 0) stored = randomStatus(rng, now);
    scheduler.upsertInstance(InstanceSpec{id, id % 3 == 0 ? "a" : "b", now, stored}, now);
  }
  const auto walk = [&](auto&& visit) { scheduler.forEachStatus(visit); };
  static const std::array<const char*, 5> kAnswers{"authorized", "notAuthorized", "starting",
                                                   "blocked", "yellowCard"};
  for (int step = 0; step < 2000; ++step) {
    now += std::chrono::milliseconds(below(rng, 4000));
    for (const Job& job : scheduler.takeDue(now, 64)) {
      Outcome outcome;
      switch (below(rng, 4)) {
        case 0:
          outcome = Outcome::failure(fleet::OutcomeKind::transportError, "down");
          break;
        case 1:
          outcome = Outcome::failure(fleet::OutcomeKind::unauthorized, "401");
          break;
        default:
          outcome = Outcome::stateReading(std::string(kAnswers[below(rng, kAnswers.size())]));
      }
      scheduler.onResult(job, outcome, now);
    }
    const auto id = static_cast<fleet::InstanceId>(1 + below(rng, 400));
    switch (below(rng, 40)) {
      case 0:
        scheduler.removeInstance(id);
        break;
      case 1:
        scheduler.upsertInstance(InstanceSpec{id, "c", now - 1min, std::nullopt}, now);
        break;
      case 2:
        scheduler.applyWebhookState(id, "notAuthorized", now);
        break;
      default:
        break;
    }
    if (step % 50 == 0) {
      const auto want = recompute(walk, now, config.attention);
      checkEqual(scheduler.index().counts(now), want);
      CHECK(needsScanOf(scheduler.index(), now) == want.needsScan);
    }
  }
}
