#pragma once
// SweepRunner: the server side of health sweeps. begin() picks the instances of a filter, asks
// the scheduler for an immediate state probe of each (through the same per-instance limits as
// everything else — a sweep never exceeds a Green API limit, and scan sessions keep their own
// qr budget), and stores the running sweep. A monitor thread counts, every tick, the instances
// whose probe finished since the sweep began; when all have (or the deadline passed), it waits
// for the status batch, builds the report from the stored rows and stores the finished sweep.
// Thread-safe.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.hpp"
#include "scheduler/fleet_poller.hpp"
#include "store/instance_repository.hpp"
#include "store/sweep_repository.hpp"
#include "sweep/sweep_run.hpp"

namespace greenfleet::sweep {

struct SweepRunnerOptions {
  std::chrono::milliseconds tick{250};
  std::chrono::seconds max_duration{900};  // instances not probed by then are reported unprobed
};

class SweepRunner {
 public:
  SweepRunner(scheduler::FleetPoller& poller, store::InstanceRepository& instances,
              store::SweepRepository& sweeps, std::function<void()> flush_status,
              const base::Clock& clock, SweepRunnerOptions options = {});
  ~SweepRunner();
  SweepRunner(const SweepRunner&) = delete;
  SweepRunner& operator=(const SweepRunner&) = delete;

  void start();
  void stop();

  SweepRun begin(const SweepFilter& filter, const std::string& created_by);
  std::optional<SweepRun> get(std::int64_t id);
  std::vector<SweepRun> list(std::size_t limit, std::optional<std::int64_t> before_id);
  // The current stored status as a report (no probes), for GET /api/v1/report.
  Report currentReport(const std::optional<std::string>& tag);

 private:
  struct Active {
    SweepRun run;
    std::vector<std::int64_t> ids;
    base::SteadyTime started{};
    std::string created_by;
  };
  void monitor();
  // Instances of `ids` whose probe finished after `since`.
  std::vector<std::int64_t> probedSince(const std::vector<std::int64_t>& ids,
                                        base::SteadyTime since) const;
  void finish(Active& active, const std::vector<std::int64_t>& probed);
  void save(const SweepRun& run);
  std::vector<store::InstanceRow> rowsMatching(const SweepFilter& filter);

  scheduler::FleetPoller& poller_;
  store::InstanceRepository& instances_;
  store::SweepRepository& sweeps_;
  std::function<void()> flush_status_;
  const base::Clock& clock_;
  const SweepRunnerOptions options_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::int64_t, Active> active_;
  bool running_ = false;
  std::thread thread_;
};

}  // namespace greenfleet::sweep
