#include "scheduler/probe_stats.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace greenfleet::scheduler {

namespace {

constexpr std::size_t kSampleCapacity = 4096;
constexpr auto kLatenessWindow = std::chrono::seconds(60);

Duration percentile(std::vector<Duration>& values, double q) {
  if (values.empty()) return Duration::zero();
  // Nearest rank: the smallest value with at least q of the samples at or below it.
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
  const std::size_t k = std::clamp<std::size_t>(rank, 1, values.size()) - 1;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
  return values[k];
}

}  // namespace

ProbeStats::ProbeStats()
    : starts_(std::chrono::seconds(1), 60),
      outcomes_(fleet::kOutcomeKindCount, SlidingCounter(std::chrono::seconds(1), 300)) {
  samples_.reserve(kSampleCapacity);
}

void ProbeStats::recordStart(SteadyTime now, Duration lateness) {
  starts_.add(now);
  const Sample s{now, std::max(lateness, Duration::zero())};
  if (samples_.size() < kSampleCapacity) {
    samples_.push_back(s);
  } else {
    samples_[nextSample_] = s;
  }
  nextSample_ = (nextSample_ + 1) % kSampleCapacity;
}

void ProbeStats::recordOutcome(SteadyTime now, fleet::OutcomeKind kind) {
  outcomes_[static_cast<std::size_t>(kind)].add(now);
}

void ProbeStats::fill(SchedulerStats& out, SteadyTime now) const {
  out.startsPerSecond =
      static_cast<double>(starts_.sum(now)) / std::chrono::duration<double>(starts_.span()).count();
  out.outages5m = 0;
  for (std::size_t i = 0; i < outcomes_.size(); ++i) {
    out.outcomes5m[i] = outcomes_[i].sum(now);
    if (fleet::isOutage(static_cast<fleet::OutcomeKind>(i))) out.outages5m += out.outcomes5m[i];
  }
  out.rateLimited5m = out.outcomes5m[static_cast<std::size_t>(fleet::OutcomeKind::rateLimited)];
  std::vector<Duration> recent;
  recent.reserve(samples_.size());
  for (const auto& s : samples_) {
    if (now - s.at <= kLatenessWindow) recent.push_back(s.lateness);
  }
  out.latenessSamples = recent.size();
  out.latenessP50 = percentile(recent, 0.50);
  out.latenessP99 = percentile(recent, 0.99);
}

}  // namespace greenfleet::scheduler
