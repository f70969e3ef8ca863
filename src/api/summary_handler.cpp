#include "api/summary_handler.hpp"

#include <chrono>

#include "api/instance_json.hpp"
#include "api/partner_sync_control.hpp"
#include "base/time_format.hpp"
#include "fleet/attention.hpp"
#include "fleet/outcome_kind.hpp"
#include "store/status_writer.hpp"

namespace greenfleet::api {

namespace {
double millis(base::Duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

Poco::JSON::Object::Ptr byStateJson(const scheduler::FleetCounts& counts) {
  auto o = orderedObject();
  for (const auto& [state, n] : counts.byState) o->set(state, static_cast<Poco::Int64>(n));
  return o;
}

Poco::JSON::Object::Ptr byAttentionJson(const scheduler::FleetCounts& counts) {
  auto o = orderedObject();
  for (std::size_t i = 0; i < fleet::kAttentionCount; ++i) {
    o->set(std::string(fleet::attentionName(static_cast<fleet::Attention>(i))),
           static_cast<Poco::Int64>(counts.byAttention[i]));
  }
  return o;
}

// The instance that has waited longest for a scan; null when none waits.
Poco::Dynamic::Var oldestWaitingScan(const scheduler::FleetSnapshot& snapshot,
                                     const base::TimeAnchor& anchor) {
  if (snapshot.counts.needsScan == 0 || snapshot.needsScan.empty()) return {};
  const auto& v = snapshot.needsScan.front();
  auto o = orderedObject();
  o->set("id", static_cast<Poco::Int64>(v.id));
  o->set("name", v.name);
  o->set("stateSince", wallText(v.status.stateSince, anchor));
  o->set("waitingSeconds",
         static_cast<Poco::Int64>(std::chrono::duration_cast<std::chrono::seconds>(
                                      snapshot.takenAt - v.status.stateSince)
                                      .count()));
  return o;
}

Poco::JSON::Object::Ptr schedulerJson(const scheduler::SchedulerStats& stats) {
  auto sched = orderedObject();
  sched->set("probesPerSecond", stats.startsPerSecond);
  sched->set("inFlight", static_cast<Poco::Int64>(stats.inFlight));
  sched->set("waitingForHost", static_cast<Poco::Int64>(stats.parked));
  sched->set("activeScanSessions", static_cast<Poco::Int64>(stats.activeSessions));
  sched->set("hostsPaused", static_cast<Poco::Int64>(stats.hostsPaused));
  sched->set("latenessP50Ms", millis(stats.latenessP50));
  sched->set("latenessP99Ms", millis(stats.latenessP99));
  sched->set("rateLimited5m", static_cast<Poco::Int64>(stats.rateLimited5m));
  sched->set("outages5m", static_cast<Poco::Int64>(stats.outages5m));
  auto errors = orderedObject();
  for (std::size_t i = 0; i < fleet::kOutcomeKindCount; ++i) {
    const auto kind = static_cast<fleet::OutcomeKind>(i);
    if (kind == fleet::OutcomeKind::ok) continue;
    errors->set(std::string(fleet::outcomeKindName(kind)),
                static_cast<Poco::Int64>(stats.outcomes5m[i]));
  }
  sched->set("errors5m", errors);
  return sched;
}

Poco::JSON::Object::Ptr storeJson(const store::StatusWriter& writer, base::SteadyTime now) {
  auto o = orderedObject();
  const auto last = writer.lastCommitAt();
  o->set("lastBatchCommitAgeMs",
         last ? Poco::Dynamic::Var(millis(now - *last)) : Poco::Dynamic::Var());
  o->set("pendingUpdates", static_cast<Poco::Int64>(writer.pendingCount()));
  return o;
}

Poco::JSON::Object::Ptr partnersJson(const PartnersSummary& p) {
  auto partners = orderedObject();
  partners->set("accounts", static_cast<Poco::UInt64>(p.accounts));
  partners->set("failing", static_cast<Poco::UInt64>(p.failing));
  partners->set("lastSyncAt", p.last_sync_at_ms ? Poco::Dynamic::Var(base::formatRfc3339(
                                                      base::fromUnixMillis(*p.last_sync_at_ms)))
                                                : Poco::Dynamic::Var());
  partners->set("added", static_cast<Poco::UInt64>(p.added));
  partners->set("updated", static_cast<Poco::UInt64>(p.updated));
  partners->set("expired", static_cast<Poco::UInt64>(p.expired));
  partners->set("skipped", static_cast<Poco::UInt64>(p.skipped));
  partners->set("errors", static_cast<Poco::UInt64>(p.errors));
  return partners;
}
}  // namespace

ApiResponse SummaryHandler::handle(ApiRequest& request) {
  request.allowQuery({});
  const auto snapshot = context_.poller.snapshot();
  ApiResponse response;
  response.cached = bodies_.get(snapshot, "", [&] { return render(*snapshot); });
  return response;
}

std::optional<ApiResponse> SummaryHandler::fast(ApiRequest& request) {
  if (!request.query.empty()) return std::nullopt;
  auto body = bodies_.fastBody(context_.poller, "");
  if (!body) return std::nullopt;
  ApiResponse response;
  response.cached = std::move(body);
  return response;
}

Poco::JSON::Object::Ptr SummaryHandler::byWebhook(std::size_t instances) {
  auto o = orderedObject();
  for (const auto& [status, n] : webhooks_->counts(static_cast<std::int64_t>(instances))) {
    o->set(std::string(fleet::webhookStatusName(status)), static_cast<Poco::Int64>(n));
  }
  return o;
}

std::string SummaryHandler::render(const scheduler::FleetSnapshot& snapshot) {
  auto& poller = context_.poller;
  const auto anchor = poller.anchor();
  const auto& counts = snapshot.counts;
  auto root = orderedObject();
  root->set("generatedAt", wallText(snapshot.takenAt, anchor));
  root->set("instances", static_cast<Poco::Int64>(counts.instances));
  root->set("byState", byStateJson(counts));
  root->set("byAttention", byAttentionJson(counts));
  root->set("needsScan", static_cast<Poco::Int64>(counts.needsScan));
  root->set("oldestWaitingScan", oldestWaitingScan(snapshot, anchor));
  root->set("scheduler", schedulerJson(poller.stats()));
  root->set("store", storeJson(context_.status_writer, context_.clock.steadyNow()));
  root->set("byWebhook", byWebhook(counts.instances));
  root->set("partners", partnersJson(context_.partner_sync.summary()));
  return toJsonText(*root);
}

}  // namespace greenfleet::api
