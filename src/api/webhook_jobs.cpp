#include "api/webhook_jobs.hpp"

#include <fmt/format.h>

#include "api/api_error.hpp"
#include "base/log.hpp"
#include "fleet/outcome_kind.hpp"

namespace greenfleet::api {

namespace {
const base::Log kLog{"webhooks"};
// A single action may hold an instance's spacing when the job reaches it; wait, then retry.
constexpr int kAttempts = 3;
}  // namespace

WebhookJobs::WebhookJobs(ApiContext& context, std::shared_ptr<WebhookSetup> setup,
                         double per_second)
    : context_(context),
      setup_(std::move(setup)),
      per_second_(per_second),
      thread_([this] { run(); }) {}

WebhookJobs::~WebhookJobs() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

WebhookJob WebhookJobs::start(std::optional<std::string> tag, std::vector<std::int64_t> instances,
                              std::string requested_by) {
  std::lock_guard lock(mutex_);
  WebhookJob job;
  job.id = next_id_++;
  job.tag = std::move(tag);
  job.requested_by = std::move(requested_by);
  job.total = instances.size();
  job.created_at = context_.clock.wallNow();
  jobs_.push_back(job);
  // Finished jobs beyond kKeptJobs are forgotten, oldest first; queued or running ones stay.
  while (jobs_.size() > kKeptJobs &&
         (jobs_.front().state == "done" || jobs_.front().state == "failed")) {
    jobs_.pop_front();
  }
  queue_.emplace_back(job.id, std::move(instances));
  wake_.notify_all();
  return job;
}

WebhookJob* WebhookJobs::findLocked(std::int64_t id) {
  for (auto& job : jobs_) {
    if (job.id == id) return &job;
  }
  return nullptr;
}

std::optional<WebhookJob> WebhookJobs::get(std::int64_t id) const {
  std::lock_guard lock(mutex_);
  for (const auto& job : jobs_) {
    if (job.id == id) return job;
  }
  return std::nullopt;
}

std::vector<WebhookJob> WebhookJobs::list() const {
  std::lock_guard lock(mutex_);
  return {jobs_.rbegin(), jobs_.rend()};
}

bool WebhookJobs::waitUntil(base::SteadyTime until) {
  std::unique_lock lock(mutex_);
  // The condition variable waits in real time: the delay is read from the injected clock.
  wake_.wait_for(lock, until - context_.clock.steadyNow(), [this] { return stopping_; });
  return !stopping_;
}

void WebhookJobs::run() {
  while (true) {
    std::pair<std::int64_t, std::vector<std::int64_t>> next;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      next = std::move(queue_.front());
      queue_.pop_front();
    }
    runJob(next.first, next.second);
  }
}

WebhookJobs::ItemResult WebhookJobs::configureOne(std::int64_t id) {
  ItemResult out;
  try {
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
      out.check = setup_->configure(id);
      using S = scheduler::WebhookCheck::Status;
      if (out.check->status != S::busy && out.check->status != S::rateLimited) break;
      if (!waitUntil(context_.clock.steadyNow() + out.check->retryAfter)) {
        out.stopped = true;
        return out;
      }
    }
  } catch (const ApiError& e) {
    // Gone since the job started (404) is one instance's failure; anything else (public.base_url
    // or the feature gone) ends the job.
    (e.status() == httpStatus(ErrorKind::notFound) ? out.error : out.job_error) = e.what();
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  return out;
}

void WebhookJobs::countLocked(WebhookJob& job, std::int64_t id, const ItemResult& item) {
  ++job.processed;
  using S = scheduler::WebhookCheck::Status;
  if (item.check && item.check->status == S::checked) {
    if (item.check->webhook == fleet::WebhookStatus::configured) ++job.configured;
    if (item.check->webhook == fleet::WebhookStatus::mismatch) ++job.mismatch;
    if (item.check->webhook == fleet::WebhookStatus::missing) ++job.missing;
    return;
  }
  ++job.failed;
  std::string error = item.error;
  if (error.empty() && item.check) {
    error = item.check->status == S::failed
                ? fmt::format("{}: {}", fleet::outcomeKindName(item.check->upstream.kind),
                              item.check->upstream.message)
                : std::string("rate_limited: the instance stayed busy");
  }
  if (job.errors.size() < WebhookJob::kMaxErrors) job.errors.push_back({id, error});
}

void WebhookJobs::runJob(std::int64_t job_id, const std::vector<std::int64_t>& instances) {
  {
    std::lock_guard lock(mutex_);
    auto* job = findLocked(job_id);
    if (job == nullptr) return;
    job->state = "running";
  }
  kLog.info("event=webhook_job_started job={} instances={}", job_id, instances.size());
  const auto pace = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(1.0 / per_second_));
  auto next_start = context_.clock.steadyNow();
  std::string job_error;
  for (const auto id : instances) {
    if (!waitUntil(next_start)) return;
    next_start = std::max(next_start + pace, context_.clock.steadyNow());
    const auto item = configureOne(id);
    if (item.stopped) return;
    if (!item.job_error.empty()) {
      job_error = item.job_error;
      break;
    }
    std::lock_guard lock(mutex_);
    auto* job = findLocked(job_id);
    if (job == nullptr) return;
    countLocked(*job, id, item);
  }
  std::lock_guard lock(mutex_);
  auto* job = findLocked(job_id);
  if (job == nullptr) return;
  job->state = job_error.empty() ? "done" : "failed";
  job->error = job_error;
  job->finished_at = context_.clock.wallNow();
  kLog.info("event=webhook_job_finished job={} state={} configured={} failed={}", job_id,
            job->state, job->configured, job->failed);
}

}  // namespace greenfleet::api
