#pragma once
// ProbeScheduler: the deterministic core of rate-aware polling (DESIGN §5). It owns, per
// instance, the status (folded by fleet::applyObservation), the next state probe, a pending
// operator action, a QR scan session, per-method token buckets and backoffs; per host, the
// in-flight count, a wait list and a circuit breaker; globally, an upstream rps bucket. One timer
// heap (lazy deletion by generation) keyed by the earliest time each instance has runnable work,
// so every operation is O(log n) — no scans of the fleet per tick.
//
// Callers: a worker loop calls takeDue(now, freeWorkers), runs the jobs, and reports each with
// onResult (always — a lost result keeps the instance "in flight" forever); it sleeps until
// nextWakeup() or until a result/registry change arrives. API handlers call requestAction,
// startSession, touchSession, latestQr; the webhook handler calls applyWebhookState.
//
// Every status change is also reported to a FleetIndex (fleet-wide counts, needs-scan order).
// Every call takes `now` (steady time); no clock is read and no thread is started here; an Rng
// seeded at construction drives jitter and backoff, so a test replays exactly.
// NOT thread-safe: callers serialise all access (the runtime holds one mutex around it).

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/clock.hpp"
#include "base/random.hpp"
#include "fleet/attention_rules.hpp"
#include "fleet/instance_id.hpp"
#include "fleet/instance_status.hpp"
#include "fleet/observation.hpp"
#include "scheduler/backoff.hpp"
#include "scheduler/fleet_index.hpp"
#include "scheduler/host_circuit_breaker.hpp"
#include "scheduler/job.hpp"
#include "scheduler/probe_stats.hpp"
#include "scheduler/qr_session.hpp"
#include "scheduler/token_bucket.hpp"

namespace greenfleet::scheduler {

struct SchedulerConfig {
  fleet::AttentionRules attention;  // thresholds; attention.probes = intervals and jitter
  // Per instance and method, burst 1, at a margin below Green API's limits (green-api.md §6):
  // qr is 3 rps upstream, the account methods 1 rps (and issue #771 saw 429s at 1 rps).
  double qrRps = 2.0;
  double accountMethodRps = 0.8;  // getStateInstance, logout, reboot, getWaSettings
  double maxRps = 1000.0;         // upstream.max_rps, all hosts together
  std::uint32_t maxBurst = 50;    // of the global bucket
  std::size_t maxInFlightPerHost = 64;
  Duration backoffBase = std::chrono::seconds(2);
  Duration backoffCap = std::chrono::minutes(5);
  CircuitBreakerConfig breaker;
  QrSessionConfig sessions;
  Duration confirmDelay = std::chrono::seconds(5);    // second reading before an alarm
  Duration actionFollowUp = std::chrono::seconds(3);  // state probe after logout/reboot
  // An operator action that could not start within this (backoff, bucket) is refused with a
  // retry-after instead of queued.
  Duration actionMaxWait = std::chrono::seconds(10);
  // An update that changes nothing stored but the probe times (last checked, last OK, next check)
  // is persisted at most this often per instance (status.checked_write_interval_s); zero
  // persists every one. Stop persists what is still held back (takeUnpersisted).
  Duration checkedWriteInterval = std::chrono::seconds(30);
};

// A registry entry as the scheduler needs it. `host` groups instances for the per-host cap and
// breaker (use the apiUrl's host). `status` is the stored status when loading at start (first
// probe then spread over one interval); nullopt for a new registration (first probe now).
struct InstanceSpec {
  fleet::InstanceId id = 0;
  std::string host;
  SteadyTime registeredAt{};
  std::optional<fleet::InstanceStatus> status;
};

// What one result (or webhook) changed, for the status writer, the event log and SSE.
struct ProbeUpdate {
  fleet::InstanceId id = 0;
  fleet::InstanceStatus status;                      // persist as the instance_status row
  std::optional<fleet::StateTransition> transition;  // → one state_events row
  bool attentionChanged = false;
  bool confirmationPending = false;  // a worse reading awaits its confirming probe
  bool sessionStarted = false;       // automatic scan session started
  std::optional<SessionEnd> sessionEnded;
  SteadyTime nextProbeAt{};  // → next_check_at
  // Order of the updates of one instance, assigned where the state is decided (increasing over
  // the whole fleet): a writer that receives two out of order keeps the higher.
  std::uint64_t seq = 0;
  // Set by the publisher: every update with a lower seq has reached the sink already, so a
  // writer may forget the seqs below it.
  std::uint64_t seqFloor = 0;
  // False when only the probe times moved and the last persisted row is recent enough
  // (config.checkedWriteInterval): the row need not be written.
  bool persist = true;
};

enum class ActionStatus { queued, alreadyQueued, rateLimited, unknownInstance, unsupported };
struct ActionDecision {
  ActionStatus status = ActionStatus::queued;
  SteadyTime expectedAt{};  // queued: earliest start the instance's own limits allow
  Duration retryAfter{};    // rateLimited
};

enum class SessionStartStatus {
  started,
  alreadyActive,
  coolingDown,
  capReached,
  notNeeded,
  unknownInstance
};
struct SessionStart {
  SessionStartStatus status = SessionStartStatus::started;
  SteadyTime until{};  // started/alreadyActive: session end; coolingDown: when one may start
};

// What the websocket layer should do after reporting to a streamed session (see QrStreamPlan).
struct StreamReport {
  StreamStep step = StreamStep::reconnect;
  std::optional<ProbeUpdate> update;  // a frame folded like a qr answer or a state reading
};

struct SessionView {
  SteadyTime startedAt{};
  SteadyTime endsAt{};
  SteadyTime runCapAt{};
  SessionOrigin origin = SessionOrigin::operatorRequest;
};

class ProbeScheduler {
 public:
  ProbeScheduler(SchedulerConfig config, std::uint64_t seed);
  ~ProbeScheduler();
  ProbeScheduler(const ProbeScheduler&) = delete;
  ProbeScheduler& operator=(const ProbeScheduler&) = delete;

  // Registry changes take effect at once. Returns true when the instance is new; an existing one
  // gets the new host/registeredAt and keeps its status and schedule. A new one that was removed
  // a moment ago (delete + register, disable + enable) keeps its request pacing: upstream counts
  // requests per instance, whatever our registry did in between. One loaded with a stored status
  // (a process start) is first probed after a hash-spread offset, and never within one period
  // of the state probe's limit: the previous process may have probed just before it stopped.
  bool upsertInstance(const InstanceSpec& spec, SteadyTime now);
  // Drops the instance, its pending work and session. A job already in flight still reports
  // through onResult (its host slot is released then); its result is ignored but for pacing.
  bool removeInstance(fleet::InstanceId id);
  bool contains(fleet::InstanceId id) const;
  // Room for `instances` without rehashing (a load at start knows the count).
  void reserve(std::size_t instances);
  std::size_t size() const { return entries_.size(); }
  const fleet::InstanceStatus* status(fleet::InstanceId id) const;
  std::optional<SteadyTime> nextProbeAt(fleet::InstanceId id) const;
  // Visits every instance's status (unordered); for fleet-wide views such as needs-scan.
  template <typename Visitor>
  void forEachStatus(Visitor&& visit) const {
    for (const auto& [id, entry] : entries_) visit(id, statusOf(*entry));
  }

  // Jobs runnable at `now` within every limit: per-instance one in flight and method buckets and
  // backoff, host breaker and concurrency cap, global rps. At most `maxJobs`.
  std::vector<Job> takeDue(SteadyTime now, std::size_t maxJobs);
  // The same, appending to `out` (a caller on the hot path reuses its vector).
  void takeDue(SteadyTime now, std::size_t maxJobs, std::vector<Job>& out);
  // When takeDue may next return something; nullopt when nothing is scheduled. Results and
  // registry/API calls can make work runnable sooner: re-check after each.
  std::optional<SteadyTime> nextWakeup();
  // How long a dispatcher may let due work gather before it issues it: up to 2 ms, never more
  // than the global bucket's burst takes to refill (a longer nap would lose tokens). Paced by
  // upstream.max_rps, issuing each probe as its token arrives cost two thread wake-ups per probe
  // and doubled its CPU; a batch per tick costs one.
  Duration dispatchTick() const;
  // True when upstream.max_rps holds nothing back now (the global bucket is full): a completion
  // may then refill its slot at once; otherwise the dispatcher issues the next batch.
  bool rateIdle(SteadyTime now) const;
  // Feeds a finished job back. nullopt for an unknown ticket or a removed instance.
  std::optional<ProbeUpdate> onResult(const Job& job, const Outcome& outcome, SteadyTime now);
  // A stateInstanceChanged webhook (nullopt state = null). Ends a scan session at once unless the
  // state is notAuthorized. nullopt for an unknown instance.
  std::optional<ProbeUpdate> applyWebhookState(fleet::InstanceId id,
                                               std::optional<std::string> state, SteadyTime now);
  // The latest status of every instance whose last update was not persisted (persist = false),
  // marked persisted; for a clean stop.
  std::vector<ProbeUpdate> takeUnpersisted();

  // Operator poll (getStateInstance), logout, reboot, getWaSettings. qr → unsupported (sessions).
  ActionDecision requestAction(fleet::InstanceId id, Method method, SteadyTime now);
  // A sweep's immediate probe: limits still apply, never refused. False for an unknown id.
  bool requestSweepProbe(fleet::InstanceId id, SteadyTime now);

  // Starts a scan session (operator), or extends an active one.
  SessionStart startSession(fleet::InstanceId id, SteadyTime now);
  // Extends an active session (someone fetched its QR). False when none is active.
  bool touchSession(fleet::InstanceId id, SteadyTime now);
  std::optional<SessionView> session(fleet::InstanceId id, SteadyTime now) const;
  // The latest qr answer while it is fresh (now < expiresAt).
  std::optional<QrSnapshot> latestQr(fleet::InstanceId id, SteadyTime now) const;

  // Sessions that take their QR from the scanqrcode websocket (sessions.transport = websocket),
  // while they last and have not fallen back to polling: the socket layer keeps one connection
  // for each. They issue no qr polls. At most sessions.maxConcurrent.
  const std::unordered_set<fleet::InstanceId>& streamedSessions() const { return streamed_; }
  // When the instance's next connection may open; nullopt when it should have none (no session,
  // session over, fallen back, removed).
  std::optional<SteadyTime> streamConnectAt(fleet::InstanceId id, SteadyTime now);
  // A connection attempt starts now (spacing: QrStreamConfig::connectSpacing).
  void streamConnecting(fleet::InstanceId id, SteadyTime now);
  // A text frame {type, message} arrived. qrCode and the other QR types update the snapshot like
  // a qr answer; accountData is an observed `authorized`; alreadyLogged ends the session as the
  // qr answer does. Unknown instance or no streamed session → step fallBack, no update.
  StreamReport onStreamFrame(fleet::InstanceId id, const std::string& type,
                             const std::string& message, SteadyTime now);
  // The upgrade got an HTTP answer instead of 101 (refused), or the connection failed or was
  // closed without a frame saying why.
  StreamStep onStreamRefused(fleet::InstanceId id, SteadyTime now);
  StreamStep onStreamFailed(fleet::InstanceId id, SteadyTime now);
  StreamStep onStreamClosed(fleet::InstanceId id, SteadyTime now);

  SchedulerStats stats(SteadyTime now) const;
  const SchedulerConfig& config() const { return config_; }
  // Counts by state and attention and the needs-scan order, fed on every status change.
  const FleetIndex& index() const { return index_; }
  void setAttentionListener(FleetIndex::AttentionListener listener) {
    index_.setAttentionListener(std::move(listener));
  }

 private:
  struct Entry;
  struct HostState;
  struct HeapItem {
    SteadyTime at;
    fleet::InstanceId id;
    std::uint64_t generation;
    bool operator>(const HeapItem& o) const { return at != o.at ? at > o.at : id > o.id; }
  };
  struct InFlight {
    std::uint64_t ticket;
    HostState* host;
    Method method;
  };
  struct Work {
    Method method;
    JobReason reason;
    SteadyTime eligibleAt;
  };
  static constexpr SteadyTime kNeverFinished = SteadyTime::min();
  // One method's pacing of one instance: only the state of its token bucket and backoff (their
  // rate and policy are the config's, held once in buckets_ and backoff_) and when its last
  // request finished. 32 bytes instead of 72 for the three objects; an instance keeps only its
  // getStateInstance pacing inline, the other methods' from their first request on.
  struct MethodPacing {
    SteadyTime bucketState{};   // TokenBucket::theoreticalArrival(); {} = full
    SteadyTime backoffUntil{};  // Backoff::readyAt()
    SteadyTime lastFinishedAt = kNeverFinished;
    std::uint32_t failures = 0;  // Backoff::failures()
  };
  // What paces an instance's requests; a removed instance's is kept while it still constrains a
  // re-registration.
  using Pacing = std::array<MethodPacing, kMethodCount>;

  static const fleet::InstanceStatus& statusOf(const Entry& e);
  TokenBucket bucket(const MethodPacing& p, Method method) const;
  Backoff backoff(const MethodPacing& p) const;
  Entry* find(fleet::InstanceId id);
  const Entry* find(fleet::InstanceId id) const;
  HostState& hostNamed(const std::string& name);
  bool isInFlight(fleet::InstanceId id) const { return inFlight_.count(id) != 0; }
  SteadyTime eligibleAt(const Entry& e, Method method, SteadyTime due) const;
  std::optional<Work> pickWork(const Entry& e, SteadyTime now) const;
  SteadyTime wakeKey(const Entry& e) const;
  void schedule(Entry& e);
  void push(SteadyTime at, const Entry& e);
  void unpark(HostState& host);
  void compactHeapIfBloated();
  void planProbeNoLaterThan(Entry& e, SteadyTime at, JobReason reason);
  void expireSession(Entry& e, SteadyTime now, ProbeUpdate* update);
  void endSession(Entry& e, SessionEnd why, SteadyTime now, ProbeUpdate* update);
  bool scanUseful(const Entry& e) const;
  bool streams(const Entry& e) const;
  QrStreamPlan* streamPlan(fleet::InstanceId id, SteadyTime now);
  StreamStep applyStreamStep(Entry& e, StreamStep step);
  SessionStart tryStartSession(Entry& e, SessionOrigin origin, SteadyTime now);
  void applySessionEffects(Entry& e, const fleet::Observation& obs,
                           const fleet::ObservationResult& folded, SteadyTime now,
                           ProbeUpdate& update);
  ProbeUpdate makeUpdate(const Entry& e, const fleet::ObservationResult& folded);
  // Keeps a QR answer (polled or pushed) as the latest snapshot; returns its kind.
  fleet::QrKind keepQr(Entry& e, const std::string& type, const std::string& message,
                       SteadyTime now);
  // Folds a reading that no job of ours carried (a webhook, a websocket frame).
  ProbeUpdate foldUnpolled(Entry& e, const fleet::Observation& obs, SteadyTime now);
  // Sets update.persist from what changed since `before` (and marks `e`), and the final fields.
  void finishUpdate(Entry& e, const fleet::InstanceStatus& before, SteadyTime now,
                    ProbeUpdate& update);
  bool paces(fleet::InstanceId id, const Pacing& p, SteadyTime now) const;
  // The steps of onResult. releaseSlot: nullptr when the result is not for a job in flight.
  HostState* releaseSlot(const Job& job, fleet::OutcomeKind kind, SteadyTime now);
  void updateBackoff(MethodPacing& pacing, const Outcome& outcome, SteadyTime now);
  fleet::Observation observe(Entry& e, const Job& job, const Outcome& outcome, SteadyTime now);
  void planNextProbe(Entry& e, const Job& job, const Outcome& outcome, bool confirmation_needed,
                     SteadyTime now);
  void pruneRetired(SteadyTime now);

  SchedulerConfig config_;
  base::Rng rng_;
  TokenBucket global_;
  std::array<TokenBucket, kMethodCount> buckets_;  // per-method templates (see MethodPacing)
  Backoff backoff_;                                // the template of every method's backoff
  std::unordered_map<fleet::InstanceId, std::unique_ptr<Entry>> entries_;
  std::unordered_map<std::string, std::unique_ptr<HostState>> hosts_;
  std::unordered_map<fleet::InstanceId, InFlight> inFlight_;
  std::unordered_map<fleet::InstanceId, Pacing> retired_;  // removed instances' pacing
  std::size_t retiredPruneAt_ = 64;                        // amortises pruneRetired
  std::priority_queue<HeapItem, std::vector<HeapItem>, std::greater<>> heap_;
  std::size_t activeSessions_ = 0;
  std::unordered_set<fleet::InstanceId> streamed_;  // see streamedSessions()
  std::uint64_t nextTicket_ = 0;
  std::uint64_t nextSeq_ = 0;  // ProbeUpdate::seq
  ProbeStats stats_;
  FleetIndex index_;  // after config_: built from its attention rules
};

}  // namespace greenfleet::scheduler
