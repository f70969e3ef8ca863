#include "sweep/sweep_runner.hpp"

#include <algorithm>
#include <set>
#include <sstream>

#include <Poco/JSON/Parser.h>

#include "base/log.hpp"
#include "base/time_format.hpp"
#include "sweep/json_reader.hpp"
#include "sweep/report_json.hpp"

namespace greenfleet::sweep {

namespace {
const base::Log kLog{"sweep"};

std::string jsonText(const Poco::JSON::Object::Ptr& object) {
  std::ostringstream out;
  object->stringify(out);
  return out.str();
}

bool matches(const store::InstanceRow& row, const SweepFilter& f,
             const std::set<std::int64_t>& ids) {
  if (!row.instance.enabled) return false;
  if (f.ids && ids.count(row.instance.id) == 0) return false;
  if (f.tag && std::find(row.instance.tags.begin(), row.instance.tags.end(), *f.tag) ==
                   row.instance.tags.end()) {
    return false;
  }
  if (f.state && row.status.state.value_or("unknown") != *f.state) return false;
  if (f.attention && row.status.attention != *f.attention) return false;
  return true;
}
}  // namespace

SweepRunner::SweepRunner(scheduler::FleetPoller& poller, store::InstanceRepository& instances,
                         store::SweepRepository& sweeps, std::function<void()> flush_status,
                         const base::Clock& clock, SweepRunnerOptions options)
    : poller_(poller),
      instances_(instances),
      sweeps_(sweeps),
      flush_status_(std::move(flush_status)),
      clock_(clock),
      options_(options) {}

SweepRunner::~SweepRunner() { stop(); }

void SweepRunner::start() {
  const auto failed = sweeps_.failRunning(base::toUnixMillis(clock_.wallNow()));
  if (failed > 0) kLog.warn("event=sweeps_abandoned count={} reason=restart", failed);
  std::lock_guard lock(mutex_);
  running_ = true;
  thread_ = std::thread([this] { monitor(); });
}

void SweepRunner::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!running_) return;
    running_ = false;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::vector<store::InstanceRow> SweepRunner::rowsMatching(const SweepFilter& filter) {
  std::set<std::int64_t> ids;
  if (filter.ids) ids.insert(filter.ids->begin(), filter.ids->end());
  std::vector<store::InstanceRow> rows;
  instances_.forEachRow([&](const store::InstanceRow& row) {
    if (matches(row, filter, ids)) rows.push_back(row);
  });
  return rows;
}

SweepRun SweepRunner::begin(const SweepFilter& filter, const std::string& created_by) {
  const auto rows = rowsMatching(filter);
  Active active;
  active.created_by = created_by;
  active.started = clock_.steadyNow();
  active.run.created_at = clock_.wallNow();
  active.run.filter = filter;
  active.run.total = static_cast<std::int64_t>(rows.size());
  for (const auto& row : rows) {
    active.ids.push_back(row.instance.id);
    poller_.requestSweepProbe(row.instance.id);
  }
  active.run.id = sweeps_.create(base::toUnixMillis(active.run.created_at), created_by);
  save(active.run);
  kLog.info("event=sweep_started id={} instances={} by={}", active.run.id, rows.size(), created_by);
  SweepRun run = active.run;
  {
    std::lock_guard lock(mutex_);
    active_.emplace(run.id, std::move(active));
  }
  wake_.notify_all();
  return run;
}

std::optional<SweepRun> SweepRunner::get(std::int64_t id) {
  {
    std::lock_guard lock(mutex_);
    if (const auto it = active_.find(id); it != active_.end()) return it->second.run;
  }
  const auto stored = sweeps_.get(id);
  if (!stored) return std::nullopt;
  Poco::JSON::Parser parser;
  const auto object = parser.parse(stored->body).extract<Poco::JSON::Object::Ptr>();
  return sweepRunFromJson(JsonReader(object, "sweep"));
}

std::vector<SweepRun> SweepRunner::list(std::size_t limit, std::optional<std::int64_t> before_id) {
  std::vector<SweepRun> out;
  for (const auto& stored : sweeps_.list(limit, before_id)) {
    if (auto run = get(stored.id)) {
      run->report.reset();  // the list stays small; GET /sweeps/{id} has the report
      out.push_back(std::move(*run));
    }
  }
  return out;
}

Report SweepRunner::currentReport(const std::optional<std::string>& tag) {
  std::vector<store::InstanceRow> rows;
  // Disabled instances are counted (but never alarm), as in `greenfleet sweep --db`.
  instances_.forEachRow([&](const store::InstanceRow& row) {
    if (!tag || std::find(row.instance.tags.begin(), row.instance.tags.end(), *tag) !=
                    row.instance.tags.end()) {
      rows.push_back(row);
    }
  });
  return buildReport(rows, clock_.wallNow());
}

std::vector<std::int64_t> SweepRunner::probedSince(const std::vector<std::int64_t>& ids,
                                                   base::SteadyTime since) const {
  std::vector<std::int64_t> out;
  for (const auto id : ids) {
    const auto view = poller_.view(id);
    // Removed meanwhile counts as done: there is nothing left to probe.
    if (!view || (view->status.lastCheckedAt && *view->status.lastCheckedAt >= since)) {
      out.push_back(id);
    }
  }
  return out;
}

void SweepRunner::monitor() {
  std::unique_lock lock(mutex_);
  while (running_) {
    wake_.wait_for(lock, options_.tick, [this] { return !running_; });
    if (!running_) break;
    std::vector<std::int64_t> finished;
    for (auto& [id, active] : active_) {
      lock.unlock();
      const auto probed = probedSince(active.ids, active.started);
      const auto now = clock_.steadyNow();
      lock.lock();
      active.run.done = static_cast<std::int64_t>(probed.size());
      const auto elapsed = std::chrono::duration<double>(now - active.started).count();
      if (active.run.done > 0 && active.run.done < active.run.total) {
        active.run.eta_seconds = elapsed / static_cast<double>(active.run.done) *
                                 static_cast<double>(active.run.total - active.run.done);
      }
      if (active.run.done >= active.run.total || now - active.started >= options_.max_duration) {
        lock.unlock();
        finish(active, probed);
        lock.lock();
        finished.push_back(id);
      }
    }
    for (const auto id : finished) active_.erase(id);
  }
}

void SweepRunner::finish(Active& active, const std::vector<std::int64_t>& probed) {
  SweepRun run = active.run;
  try {
    if (flush_status_) flush_status_();
    SweepFilter by_ids;
    by_ids.ids = active.ids;
    const auto rows = rowsMatching(by_ids);
    Report report = buildReport(rows, clock_.wallNow());
    const std::set<std::int64_t> done(probed.begin(), probed.end());
    report.unprobed.clear();
    for (const auto& row : rows) {
      if (done.count(row.instance.id) == 0) {
        report.unprobed.push_back({row.instance.id, row.instance.name, "timeout"});
      }
    }
    run.report = std::move(report);
    run.status = SweepStatus::done;
  } catch (const std::exception& e) {
    kLog.error("event=sweep_failed id={} error=\"{}\"", run.id, e.what());
    run.status = SweepStatus::failed;
  }
  run.finished_at = clock_.wallNow();
  run.eta_seconds.reset();
  save(run);
  kLog.info("event=sweep_finished id={} status={} done={} total={}", run.id,
            sweepStatusName(run.status), run.done, run.total);
}

void SweepRunner::save(const SweepRun& run) {
  store::StoredSweep s;
  s.id = run.id;
  s.created_at_ms = base::toUnixMillis(run.created_at);
  if (run.finished_at) s.finished_at_ms = base::toUnixMillis(*run.finished_at);
  s.status = std::string(sweepStatusName(run.status));
  s.body = jsonText(toJson(run));
  sweeps_.save(s);
}

}  // namespace greenfleet::sweep
