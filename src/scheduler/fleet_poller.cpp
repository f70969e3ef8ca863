#include "scheduler/fleet_poller.hpp"

#include <algorithm>
#include <chrono>

#include "base/log.hpp"
#include "greenapi/typed_reply.hpp"

namespace greenfleet::scheduler {

namespace {
const base::Log kLog{"scheduler"};
// The dispatcher re-checks at least this often even with nothing due (sessions expire, stats).
constexpr auto kMaxIdleWait = std::chrono::milliseconds(500);

// Green API answers some states as HTTP 400 with text only (issue #571).
std::optional<std::string> stateFromBadRequest(const std::string& message) {
  if (message.find("starting process") != std::string::npos) return std::string("starting");
  if (message.find("not authorized") != std::string::npos) return std::string("notAuthorized");
  return std::nullopt;
}
}  // namespace

std::string hostOf(const std::string& api_url) {
  auto start = api_url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  const auto end = api_url.find_first_of("/?#", start);
  return api_url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

FleetPoller::FleetPoller(SchedulerConfig config, PollerOptions options,
                         greenapi::TransferEngine& engine, const base::Clock& clock,
                         UpdateSink sink)
    : config_(config),
      options_(options),
      engine_(engine),
      clock_(clock),
      sink_(std::move(sink)),
      core_(config, options.seed != 0 ? options.seed
                                      : static_cast<std::uint64_t>(
                                            clock.steadyNow().time_since_epoch().count())) {
  if (options_.on_attention) core_.setAttentionListener(options_.on_attention);
}

FleetPoller::~FleetPoller() { stop(); }

void FleetPoller::start() {
  std::lock_guard lock(mutex_);
  if (running_) return;
  running_ = true;
  dispatcher_ = std::thread([this] { dispatchLoop(); });
}

void FleetPoller::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!running_) return;
    running_ = false;
  }
  dispatch_wake_.notify_all();
  stream_wake_.notify_all();
  if (dispatcher_.joinable()) dispatcher_.join();
  {
    // Each stream thread sees running_ == false within a read or connect timeout.
    std::unordered_map<fleet::InstanceId, StreamThread> streams;
    {
      std::lock_guard lock(mutex_);
      streams.swap(streams_);
    }
    for (auto& [id, stream] : streams) stream.thread.join();
  }
  // Completions capture `this`: none may still be on its way when we return.
  std::vector<ProbeUpdate> held_back;
  {
    std::unique_lock lock(mutex_);
    drained_.wait(lock, [this] { return in_flight_ == 0 && completing_ == 0; });
    held_back = core_.takeUnpersisted();
    for (auto& update : held_back) startPublishLocked(update);
  }
  // The probe times the write throttle held back: a clean restart resumes from exact rows.
  for (const auto& update : held_back) publish(update);
}

void FleetPoller::upsertLocked(const fleet::RegisteredInstance& instance,
                               std::optional<fleet::InstanceStatus> stored, SteadyTime now,
                               const base::TimeAnchor& anchor) {
  if (!instance.enabled) {
    registry_.erase(instance.id);
    core_.removeInstance(instance.id);
    return;
  }
  registry_[instance.id] = Registered{api_urls_.intern(instance.api_url), instance.token,
                                      instance.name, tag_sets_.intern(instance.tags)};
  core_.upsertInstance(InstanceSpec{instance.id, hostOf(instance.api_url),
                                    anchor.toSteady(instance.created_at), std::move(stored)},
                       now);
  wake_requested_ = true;
}

void FleetPoller::upsert(const fleet::RegisteredInstance& instance,
                         std::optional<fleet::InstanceStatus> stored) {
  invalidateSnapshot();
  {
    std::lock_guard lock(mutex_);
    upsertLocked(instance, std::move(stored), clock_.steadyNow(), base::TimeAnchor::of(clock_));
  }
  dispatch_wake_.notify_one();
}

void FleetPoller::upsertMany(const std::vector<const fleet::RegisteredInstance*>& instances) {
  invalidateSnapshot();
  {
    std::lock_guard lock(mutex_);
    const auto now = clock_.steadyNow();
    const auto anchor = base::TimeAnchor::of(clock_);
    for (const auto* instance : instances) upsertLocked(*instance, std::nullopt, now, anchor);
  }
  dispatch_wake_.notify_one();
}

void FleetPoller::reserve(std::size_t instances) {
  std::lock_guard lock(mutex_);
  registry_.reserve(instances);
  core_.reserve(instances);
}

void FleetPoller::remove(fleet::InstanceId id) {
  invalidateSnapshot();
  std::lock_guard lock(mutex_);
  registry_.erase(id);
  core_.removeInstance(id);
}

ActionDecision FleetPoller::requestAction(fleet::InstanceId id, Method method) {
  invalidateSnapshot();
  ActionDecision decision;
  {
    std::lock_guard lock(mutex_);
    decision = core_.requestAction(id, method, clock_.steadyNow());
    wake_requested_ = true;
  }
  dispatch_wake_.notify_one();
  return decision;
}

SessionStart FleetPoller::startSession(fleet::InstanceId id) {
  invalidateSnapshot();
  SessionStart start;
  {
    std::lock_guard lock(mutex_);
    start = core_.startSession(id, clock_.steadyNow());
    wake_requested_ = true;
  }
  dispatch_wake_.notify_one();
  return start;
}

std::optional<ProbeUpdate> FleetPoller::applyWebhookState(fleet::InstanceId id,
                                                          std::optional<std::string> state) {
  invalidateSnapshot();
  std::optional<ProbeUpdate> update;
  {
    std::lock_guard lock(mutex_);
    update = core_.applyWebhookState(id, std::move(state), clock_.steadyNow());
    if (update) startPublishLocked(*update);
    wake_requested_ = true;
  }
  dispatch_wake_.notify_one();
  publish(update);
  return update;
}

bool FleetPoller::requestSweepProbe(fleet::InstanceId id) {
  bool ok = false;
  {
    std::lock_guard lock(mutex_);
    ok = core_.requestSweepProbe(id, clock_.steadyNow());
    wake_requested_ = true;
  }
  dispatch_wake_.notify_one();
  return ok;
}

InstanceView FleetPoller::makeView(fleet::InstanceId id, const Registered& reg,
                                   SteadyTime now) const {
  InstanceView v;
  v.id = id;
  v.name = reg.name;
  v.tags = *reg.tags;
  if (const auto* st = core_.status(id)) {
    v.status = *st;
    v.attention = fleet::deriveAttention(*st, now, config_.attention);
  }
  v.nextProbeAt = core_.nextProbeAt(id);
  v.session = core_.session(id, now);
  v.qr = core_.latestQr(id, now);
  return v;
}

std::optional<InstanceView> FleetPoller::view(fleet::InstanceId id) const {
  std::lock_guard lock(mutex_);
  const auto it = registry_.find(id);
  if (it == registry_.end() || !core_.contains(id)) return std::nullopt;
  return makeView(id, it->second, clock_.steadyNow());
}

std::vector<InstanceView> FleetPoller::needsScan() const {
  std::vector<InstanceView> out;
  std::lock_guard lock(mutex_);
  const auto now = clock_.steadyNow();
  core_.index().forEachNeedsScan(now, [&](fleet::InstanceId id) {
    if (const auto it = registry_.find(id); it != registry_.end()) {
      out.push_back(makeView(id, it->second, now));
    }
    return true;
  });
  return out;
}

std::shared_ptr<const FleetSnapshot> FleetPoller::snapshotIfFresh(bool* rebuilding) const {
  std::unique_lock lock(snapshot_mutex_, std::try_to_lock);
  if (rebuilding != nullptr) *rebuilding = !lock.owns_lock();
  if (!lock.owns_lock() || !snapshot_ || snapshot_stale_) return nullptr;
  if (clock_.steadyNow() - snapshot_->takenAt >= options_.snapshot_ttl) return nullptr;
  return snapshot_;
}

std::shared_ptr<const FleetSnapshot> FleetPoller::snapshot() const {
  std::lock_guard lock(snapshot_mutex_);
  const auto now = clock_.steadyNow();
  if (snapshot_ && !snapshot_stale_ && now - snapshot_->takenAt < options_.snapshot_ttl) {
    return snapshot_;
  }
  snapshot_stale_ = false;
  auto fresh = std::make_shared<FleetSnapshot>();
  fresh->takenAt = now;
  fresh->counts = counts();
  fresh->needsScan = needsScan();
  snapshot_ = std::move(fresh);
  return snapshot_;
}

SchedulerStats FleetPoller::stats() const {
  std::lock_guard lock(mutex_);
  return core_.stats(clock_.steadyNow());
}

FleetCounts FleetPoller::counts() const {
  std::lock_guard lock(mutex_);
  return core_.index().counts(clock_.steadyNow());
}

std::size_t FleetPoller::issueDueLocked(SteadyTime now,
                                        std::vector<greenapi::TransferEngine::Request>& batch) {
  const std::size_t cap = std::max<std::size_t>(1, options_.max_in_flight);
  const std::size_t free = cap > in_flight_ ? cap - in_flight_ : 0;
  if (free == 0) return 0;
  due_.clear();
  core_.takeDue(now, free, due_);
  for (const auto& job : due_) {
    const auto it = registry_.find(job.id);
    if (it == registry_.end()) {
      // Removed between scheduling and now: report so its slot is released.
      core_.onResult(job, Outcome::failure(fleet::OutcomeKind::transportError, "removed"), now);
      continue;
    }
    batch.push_back(requestFor(job, it->second.credentials(job.id)));
    ++in_flight_;
  }
  return free;
}

void FleetPoller::dispatchLoop() {
  std::vector<greenapi::TransferEngine::Request> batch;
  std::unique_lock lock(mutex_);
  while (running_) {
    wake_requested_ = false;
    reconcileStreamsLocked();
    const auto now = clock_.steadyNow();
    const std::size_t free = issueDueLocked(now, batch);
    const bool taken = !batch.empty();
    if (taken) {
      lock.unlock();
      engine_.submit(batch);  // empties the batch
      lock.lock();
      if (!running_) break;
    }
    // Due work gathers for a tick and goes out as one batch (one wake-up of the engine's loop).
    const auto tick = std::chrono::duration_cast<std::chrono::microseconds>(core_.dispatchTick());
    auto wait = std::chrono::duration_cast<std::chrono::microseconds>(kMaxIdleWait);
    if (const auto next = core_.nextWakeup()) {
      wait = std::clamp(std::chrono::duration_cast<std::chrono::microseconds>(*next - now), tick,
                        wait);
    }
    // At the cap, completions refill the slots themselves; work due but held back (host cap,
    // global rate) must not turn this loop into a spin. Paced by max_rps they leave it to this
    // loop, which then looks again after a tick rather than being woken by each of them.
    if (free == 0) wait = core_.rateIdle(now) ? kMaxIdleWait : tick;
    if (!taken) wait = std::max(wait, std::chrono::microseconds(std::chrono::milliseconds(1)));
    if (!wake_requested_) {
      dispatch_until_ = now + wait;
      dispatch_wake_.wait_for(lock, wait, [this] { return wake_requested_ || !running_; });
    }
  }
}

void FleetPoller::reconcileStreamsLocked() {
  for (auto it = streams_.begin(); it != streams_.end();) {
    if (!it->second.done->load()) {
      ++it;
      continue;
    }
    it->second.thread.join();  // it has left the lock for good: the join is immediate
    it = streams_.erase(it);
  }
  for (const auto id : core_.streamedSessions()) {
    if (streams_.count(id) != 0) continue;
    auto done = std::make_shared<std::atomic<bool>>(false);
    std::thread thread([this, id, done] {
      try {
        streamLoop(id);
      } catch (const std::exception& e) {
        kLog.error("event=qr_stream_failed id={} error=\"{}\"", id, e.what());
      }
      done->store(true);
    });
    streams_.emplace(id, StreamThread{std::move(thread), std::move(done)});
  }
}

bool FleetPoller::streamWantedLocked(fleet::InstanceId id, SteadyTime now) {
  return running_ && registry_.count(id) != 0 && core_.streamConnectAt(id, now).has_value();
}

void FleetPoller::streamLoop(fleet::InstanceId id) {
  constexpr auto kTick = std::chrono::milliseconds(250);
  const auto& upstream = engine_.options();
  while (true) {
    greenapi::InstanceCredentials creds;
    {
      std::unique_lock lock(mutex_);
      const auto now = clock_.steadyNow();
      if (!streamWantedLocked(id, now)) return;
      const SteadyTime at = *core_.streamConnectAt(id, now);
      if (at > now) {
        stream_wake_.wait_for(
            lock, std::min(std::chrono::duration_cast<std::chrono::milliseconds>(at - now), kTick));
        continue;
      }
      core_.streamConnecting(id, now);
      creds = registry_.at(id).credentials(id);
    }
    auto opened =
        greenapi::QrWebsocket::open(creds, upstream.allowedHosts, upstream.connectTimeout);
    if (opened) {
      readStream(id, *opened.value());
      continue;
    }
    StreamStep step;
    {
      std::lock_guard lock(mutex_);
      const auto now = clock_.steadyNow();
      step = opened.error().httpStatus > 0 ? core_.onStreamRefused(id, now)
                                           : core_.onStreamFailed(id, now);
      wake_requested_ = wake_requested_ || step == StreamStep::fallBack;
    }
    kLog.info("event=qr_stream_unavailable id={} status={} next={} error=\"{}\"", id,
              opened.error().httpStatus, streamStepName(step), opened.error().message);
    if (step == StreamStep::fallBack) dispatch_wake_.notify_one();
  }
}

void FleetPoller::readStream(fleet::InstanceId id, greenapi::QrWebsocket& socket) {
  constexpr auto kTick = std::chrono::milliseconds(250);
  const Duration silence = config_.sessions.stream.silence;
  SteadyTime last_frame_at = clock_.steadyNow();
  greenapi::QrFrame frame;
  std::string error;
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (!streamWantedLocked(id, clock_.steadyNow())) return;
    }
    const auto read = socket.read(kTick, frame, error);
    const auto now = clock_.steadyNow();
    if (read == greenapi::QrWebsocket::Read::idle && now - last_frame_at < silence) continue;
    StreamReport report;
    {
      std::lock_guard lock(mutex_);
      if (read == greenapi::QrWebsocket::Read::frame) {
        last_frame_at = now;
        report = core_.onStreamFrame(id, frame.type, frame.message, now);
        if (report.update) startPublishLocked(*report.update);
      } else if (read == greenapi::QrWebsocket::Read::closed) {
        report.step = core_.onStreamClosed(id, now);
      } else {
        if (read == greenapi::QrWebsocket::Read::idle) error = "no frame within the silence limit";
        report.step = core_.onStreamFailed(id, now);
      }
      wake_requested_ = true;  // a session that ended or fell back changes what is due
    }
    invalidateSnapshot();
    dispatch_wake_.notify_one();
    publish(report.update);
    if (read != greenapi::QrWebsocket::Read::frame) {
      kLog.debug("event=qr_stream_closed id={} how={} next={} error=\"{}\"", id,
                 read == greenapi::QrWebsocket::Read::closed ? "closed" : "failed",
                 streamStepName(report.step), error);
    } else {
      kLog.debug("event=qr_stream_frame id={} type={} next={}", id, frame.type,
                 streamStepName(report.step));
    }
    if (report.step != StreamStep::keepReading) return;
  }
}

greenapi::TransferEngine::Request FleetPoller::requestFor(const Job& job,
                                                          greenapi::InstanceCredentials creds) {
  // A braced list initialises left to right: the request copies `creds`, the completion takes it.
  return greenapi::TransferEngine::Request{
      creds, std::string(methodName(job.method)),
      [this, job, creds = std::move(creds)](greenapi::RawReply&& raw) {
        // On the engine's I/O thread: parse outside the lock, then one short critical section.
        complete(job, outcomeOf(job.method, std::move(raw), creds));
      }};
}

void FleetPoller::complete(const Job& job, const Outcome& outcome) {
  if (options_.on_result) options_.on_result(job, outcome);
  // Reused per I/O thread: the requests this completion issues in the slot it frees.
  thread_local std::vector<greenapi::TransferEngine::Request> batch;
  std::optional<ProbeUpdate> update;
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    --in_flight_;
    ++completing_;  // the slot is free, but `this` is still used below
    const auto now = clock_.steadyNow();
    update = core_.onResult(job, outcome, now);
    if (update) startPublishLocked(*update);
    if (running_) {
      // The freed slot is refilled here, on the engine's loop thread, so a busy poller issues
      // and completes probes without waking the dispatcher. It is woken only when it would sleep
      // past work that is not due yet and a slot is free for it (a confirm probe, a backoff).
      // Paced by upstream.max_rps, slots are refilled by the dispatcher's batches instead:
      // taking each token as it arrives here would send probes one by one.
      const std::size_t free =
          core_.rateIdle(now) ? issueDueLocked(now, batch) : std::size_t{1} + batch.size();
      if (free > batch.size() && !wake_requested_) {
        const auto next = core_.nextWakeup();
        wake = next && *next + core_.dispatchTick() < dispatch_until_;
        if (wake) wake_requested_ = true;
      }
      // A session that started here may need its websocket thread: the dispatcher starts it.
      if (update && update->sessionStarted && !core_.streamedSessions().empty()) {
        wake = true;
        wake_requested_ = true;
      }
    }
  }
  if (!batch.empty()) engine_.submit(batch);  // on the loop thread: queued there, no wake-up
  if (wake) dispatch_wake_.notify_one();
  publish(update);
  // Last touch of `this`: stop() may return (and the poller be destroyed) once the lock is free.
  std::lock_guard lock(mutex_);
  if (--completing_ == 0 && in_flight_ == 0 && !running_) drained_.notify_all();
}

void FleetPoller::startPublishLocked(ProbeUpdate& update) {
  if (!update.persist) return;
  publishing_.push_back(update.seq);
  update.seqFloor = *std::min_element(publishing_.begin(), publishing_.end());
}

void FleetPoller::publish(const std::optional<ProbeUpdate>& update) {
  if (update) publish(*update);
}

void FleetPoller::publish(const ProbeUpdate& update) {
  if (!update.persist) return;
  if (sink_) {
    try {
      sink_(update);
    } catch (const std::exception& e) {
      kLog.error("event=status_sink_failed id={} error=\"{}\"", update.id, e.what());
    }
  }
  std::lock_guard lock(mutex_);
  if (const auto it = std::find(publishing_.begin(), publishing_.end(), update.seq);
      it != publishing_.end()) {
    publishing_.erase(it);
  }
}

Outcome FleetPoller::toOutcome(Method method, const greenapi::CallOutcome& outcome,
                               const std::optional<std::string>& state,
                               const std::optional<std::string>& phone, const std::string& qr_type,
                               const std::string& qr_message) {
  Outcome out;
  if (!outcome.ok()) {
    out = Outcome::failure(outcome.kind, outcome.message);
    if (outcome.kind == greenapi::OutcomeKind::badRequest &&
        (method == Method::getStateInstance || method == Method::getWaSettings)) {
      out.state = stateFromBadRequest(outcome.message);
    }
  } else if (method == Method::qr) {
    out = Outcome::qrAnswer(qr_type, qr_message);
  } else if (method == Method::getStateInstance || method == Method::getWaSettings) {
    out = Outcome::stateReading(state);
    if (phone && !phone->empty()) out.phone = phone;
  } else {
    out = Outcome::ok();
  }
  out.took = std::chrono::duration_cast<Duration>(outcome.latency);
  return out;
}

Outcome FleetPoller::outcomeOf(Method method, greenapi::RawReply&& raw,
                               const greenapi::InstanceCredentials& creds) {
  switch (method) {
    case Method::getStateInstance: {
      const auto r = greenapi::stateReply(std::move(raw), creds);
      std::optional<std::string> state;
      if (r.value && !r.value->initializing) state = r.value->state;
      return toOutcome(method, r.outcome, state, std::nullopt, {}, {});
    }
    case Method::qr: {
      const auto r = greenapi::qrReply(std::move(raw), creds);
      return toOutcome(method, r.outcome, std::nullopt, std::nullopt,
                       r.value ? r.value->type : std::string(),
                       r.value ? r.value->message : std::string());
    }
    case Method::logout:
      return toOutcome(method, greenapi::logoutReply(std::move(raw), creds).outcome, std::nullopt,
                       std::nullopt, {}, {});
    case Method::reboot:
      return toOutcome(method, greenapi::rebootReply(std::move(raw), creds).outcome, std::nullopt,
                       std::nullopt, {}, {});
    case Method::getWaSettings: {
      const auto r = greenapi::waSettingsReply(std::move(raw), creds);
      std::optional<std::string> state, phone;
      if (r.value) {
        state = r.value->stateInstance;
        phone = r.value->phone;
      }
      return toOutcome(method, r.outcome, state, phone, {}, {});
    }
  }
  return Outcome::failure(fleet::OutcomeKind::transportError, "internal error");
}

}  // namespace greenfleet::scheduler
