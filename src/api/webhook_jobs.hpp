#pragma once
// WebhookJobs: configure-webhook for a tag or the whole fleet, as paced background jobs
// (POST /api/v1/webhooks/configure). One thread runs the jobs one after another; within a job
// instances are configured one at a time, at most `per_second` setSettings starts per second
// fleet-wide, and each instance's own spacing (scheduler::WebhookSetter) is waited out when a
// single action touched it just before. Progress is kept in memory (the last kKeptJobs jobs; not
// across restarts: a job is cheap to start again, and a configured instance is simply configured
// once more). Thread-safe; the destructor stops the thread (after the call in progress).

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "api/webhook_setup.hpp"
#include "base/clock.hpp"

namespace greenfleet::api {

struct WebhookJobItemError {
  std::int64_t id = 0;
  std::string error;  // outcome name and our short message; never a token
};

struct WebhookJob {
  std::int64_t id = 0;
  std::optional<std::string> tag;  // nullopt: the whole fleet
  std::string requested_by;
  std::string state = "queued";  // queued | running | done | failed
  std::string error;             // why a job failed as a whole (public.base_url gone …)
  std::size_t total = 0;
  std::size_t processed = 0;
  std::size_t configured = 0, mismatch = 0, missing = 0, failed = 0;
  std::vector<WebhookJobItemError> errors;  // the first kMaxErrors
  base::WallTime created_at{};
  std::optional<base::WallTime> finished_at;
  static constexpr std::size_t kMaxErrors = 20;
};

class WebhookJobs {
 public:
  static constexpr std::size_t kKeptJobs = 20;

  WebhookJobs(ApiContext& context, std::shared_ptr<WebhookSetup> setup, double per_second);
  ~WebhookJobs();
  WebhookJobs(const WebhookJobs&) = delete;
  WebhookJobs& operator=(const WebhookJobs&) = delete;

  // Queues a job over `instances`; returns its state as queued.
  WebhookJob start(std::optional<std::string> tag, std::vector<std::int64_t> instances,
                   std::string requested_by);
  std::optional<WebhookJob> get(std::int64_t id) const;
  std::vector<WebhookJob> list() const;  // newest first
  double perSecond() const { return per_second_; }

 private:
  void run();
  // One instance of a job: its check, or why it failed (`error`), or why the job cannot go on
  // (`job_error`), or that the jobs are stopping.
  struct ItemResult {
    std::optional<scheduler::WebhookCheck> check;
    std::string error;
    std::string job_error;
    bool stopped = false;
  };
  void runJob(std::int64_t job_id, const std::vector<std::int64_t>& instances);
  ItemResult configureOne(std::int64_t id);
  static void countLocked(WebhookJob& job, std::int64_t id, const ItemResult& item);
  // Waits until `until` (steady) or stop; false on stop.
  bool waitUntil(base::SteadyTime until);
  WebhookJob* findLocked(std::int64_t id);

  ApiContext& context_;
  std::shared_ptr<WebhookSetup> setup_;
  const double per_second_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<WebhookJob> jobs_;  // newest at the back
  // Jobs waiting to run, with their instances (kept out of WebhookJob, which is copied).
  std::deque<std::pair<std::int64_t, std::vector<std::int64_t>>> queue_;
  std::int64_t next_id_ = 1;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace greenfleet::api
