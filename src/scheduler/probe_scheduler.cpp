#include "scheduler/probe_scheduler.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "base/log.hpp"

namespace greenfleet::scheduler {

namespace {

const base::Log kLog{"scheduler"};

constexpr std::size_t idx(Method m) { return static_cast<std::size_t>(m); }

bool readsState(Method m) { return m == Method::getStateInstance || m == Method::getWaSettings; }

// A 400 whose text the client recognised as a state ("starting", "not authorized"; issue #571):
// an answer about the instance, paced like a success.
bool isStateHint(const Outcome& o) {
  return o.kind == fleet::OutcomeKind::badRequest && o.state.has_value();
}

constexpr SteadyTime kNeverPersisted = SteadyTime::min();

// Whether two statuses differ in what the instance_status row stores, the probe times aside
// (lastCheckedAt and lastOkAt count only when one appears).
bool storedFieldsDiffer(const fleet::InstanceStatus& a, const fleet::InstanceStatus& b) {
  return a.state.raw() != b.state.raw() || a.stateSince != b.stateSince ||
         a.attention != b.attention || a.consecutiveFailures != b.consecutiveFailures ||
         a.lastErrorKind != b.lastErrorKind || a.lastError != b.lastError || a.phone != b.phone ||
         a.lastCheckedAt.has_value() != b.lastCheckedAt.has_value() ||
         a.lastOkAt.has_value() != b.lastOkAt.has_value();
}

// What only an instance that has been scanned needs, on the heap from its first session or QR
// answer: ~200 bytes the rest of the fleet does not pay for.
struct ScanState {
  std::optional<QrSession> session;
  std::optional<QrStreamPlan> stream;          // the session's websocket (transport websocket)
  std::optional<SteadyTime> lastRunStartedAt;  // of the last ended session run
  std::optional<SteadyTime> lastRunEndedAt;
  std::optional<QrSnapshot> latestQr;
};

}  // namespace

struct ProbeScheduler::HostState {
  std::string name;
  std::size_t inFlight = 0;
  HostCircuitBreaker breaker;
  std::deque<std::pair<fleet::InstanceId, std::uint64_t>> waiting;  // (id, generation)
};

struct ProbeScheduler::Entry {
  fleet::InstanceId id = 0;
  HostState* host = nullptr;
  fleet::InstanceStatus status;
  MethodPacing statePacing;             // getStateInstance, which every instance uses
  std::unique_ptr<Pacing> otherPacing;  // qr and the actions, from the first one on
  SteadyTime probeDue{};
  JobReason probeReason = JobReason::scheduled;
  bool unpersisted = false;      // the last update was held back (persist = false)
  std::optional<Method> action;  // logout | reboot | getWaSettings
  SteadyTime actionRequestedAt{};
  std::unique_ptr<ScanState> scan;  // from the first session or QR on
  std::uint64_t generation = 0;
  SteadyTime persistedAt = kNeverPersisted;  // of the last update with persist = true

  const MethodPacing& pacing(Method method) const {
    static const MethodPacing kUnused{};
    if (method == Method::getStateInstance) return statePacing;
    return otherPacing ? (*otherPacing)[idx(method)] : kUnused;
  }
  MethodPacing& pacing(Method method) {
    if (method == Method::getStateInstance) return statePacing;
    if (!otherPacing) otherPacing = std::make_unique<Pacing>();
    return (*otherPacing)[idx(method)];
  }
  Pacing allPacing() const {
    Pacing all = otherPacing ? *otherPacing : Pacing{};
    all[idx(Method::getStateInstance)] = statePacing;
    return all;
  }

  QrSession* session() const { return scan && scan->session ? &*scan->session : nullptr; }
  ScanState& scanState() {
    if (!scan) scan = std::make_unique<ScanState>();
    return *scan;
  }
};

ProbeScheduler::ProbeScheduler(SchedulerConfig config, std::uint64_t seed)
    : config_(std::move(config)),
      rng_(seed),
      global_(config_.maxRps, config_.maxBurst),
      buckets_{TokenBucket(config_.accountMethodRps, 1), TokenBucket(config_.qrRps, 1),
               TokenBucket(config_.accountMethodRps, 1), TokenBucket(config_.accountMethodRps, 1),
               TokenBucket(config_.accountMethodRps, 1)},
      backoff_(config_.backoffBase, config_.backoffCap),
      index_(config_.attention, [this](fleet::InstanceId id) { return status(id); }) {
  // One Entry per instance, a million on a big node. Allocators hand out size classes (mimalloc's
  // near here: 384, 448, 512), so one field too many past 448 costs 64 bytes per instance.
  static_assert(sizeof(Entry) <= 448, "ProbeScheduler::Entry outgrew its 448-byte size class");
}

ProbeScheduler::~ProbeScheduler() = default;

TokenBucket ProbeScheduler::bucket(const MethodPacing& p, Method method) const {
  return buckets_[idx(method)].withState(p.bucketState);
}

Backoff ProbeScheduler::backoff(const MethodPacing& p) const {
  return backoff_.withState(p.failures, p.backoffUntil);
}

ProbeScheduler::Entry* ProbeScheduler::find(fleet::InstanceId id) {
  const auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : it->second.get();
}

const ProbeScheduler::Entry* ProbeScheduler::find(fleet::InstanceId id) const {
  const auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : it->second.get();
}

ProbeScheduler::HostState& ProbeScheduler::hostNamed(const std::string& name) {
  auto& slot = hosts_[name];
  if (!slot) slot.reset(new HostState{name, 0, HostCircuitBreaker(config_.breaker), {}});
  return *slot;
}

bool ProbeScheduler::upsertInstance(const InstanceSpec& spec, SteadyTime now) {
  if (Entry* e = find(spec.id)) {
    e->host = &hostNamed(spec.host);
    e->status.registeredAt = spec.registeredAt;
    index_.update(spec.id, e->status, now);
    return false;
  }
  pruneRetired(now);
  auto entry = std::make_unique<Entry>();
  entry->id = spec.id;
  entry->host = &hostNamed(spec.host);
  if (const auto retired = retired_.find(spec.id); retired != retired_.end()) {
    entry->statePacing = retired->second[idx(Method::getStateInstance)];
    entry->otherPacing = std::make_unique<Pacing>(retired->second);
    retired_.erase(retired);
  }
  if (spec.status) {
    entry->status = *spec.status;
    entry->status.registeredAt = spec.registeredAt;
    entry->persistedAt = now;  // the stored row is its persisted copy
    // Loaded at start: spread first probes over one interval by a hash of the id, so a restart
    // with a big fleet is not one burst; and not within one period of the limit, since the
    // previous process may have probed just before it stopped.
    entry->probeDue = now + std::max(config_.attention.probes.firstProbeOffset(
                                         spec.id, entry->status.state.kind()),
                                     buckets_[idx(Method::getStateInstance)].period());
  } else {
    entry->status = fleet::InstanceStatus::registered(spec.registeredAt);
    entry->probeDue = now;
  }
  Entry& e = *entry;
  entries_.emplace(spec.id, std::move(entry));
  schedule(e);
  index_.update(spec.id, e.status, now);
  return true;
}

bool ProbeScheduler::removeInstance(fleet::InstanceId id) {
  const auto it = entries_.find(id);
  if (it == entries_.end()) return false;
  Entry& e = *it->second;
  if (e.session()) --activeSessions_;
  streamed_.erase(id);
  retired_.insert_or_assign(id, e.allPacing());
  entries_.erase(it);  // heap and wait-list items die lazily: their id no longer resolves
  index_.remove(id);
  return true;
}

bool ProbeScheduler::paces(fleet::InstanceId id, const Pacing& p, SteadyTime now) const {
  if (isInFlight(id)) return true;  // its result still moves lastFinishedAt
  for (std::size_t m = 0; m < kMethodCount; ++m) {
    const auto method = static_cast<Method>(m);
    if (bucket(p[m], method).readyAt() > now || p[m].backoffUntil > now) return true;
    if (p[m].lastFinishedAt != kNeverFinished && p[m].lastFinishedAt + buckets_[m].period() > now) {
      return true;
    }
  }
  return false;
}

void ProbeScheduler::pruneRetired(SteadyTime now) {
  if (retired_.size() < retiredPruneAt_) return;
  for (auto it = retired_.begin(); it != retired_.end();) {
    it = paces(it->first, it->second, now) ? std::next(it) : retired_.erase(it);
  }
  retiredPruneAt_ = std::max<std::size_t>(64, 2 * retired_.size());
}

const fleet::InstanceStatus& ProbeScheduler::statusOf(const Entry& e) { return e.status; }

void ProbeScheduler::reserve(std::size_t instances) {
  entries_.reserve(instances);
  index_.reserve(instances);
}

bool ProbeScheduler::contains(fleet::InstanceId id) const { return find(id) != nullptr; }

const fleet::InstanceStatus* ProbeScheduler::status(fleet::InstanceId id) const {
  const Entry* e = find(id);
  return e ? &e->status : nullptr;
}

std::optional<SteadyTime> ProbeScheduler::nextProbeAt(fleet::InstanceId id) const {
  const Entry* e = find(id);
  if (!e) return std::nullopt;
  return eligibleAt(*e, Method::getStateInstance, e->probeDue);
}

SteadyTime ProbeScheduler::eligibleAt(const Entry& e, Method method, SteadyTime due) const {
  const std::size_t m = idx(method);
  const MethodPacing& p = e.pacing(method);
  SteadyTime at = std::max({due, bucket(p, method).readyAt(), p.backoffUntil});
  // Space requests of one method by a full period from the previous *completion* too: the
  // previous request has certainly arrived upstream by then, so arrivals (which Green API
  // counts) stay a period apart even when the previous request was slow on the way in.
  if (p.lastFinishedAt != kNeverFinished) {
    at = std::max(at, p.lastFinishedAt + buckets_[m].period());
  }
  return at;
}

std::optional<ProbeScheduler::Work> ProbeScheduler::pickWork(const Entry& e, SteadyTime now) const {
  // Priority: operator action, then the state probe, then the scan session's qr poll.
  if (e.action) {
    const SteadyTime at = eligibleAt(e, *e.action, e.actionRequestedAt);
    if (at <= now) return Work{*e.action, JobReason::action, at};
  }
  {
    const SteadyTime at = eligibleAt(e, Method::getStateInstance, e.probeDue);
    if (at <= now) return Work{Method::getStateInstance, e.probeReason, at};
  }
  if (e.session() && !e.session()->isOver(now) && !streams(e)) {
    const SteadyTime at = eligibleAt(e, Method::qr, e.session()->nextPollAt());
    if (at <= now) return Work{Method::qr, JobReason::session, at};
  }
  return std::nullopt;
}

SteadyTime ProbeScheduler::wakeKey(const Entry& e) const {
  SteadyTime key = eligibleAt(e, Method::getStateInstance, e.probeDue);
  if (e.action) key = std::min(key, eligibleAt(e, *e.action, e.actionRequestedAt));
  if (e.session()) {
    if (!streams(e)) key = std::min(key, eligibleAt(e, Method::qr, e.session()->nextPollAt()));
    key = std::min(key, e.session()->endsAt());  // to end it on time even if its polls back off
  }
  return key;
}

void ProbeScheduler::push(SteadyTime at, const Entry& e) {
  heap_.push(HeapItem{at, e.id, e.generation});
}

void ProbeScheduler::schedule(Entry& e) {
  if (isInFlight(e.id)) return;  // onResult schedules it
  ++e.generation;
  push(wakeKey(e), e);
  compactHeapIfBloated();
}

void ProbeScheduler::compactHeapIfBloated() {
  // Lazy deletion leaves dead items behind; rebuild once they dominate (amortised O(log n)).
  if (heap_.size() <= 2 * entries_.size() + 1024) return;
  decltype(heap_) fresh;
  heap_.swap(fresh);
  for (auto& [id, entry] : entries_) {
    if (isInFlight(id)) continue;
    ++entry->generation;
    push(wakeKey(*entry), *entry);
  }
}

void ProbeScheduler::unpark(HostState& host) {
  std::size_t free_slots =
      config_.maxInFlightPerHost > host.inFlight ? config_.maxInFlightPerHost - host.inFlight : 0;
  while (free_slots > 0 && !host.waiting.empty()) {
    const auto [id, generation] = host.waiting.front();
    host.waiting.pop_front();
    const Entry* e = find(id);
    if (!e || e->generation != generation || isInFlight(id)) continue;
    push(wakeKey(*e), *e);
    --free_slots;
  }
}

std::vector<Job> ProbeScheduler::takeDue(SteadyTime now, std::size_t maxJobs) {
  std::vector<Job> jobs;
  takeDue(now, maxJobs, jobs);
  return jobs;
}

void ProbeScheduler::takeDue(SteadyTime now, std::size_t maxJobs, std::vector<Job>& jobs) {
  maxJobs += jobs.size();
  while (jobs.size() < maxJobs && !heap_.empty()) {
    const HeapItem top = heap_.top();
    if (top.at > now) break;
    if (!global_.mayConsume(now)) break;  // upstream.max_rps: everything waits alike
    heap_.pop();
    Entry* e = find(top.id);
    if (!e || e->generation != top.generation || isInFlight(top.id)) continue;
    expireSession(*e, now, nullptr);
    const auto work = pickWork(*e, now);
    if (!work) {
      // Only a session end was due (handled above), or a limit moved: wait for the new key.
      ++e->generation;
      push(std::max(wakeKey(*e), now + Duration(1)), *e);
      continue;
    }
    HostState& host = *e->host;
    if (host.breaker.isOpen(now)) {
      push(host.breaker.pausedUntil(), *e);
      continue;
    }
    if (host.inFlight >= config_.maxInFlightPerHost) {
      host.waiting.emplace_back(e->id, e->generation);
      continue;
    }
    global_.consume(now);
    {
      MethodPacing& pacing = e->pacing(work->method);
      TokenBucket b = bucket(pacing, work->method);
      b.consume(now);
      pacing.bucketState = b.theoreticalArrival();
    }
    ++host.inFlight;
    ++e->generation;
    if (work->reason == JobReason::action && e->action == work->method) e->action.reset();
    Job job{e->id, work->method, work->reason, work->eligibleAt, now, ++nextTicket_};
    inFlight_.emplace(e->id, InFlight{job.ticket, &host, job.method});
    stats_.recordStart(now, now - work->eligibleAt);
    jobs.push_back(job);
  }
}

std::optional<SteadyTime> ProbeScheduler::nextWakeup() {
  while (!heap_.empty()) {
    const HeapItem& top = heap_.top();
    const Entry* e = find(top.id);
    if (e && e->generation == top.generation && !isInFlight(top.id)) {
      return std::max(top.at, global_.readyAt());
    }
    heap_.pop();
  }
  return std::nullopt;
}

Duration ProbeScheduler::dispatchTick() const {
  constexpr Duration kMaxTick = std::chrono::milliseconds(2);
  return std::min(kMaxTick, global_.period() * global_.burst());
}

bool ProbeScheduler::rateIdle(SteadyTime now) const {
  return global_.available(now) >= static_cast<double>(global_.burst());
}

void ProbeScheduler::planProbeNoLaterThan(Entry& e, SteadyTime at, JobReason reason) {
  if (at < e.probeDue) {
    e.probeDue = at;
    e.probeReason = reason;
  }
}

bool ProbeScheduler::scanUseful(const Entry& e) const {
  const auto kind = e.status.state.kind();
  return kind == fleet::StateKind::notAuthorized || kind == fleet::StateKind::unknown ||
         kind == fleet::StateKind::other || e.status.qrOffered ||
         e.status.lastObservedState.kind() == fleet::StateKind::notAuthorized;
}

void ProbeScheduler::endSession(Entry& e, SessionEnd why, SteadyTime now, ProbeUpdate* update) {
  const QrSession* session = e.session();
  if (!session) return;
  e.scan->lastRunStartedAt = session->runStartedAt();
  e.scan->lastRunEndedAt = std::min(now, session->endsAt());
  e.scan->session.reset();
  e.scan->stream.reset();
  streamed_.erase(e.id);
  --activeSessions_;
  if (update) update->sessionEnded = why;
  kLog.debug("session_end id={} reason={}", e.id, sessionEndName(why));
}

void ProbeScheduler::expireSession(Entry& e, SteadyTime now, ProbeUpdate* update) {
  if (e.session() && e.session()->isOver(now))
    endSession(e, e.session()->expiryReason(), now, update);
}

SessionStart ProbeScheduler::tryStartSession(Entry& e, SessionOrigin origin, SteadyTime now) {
  expireSession(e, now, nullptr);
  if (e.session()) {
    e.session()->touch(now);
    return {SessionStartStatus::alreadyActive, e.session()->endsAt()};
  }
  if (!scanUseful(e)) return {SessionStartStatus::notNeeded, {}};
  const auto& cfg = config_.sessions;
  SteadyTime run_start = now;
  if (e.scan && e.scan->lastRunEndedAt && now - *e.scan->lastRunEndedAt < cfg.cooldown) {
    // Sessions less than a cooldown apart are one continuous run of qr polling (issue #285).
    run_start = *e.scan->lastRunStartedAt;
    if (now >= run_start + cfg.maxRun) {
      return {SessionStartStatus::coolingDown, *e.scan->lastRunEndedAt + cfg.cooldown};
    }
  }
  if (activeSessions_ >= cfg.maxConcurrent) return {SessionStartStatus::capReached, {}};
  e.scanState().session.emplace(now, run_start, origin, cfg);
  ++activeSessions_;
  if (cfg.transport == QrTransport::websocket) {
    e.scan->stream.emplace(cfg.stream);
    streamed_.insert(e.id);
  }
  schedule(e);
  return {SessionStartStatus::started, e.session()->endsAt()};
}

SessionStart ProbeScheduler::startSession(fleet::InstanceId id, SteadyTime now) {
  Entry* e = find(id);
  if (!e) return {SessionStartStatus::unknownInstance, {}};
  return tryStartSession(*e, SessionOrigin::operatorRequest, now);
}

bool ProbeScheduler::touchSession(fleet::InstanceId id, SteadyTime now) {
  Entry* e = find(id);
  if (!e) return false;
  expireSession(*e, now, nullptr);
  if (!e->session()) return false;
  e->session()->touch(now);
  schedule(*e);
  return true;
}

std::optional<SessionView> ProbeScheduler::session(fleet::InstanceId id, SteadyTime now) const {
  const Entry* e = find(id);
  if (!e || !e->session() || e->session()->isOver(now)) return std::nullopt;
  const QrSession& s = *e->session();
  return SessionView{s.startedAt(), s.endsAt(), s.runCapAt(), s.origin()};
}

std::optional<QrSnapshot> ProbeScheduler::latestQr(fleet::InstanceId id, SteadyTime now) const {
  const Entry* e = find(id);
  if (!e || !e->scan || !e->scan->latestQr || now >= e->scan->latestQr->expiresAt) {
    return std::nullopt;
  }
  return e->scan->latestQr;
}

ProbeUpdate ProbeScheduler::makeUpdate(const Entry& e, const fleet::ObservationResult& folded) {
  ProbeUpdate u;
  u.id = e.id;
  u.seq = ++nextSeq_;
  u.transition = folded.transition;
  u.attentionChanged = folded.attentionChanged;
  u.confirmationPending = folded.confirmationNeeded;
  return u;
}

void ProbeScheduler::applySessionEffects(Entry& e, const fleet::Observation& obs,
                                         const fleet::ObservationResult& folded, SteadyTime now,
                                         ProbeUpdate& update) {
  if (obs.qr && *obs.qr == fleet::QrKind::alreadyLogged) {
    // Authorized already: stop polling qr and find out the state now.
    if (e.scan) e.scan->latestQr.reset();
    endSession(e, SessionEnd::alreadyLogged, now, &update);
    planProbeNoLaterThan(e, now, JobReason::session);
  }
  if (obs.state && obs.state->kind() != fleet::StateKind::notAuthorized) {
    // Any other state means a QR is useless now; `starting` in particular may be the effect of
    // polling qr for too long (issue #285).
    if (e.scan) e.scan->latestQr.reset();
    endSession(e, SessionEnd::stateChanged, now, &update);
  }
  if (folded.transition && folded.transition->to.kind() == fleet::StateKind::notAuthorized &&
      config_.sessions.autoStartOnNotAuthorized && !e.session()) {
    update.sessionStarted =
        tryStartSession(e, SessionOrigin::automatic, now).status == SessionStartStatus::started;
  }
}

void ProbeScheduler::finishUpdate(Entry& e, const fleet::InstanceStatus& before, SteadyTime now,
                                  ProbeUpdate& update) {
  update.status = e.status;
  update.nextProbeAt = eligibleAt(e, Method::getStateInstance, e.probeDue);
  update.persist =
      update.transition || update.attentionChanged || update.confirmationPending ||
      update.sessionStarted || update.sessionEnded || e.persistedAt == kNeverPersisted ||
      now - e.persistedAt >= config_.checkedWriteInterval || storedFieldsDiffer(before, e.status);
  if (update.persist) e.persistedAt = now;
  e.unpersisted = !update.persist;
}

std::vector<ProbeUpdate> ProbeScheduler::takeUnpersisted() {
  std::vector<ProbeUpdate> out;
  for (auto& [id, entry] : entries_) {
    Entry& e = *entry;
    if (!e.unpersisted) continue;
    e.unpersisted = false;
    ProbeUpdate u;
    u.id = id;
    u.seq = ++nextSeq_;
    u.status = e.status;
    u.nextProbeAt = eligibleAt(e, Method::getStateInstance, e.probeDue);
    out.push_back(std::move(u));
  }
  return out;
}

ProbeScheduler::HostState* ProbeScheduler::releaseSlot(const Job& job, fleet::OutcomeKind kind,
                                                       SteadyTime now) {
  const auto flight = inFlight_.find(job.id);
  if (flight == inFlight_.end() || flight->second.ticket != job.ticket) return nullptr;
  HostState& host = *flight->second.host;
  inFlight_.erase(flight);
  --host.inFlight;
  if (host.breaker.record(now, fleet::isOutage(kind))) {
    kLog.warn("host_paused host={} until_ms={}", host.name,
              std::chrono::duration_cast<std::chrono::milliseconds>(config_.breaker.pause).count());
  }
  stats_.recordOutcome(now, kind);
  return &host;
}

void ProbeScheduler::updateBackoff(MethodPacing& pacing, const Outcome& outcome, SteadyTime now) {
  if (outcome.kind == fleet::OutcomeKind::ok || isStateHint(outcome)) {
    Backoff b = backoff(pacing);
    b.reset();
    pacing.failures = b.failures();
    pacing.backoffUntil = b.readyAt();
  } else if (!fleet::isAuthRejection(outcome.kind)) {
    // 429, outages, and 400/404/466 answers we cannot act on: back off this method.
    Backoff b = backoff(pacing);
    b.onFailure(now, rng_);
    pacing.failures = b.failures();
    pacing.backoffUntil = b.readyAt();
  }
}

fleet::Observation ProbeScheduler::observe(Entry& e, const Job& job, const Outcome& outcome,
                                           SteadyTime now) {
  using fleet::OutcomeKind;
  fleet::Observation obs;
  obs.at = now;
  obs.outcome = outcome.kind;
  obs.source =
      job.reason == JobReason::action ? fleet::ReadingSource::action : fleet::ReadingSource::poll;
  obs.error = outcome.error;
  obs.took = outcome.took;
  if (readsState(job.method) && (outcome.kind == OutcomeKind::ok || isStateHint(outcome))) {
    obs.state = outcome.kind == OutcomeKind::ok ? fleet::InstanceState::fromUpstream(outcome.state)
                                                : fleet::InstanceState::fromRaw(*outcome.state);
    if (outcome.phone && !outcome.phone->empty()) obs.phone = outcome.phone;
  }
  if (job.method == Method::qr && outcome.kind == OutcomeKind::ok) {
    obs.qr = keepQr(e, outcome.qrType, outcome.qrMessage, now);
  }
  if (job.method == Method::qr && e.session()) e.session()->polled(job.startedAt, now);
  return obs;
}

void ProbeScheduler::planNextProbe(Entry& e, const Job& job, const Outcome& outcome,
                                   bool confirmation_needed, SteadyTime now) {
  using fleet::OutcomeKind;
  const auto& probes = config_.attention.probes;
  if (readsState(job.method)) {
    if (confirmation_needed) {
      e.probeDue = now + config_.confirmDelay;
      e.probeReason = JobReason::confirm;
    } else if (outcome.kind == OutcomeKind::ok || isStateHint(outcome) ||
               fleet::isAuthRejection(outcome.kind)) {
      auto kind = e.status.state.kind();
      Duration interval = probes.jitteredInterval(kind, rng_);
      if (interval <= Duration::zero())
        interval = fleet::jitter(probes.starting, probes.jitterFraction, rng_);
      e.probeDue = now + interval;
      e.probeReason = JobReason::scheduled;
    } else {
      e.probeDue = now;  // the backoff just drawn decides when
      e.probeReason = JobReason::scheduled;
    }
  } else if (confirmation_needed) {
    planProbeNoLaterThan(e, now + config_.confirmDelay, JobReason::confirm);
  }
  if ((job.method == Method::logout || job.method == Method::reboot)) {
    if (outcome.kind == OutcomeKind::ok) {
      planProbeNoLaterThan(e, now + config_.actionFollowUp, JobReason::action);
    } else if (outcome.kind == OutcomeKind::rateLimited && !e.action) {
      // Our own pacing lost to upstream's: the operator asked for it, so try again after backoff.
      e.action = job.method;
      e.actionRequestedAt = now;
    }
  }
}

std::optional<ProbeUpdate> ProbeScheduler::onResult(const Job& job, const Outcome& outcome,
                                                    SteadyTime now) {
  HostState* host = releaseSlot(job, outcome.kind, now);
  if (host == nullptr) return std::nullopt;
  Entry* found = find(job.id);
  if (!found) {
    if (const auto retired = retired_.find(job.id); retired != retired_.end()) {
      retired->second[idx(job.method)].lastFinishedAt = now;
    }
    pruneRetired(now);
    unpark(*host);
    return std::nullopt;
  }
  Entry& e = *found;
  MethodPacing& pacing = e.pacing(job.method);
  pacing.lastFinishedAt = now;
  updateBackoff(pacing, outcome, now);

  const fleet::Observation obs = observe(e, job, outcome, now);
  fleet::ObservationResult folded = fleet::applyObservation(e.status, obs, config_.attention);
  const fleet::InstanceStatus before = std::exchange(e.status, std::move(folded.status));
  index_.update(e.id, e.status, now);
  ProbeUpdate update = makeUpdate(e, folded);
  planNextProbe(e, job, outcome, folded.confirmationNeeded, now);
  applySessionEffects(e, obs, folded, now, update);

  schedule(e);
  finishUpdate(e, before, now, update);
  unpark(*host);
  return update;
}

fleet::QrKind ProbeScheduler::keepQr(Entry& e, const std::string& type, const std::string& message,
                                     SteadyTime now) {
  const fleet::QrKind kind = fleet::classifyQrType(type);
  e.scanState().latestQr = QrSnapshot{type, kind, message, now, now + config_.sessions.qrTtl};
  return kind;
}

ProbeUpdate ProbeScheduler::foldUnpolled(Entry& e, const fleet::Observation& obs, SteadyTime now) {
  fleet::ObservationResult folded = fleet::applyObservation(e.status, obs, config_.attention);
  const fleet::InstanceStatus before = std::exchange(e.status, std::move(folded.status));
  index_.update(e.id, e.status, now);
  ProbeUpdate update = makeUpdate(e, folded);
  if (folded.confirmationNeeded) {
    planProbeNoLaterThan(e, now + config_.confirmDelay, JobReason::confirm);
  }
  applySessionEffects(e, obs, folded, now, update);
  schedule(e);
  finishUpdate(e, before, now, update);
  return update;
}

std::optional<ProbeUpdate> ProbeScheduler::applyWebhookState(fleet::InstanceId id,
                                                             std::optional<std::string> state,
                                                             SteadyTime now) {
  Entry* found = find(id);
  if (!found) return std::nullopt;
  Entry& e = *found;
  fleet::Observation obs;
  obs.at = now;
  obs.source = fleet::ReadingSource::webhook;
  obs.state = fleet::InstanceState::fromUpstream(std::move(state));
  return foldUnpolled(e, obs, now);
}

bool ProbeScheduler::streams(const Entry& e) const {
  return e.scan && e.scan->stream && !e.scan->stream->fellBack();
}

QrStreamPlan* ProbeScheduler::streamPlan(fleet::InstanceId id, SteadyTime now) {
  Entry* e = find(id);
  if (!e) return nullptr;
  expireSession(*e, now, nullptr);
  return e->session() && streams(*e) ? &*e->scan->stream : nullptr;
}

std::optional<SteadyTime> ProbeScheduler::streamConnectAt(fleet::InstanceId id, SteadyTime now) {
  const QrStreamPlan* plan = streamPlan(id, now);
  if (!plan) return std::nullopt;
  return plan->nextConnectAt();
}

void ProbeScheduler::streamConnecting(fleet::InstanceId id, SteadyTime now) {
  if (QrStreamPlan* plan = streamPlan(id, now)) plan->connecting(now);
}

StreamStep ProbeScheduler::applyStreamStep(Entry& e, StreamStep step) {
  if (step == StreamStep::fallBack) {
    // The socket cannot be used: the session polls qr from now on (its next poll is due).
    streamed_.erase(e.id);
    kLog.info("event=qr_stream_fallback id={}", e.id);
    schedule(e);
  }
  return step;
}

StreamStep ProbeScheduler::onStreamRefused(fleet::InstanceId id, SteadyTime now) {
  QrStreamPlan* plan = streamPlan(id, now);
  return plan ? applyStreamStep(*find(id), plan->refused(now)) : StreamStep::fallBack;
}

StreamStep ProbeScheduler::onStreamFailed(fleet::InstanceId id, SteadyTime now) {
  QrStreamPlan* plan = streamPlan(id, now);
  return plan ? applyStreamStep(*find(id), plan->failed(now)) : StreamStep::fallBack;
}

StreamStep ProbeScheduler::onStreamClosed(fleet::InstanceId id, SteadyTime now) {
  QrStreamPlan* plan = streamPlan(id, now);
  return plan ? applyStreamStep(*find(id), plan->closed(now)) : StreamStep::fallBack;
}

StreamReport ProbeScheduler::onStreamFrame(fleet::InstanceId id, const std::string& type,
                                           const std::string& message, SteadyTime now) {
  QrStreamPlan* plan = streamPlan(id, now);
  if (!plan) return {StreamStep::fallBack, std::nullopt};
  Entry& e = *find(id);
  const StreamStep step = applyStreamStep(e, plan->frame(type, now));
  if (step == StreamStep::reconnect && type != "error") return {step, std::nullopt};  // timeout
  fleet::Observation obs;
  obs.at = now;
  obs.source = fleet::ReadingSource::poll;  // our own reading of upstream, like a qr answer
  if (step == StreamStep::endAuthorized) {
    // accountData: the phone scanned. The same path as an observed `authorized`.
    obs.state = fleet::InstanceState::fromUpstream(std::string("authorized"));
  } else {
    obs.qr = keepQr(e, type, message, now);
  }
  return {step, foldUnpolled(e, obs, now)};
}

ActionDecision ProbeScheduler::requestAction(fleet::InstanceId id, Method method, SteadyTime now) {
  Entry* found = find(id);
  if (!found) return {ActionStatus::unknownInstance, {}, {}};
  if (method == Method::qr) return {ActionStatus::unsupported, {}, {}};
  Entry& e = *found;
  const auto flight = inFlight_.find(id);
  if (method == Method::getStateInstance) {
    if (flight != inFlight_.end() && flight->second.method == Method::getStateInstance) {
      return {ActionStatus::alreadyQueued, now, {}};  // the probe in flight answers it
    }
  } else if (e.action) {
    return {ActionStatus::alreadyQueued, eligibleAt(e, *e.action, e.actionRequestedAt), {}};
  }
  const SteadyTime at = eligibleAt(e, method, now);
  if (at - now > config_.actionMaxWait) return {ActionStatus::rateLimited, at, at - now};
  if (method == Method::getStateInstance) {
    planProbeNoLaterThan(e, now, JobReason::action);
  } else {
    e.action = method;
    e.actionRequestedAt = now;
  }
  schedule(e);
  return {ActionStatus::queued, at, {}};
}

bool ProbeScheduler::requestSweepProbe(fleet::InstanceId id, SteadyTime now) {
  Entry* e = find(id);
  if (!e) return false;
  planProbeNoLaterThan(*e, now, JobReason::sweep);
  schedule(*e);
  return true;
}

SchedulerStats ProbeScheduler::stats(SteadyTime now) const {
  SchedulerStats s;
  s.instances = entries_.size();
  s.inFlight = inFlight_.size();
  s.heapEntries = heap_.size();
  s.activeSessions = activeSessions_;
  for (const auto& [name, host] : hosts_) {
    s.parked += host->waiting.size();
    if (host->breaker.isOpen(now)) ++s.hostsPaused;
    s.breakerTrips += host->breaker.trips();
  }
  stats_.fill(s, now);
  return s;
}

}  // namespace greenfleet::scheduler
