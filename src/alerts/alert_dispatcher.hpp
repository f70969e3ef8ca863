#pragma once
// AlertDispatcher: turns attention changes into notices for `alerts.targets` and delivers them
// on one thread, in order per target, retrying a failing target with backoff (AlertQueue).
// onAttention() only records the change (it runs under the poller's lock); names are looked up
// and bodies rendered on the dispatcher's thread. A leave towards stale or unreachable is not
// reported: greenfleet lost sight of the instance, the condition did not end. The queue is in
// memory: notices still queued at shutdown are logged as lost. Thread-safe.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "alerts/alert_poster.hpp"
#include "alerts/alert_queue.hpp"
#include "alerts/alert_target.hpp"
#include "base/clock.hpp"
#include "fleet/attention.hpp"
#include "fleet/instance_id.hpp"

namespace greenfleet::alerts {

struct AlertDispatcherOptions {
  std::vector<AlertTarget> targets;
  std::set<fleet::Attention> reasons{fleet::Attention::needsScan, fleet::Attention::passkeyRequired,
                                     fleet::Attention::blocked,
                                     fleet::Attention::credentialsRejected};
  AlertQueueOptions queue;
  std::chrono::milliseconds timeout{10000};  // one delivery attempt
  std::string dashboard_url;                 // "http://host:port/ui/"; "" = none in notices
  std::chrono::milliseconds tick{1000};      // how often time-driven changes are looked for
};

// What the dispatcher asks of the service around it; each is called on the dispatcher's thread.
struct AlertHooks {
  // The instance's display name ("" if none or gone).
  std::function<std::string(fleet::InstanceId)> describe;
  // Makes the index look for time-driven changes (calls back into onAttention).
  std::function<void()> tick;
  // After every attempt: its result and, for a failure, when it is retried.
  std::function<void(const AlertDelivery&, const AlertTarget&, const PostResult&,
                     std::optional<std::chrono::milliseconds> retry_in)>
      report;
  // Notices dropped (a target's queue or the intake was full).
  std::function<void(std::uint64_t count)> dropped;
};

class AlertDispatcher {
 public:
  AlertDispatcher(AlertDispatcherOptions options, const base::Clock& clock, AlertHooks hooks);
  ~AlertDispatcher();
  AlertDispatcher(const AlertDispatcher&) = delete;
  AlertDispatcher& operator=(const AlertDispatcher&) = delete;

  void start();
  void stop();
  void onAttention(fleet::InstanceId id, fleet::Attention from, fleet::Attention to);

 private:
  struct Change {
    fleet::InstanceId id;
    fleet::Attention reason;
    bool entered;
    std::int64_t at_ms;
  };
  void run();
  void admit(const std::vector<Change>& changes, std::uint64_t intake_dropped);
  void deliverDue();

  const AlertDispatcherOptions options_;
  const base::Clock& clock_;
  const AlertHooks hooks_;
  AlertQueue queue_;  // the dispatcher thread's alone

  mutable std::mutex mutex_;  // guards the fields below
  std::condition_variable wake_;
  std::vector<Change> incoming_;
  std::uint64_t intake_dropped_ = 0;  // not yet reported
  bool running_ = false;
  std::thread thread_;
};

}  // namespace greenfleet::alerts
