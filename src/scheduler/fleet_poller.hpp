#pragma once
// FleetPoller: the running scheduler. It wraps the deterministic ProbeScheduler in one mutex and
// runs one dispatch thread for timers (takeDue → TransferEngine, sleep until nextWakeup or a
// wake-up); the engine's I/O thread hands each reply back as a value, and the completion feeds it
// to the core and, in the same critical section, issues the work due now into the slot it freed
// (queued on that loop with no thread hand-off).
// No thread per request; at most options.max_in_flight requests are out at once. Every update
// worth persisting (ProbeUpdate::persist) goes to the UpdateSink (the status writer) outside
// the lock, carrying the seq it got under the lock so the writer can restore the order. It also
// keeps the registry's view of each instance (credentials, name, tags) for the calls and the API's
// fleet-wide views. Thread-safe: API handlers, the registry and the webhook call in from any
// thread.
// Scan sessions with sessions.transport = websocket take their QR from the scanqrcode websocket:
// one thread per such session (at most sessions.max_concurrent, 50 by default), started by the
// dispatcher, holding one greenapi::QrWebsocket at a time and reporting every attempt, frame
// and close to the core, whose QrStreamPlan says what to do next (see streamLoop).

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/clock.hpp"
#include "base/time_anchor.hpp"
#include "fleet/attention.hpp"
#include "fleet/registered_instance.hpp"
#include "greenapi/qr_websocket.hpp"
#include "greenapi/transfer_engine.hpp"
#include "scheduler/intern_pool.hpp"
#include "scheduler/probe_scheduler.hpp"

namespace greenfleet::scheduler {

struct PollerOptions {
  std::size_t max_in_flight = 4096;  // upstream requests out at once (upstream.max_in_flight)
  std::uint64_t seed = 0;            // 0 = from the clock
  // The snapshot (counts, needs-scan views) is rebuilt at most this often and shared by every
  // reader in between, so its rendered bodies can be shared too. Registry changes and API
  // writes refresh it at once. Building it costs O(needs-scan), not O(fleet): see FleetIndex.
  std::chrono::milliseconds snapshot_ttl{250};
  // Told of every finished upstream call (metrics); called on the engine's I/O thread, outside
  // the lock.
  std::function<void(const Job&, const Outcome&)> on_result;
  // Told of every change of an instance's derived attention, under the poller's lock (see
  // FleetIndex::AttentionListener). Time-driven changes are found when the index is queried:
  // a listener that cares about them calls counts() now and then.
  FleetIndex::AttentionListener on_attention;
};

// One instance as the API shows it, read under the lock at one `now`.
struct InstanceView {
  fleet::InstanceId id = 0;
  std::string name;
  std::vector<std::string> tags;
  fleet::InstanceStatus status;
  fleet::Attention attention = fleet::Attention::none;  // derived at `now`
  std::optional<SteadyTime> nextProbeAt;
  std::optional<SessionView> session;
  std::optional<QrSnapshot> qr;  // fresh only
};

struct FleetSnapshot {
  FleetCounts counts;
  std::vector<InstanceView> needsScan;  // longest-waiting first
  SteadyTime takenAt{};
};

class FleetPoller {
 public:
  using UpdateSink = std::function<void(const ProbeUpdate&)>;

  FleetPoller(SchedulerConfig config, PollerOptions options, greenapi::TransferEngine& engine,
              const base::Clock& clock, UpdateSink sink);
  ~FleetPoller();
  FleetPoller(const FleetPoller&) = delete;
  FleetPoller& operator=(const FleetPoller&) = delete;

  void start();
  // Stops dispatching, waits for the requests in flight (bounded by the engine's timeouts),
  // then hands the sink every status the write throttle held back.
  void stop();

  // Registry changes. A disabled instance is dropped from polling. `stored` resumes an instance
  // from its persisted status (first probe spread over one interval); nullopt probes it now.
  void upsert(const fleet::RegisteredInstance& instance,
              std::optional<fleet::InstanceStatus> stored = std::nullopt);
  // Many upserts under one lock and one dispatcher wake-up (a bulk import): the same as upsert()
  // of each in turn, new registrations probed now.
  void upsertMany(const std::vector<const fleet::RegisteredInstance*>& instances);
  void remove(fleet::InstanceId id);
  // Room for `instances` without rehashing (the load at start knows the count).
  void reserve(std::size_t instances);

  ActionDecision requestAction(fleet::InstanceId id, Method method);
  SessionStart startSession(fleet::InstanceId id);
  std::optional<ProbeUpdate> applyWebhookState(fleet::InstanceId id,
                                               std::optional<std::string> state);
  bool requestSweepProbe(fleet::InstanceId id);

  std::optional<InstanceView> view(fleet::InstanceId id) const;
  // Instances whose attention is needs_scan now, longest-waiting first (O(result), from the
  // scheduler's FleetIndex).
  std::vector<InstanceView> needsScan() const;
  // Counts and the needs-scan list, at most options.snapshot_ttl old; shared, never copied.
  std::shared_ptr<const FleetSnapshot> snapshot() const;
  // The shared snapshot when it is still fresh, else nullptr; never waits (the HTTP loop's fast
  // path calls it). `rebuilding` tells whether another reader is making a new one right now.
  std::shared_ptr<const FleetSnapshot> snapshotIfFresh(bool* rebuilding = nullptr) const;
  SchedulerStats stats() const;
  // O(states), from the scheduler's FleetIndex.
  FleetCounts counts() const;
  base::TimeAnchor anchor() const { return base::TimeAnchor::of(clock_); }
  const SchedulerConfig& config() const { return config_; }
  const base::Clock& clock() const { return clock_; }

  // greenapi outcome of one call → the scheduler's Outcome (pure; exposed for tests).
  static Outcome toOutcome(Method method, const greenapi::CallOutcome& outcome,
                           const std::optional<std::string>& state,
                           const std::optional<std::string>& phone, const std::string& qr_type,
                           const std::string& qr_message);

 private:
  struct Registered {
    std::shared_ptr<const std::string> api_url;  // interned
    std::string token;
    std::string name;
    std::shared_ptr<const std::vector<std::string>> tags;  // interned
    greenapi::InstanceCredentials credentials(fleet::InstanceId id) const {
      return {*api_url, id, token};
    }
  };
  void upsertLocked(const fleet::RegisteredInstance& instance,
                    std::optional<fleet::InstanceStatus> stored, SteadyTime now,
                    const base::TimeAnchor& anchor);
  void dispatchLoop();
  // Starts a stream thread for each streamed session that has none, and joins the ended ones
  // (requires mutex_).
  void reconcileStreamsLocked();
  // One session's websocket: connect when the plan allows, read frames, report, until the
  // session no longer streams (ended, fell back, instance removed) or the poller stops.
  void streamLoop(fleet::InstanceId id);
  // Reads frames from an open socket until the plan says to close it.
  void readStream(fleet::InstanceId id, greenapi::QrWebsocket& socket);
  // Whether instance `id` should still have a stream (requires mutex_).
  bool streamWantedLocked(fleet::InstanceId id, SteadyTime now);
  // Takes the jobs due at `now` within the free in-flight slots into `batch` (requires mutex_);
  // returns how many slots were free before.
  std::size_t issueDueLocked(SteadyTime now, std::vector<greenapi::TransferEngine::Request>& batch);
  greenapi::TransferEngine::Request requestFor(const Job& job, greenapi::InstanceCredentials creds);
  void complete(const Job& job, const Outcome& outcome);
  static Outcome outcomeOf(Method method, greenapi::RawReply&& raw,
                           const greenapi::InstanceCredentials& creds);
  InstanceView makeView(fleet::InstanceId id, const Registered& reg, SteadyTime now) const;
  // Marks a persisted update as on its way to the sink and sets its seqFloor (requires mutex_).
  void startPublishLocked(ProbeUpdate& update);
  // Hands a started update to the sink, outside the lock, then marks it arrived.
  void publish(const ProbeUpdate& update);
  void publish(const std::optional<ProbeUpdate>& update);

  const SchedulerConfig config_;
  const PollerOptions options_;
  greenapi::TransferEngine& engine_;
  const base::Clock& clock_;
  UpdateSink sink_;

  void invalidateSnapshot() { snapshot_stale_ = true; }

  mutable std::mutex snapshot_mutex_;  // one reader recomputes, the others wait for its result
  mutable std::shared_ptr<const FleetSnapshot> snapshot_;
  mutable std::atomic<bool> snapshot_stale_{true};

  mutable std::mutex mutex_;  // guards everything below
  std::condition_variable dispatch_wake_;
  std::condition_variable drained_;  // stop() waits here for the requests in flight
  ProbeScheduler core_;
  std::unordered_map<fleet::InstanceId, Registered> registry_;
  InternPool<std::string> api_urls_;
  InternPool<std::vector<std::string>> tag_sets_;
  std::vector<Job> due_;                   // issueDueLocked's scratch, kept for its capacity
  std::vector<std::uint64_t> publishing_;  // seqs decided, not yet handed to the sink
  std::size_t in_flight_ = 0;              // submitted to the engine, completion not yet applied
  std::size_t completing_ = 0;   // completions applied but still publishing (stop() waits)
  SteadyTime dispatch_until_{};  // when the sleeping dispatcher wakes by itself
  bool running_ = false;
  bool wake_requested_ = false;
  std::thread dispatcher_;
  struct StreamThread {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::unordered_map<fleet::InstanceId, StreamThread> streams_;
  std::condition_variable stream_wake_;  // stop() wakes the stream threads waiting to connect
};

// The host part of an apiUrl ("https://7103.api.green-api.com:443/x" →
// "7103.api.green-api.com:443").
std::string hostOf(const std::string& api_url);

}  // namespace greenfleet::scheduler
