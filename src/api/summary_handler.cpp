#include "api/summary_handler.hpp"

#include <chrono>

#include "api/api_error.hpp"
#include "api/instance_json.hpp"
#include "api/partner_sync_control.hpp"
#include "fleet/attention.hpp"
#include "fleet/outcome_kind.hpp"
#include "fleet/time_format.hpp"
#include "store/status_writer.hpp"

namespace greenfleet::api {

namespace {
double millis(fleet::Duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
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
  const auto stats = poller.stats();

  auto root = orderedObject();
  root->set("generatedAt", wallText(snapshot.takenAt, anchor));
  root->set("instances", static_cast<Poco::Int64>(counts.instances));
  auto by_state = orderedObject();
  for (const auto& [state, n] : counts.byState) by_state->set(state, static_cast<Poco::Int64>(n));
  root->set("byState", by_state);
  auto by_attention = orderedObject();
  for (std::size_t i = 0; i < fleet::kAttentionCount; ++i) {
    by_attention->set(std::string(fleet::attentionName(static_cast<fleet::Attention>(i))),
                      static_cast<Poco::Int64>(counts.byAttention[i]));
  }
  root->set("byAttention", by_attention);
  root->set("needsScan", static_cast<Poco::Int64>(counts.needsScan));
  Poco::Dynamic::Var oldest;
  if (counts.needsScan > 0) {
    if (!snapshot.needsScan.empty()) {
      const auto& v = snapshot.needsScan.front();
      auto o = orderedObject();
      o->set("id", static_cast<Poco::Int64>(v.id));
      o->set("name", v.name);
      o->set("stateSince", wallText(v.status.stateSince, anchor));
      o->set("waitingSeconds",
             static_cast<Poco::Int64>(std::chrono::duration_cast<std::chrono::seconds>(
                                          snapshot.takenAt - v.status.stateSince)
                                          .count()));
      oldest = o;
    }
  }
  root->set("oldestWaitingScan", oldest);

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
  root->set("scheduler", sched);

  auto store_health = orderedObject();
  const auto last = context_.status_writer.lastCommitAt();
  store_health->set("lastBatchCommitAgeMs",
                    last ? Poco::Dynamic::Var(millis(std::chrono::steady_clock::now() - *last))
                         : Poco::Dynamic::Var());
  store_health->set("pendingUpdates",
                    static_cast<Poco::Int64>(context_.status_writer.pendingCount()));
  root->set("store", store_health);
  root->set("byWebhook", byWebhook(counts.instances));
  {
    const auto p = context_.partner_sync.summary();
    auto partners = orderedObject();
    partners->set("accounts", static_cast<Poco::UInt64>(p.accounts));
    partners->set("failing", static_cast<Poco::UInt64>(p.failing));
    partners->set("lastSyncAt", p.last_sync_at_ms ? Poco::Dynamic::Var(fleet::formatRfc3339(
                                                        fleet::fromUnixMillis(*p.last_sync_at_ms)))
                                                  : Poco::Dynamic::Var());
    partners->set("added", static_cast<Poco::UInt64>(p.added));
    partners->set("updated", static_cast<Poco::UInt64>(p.updated));
    partners->set("expired", static_cast<Poco::UInt64>(p.expired));
    partners->set("skipped", static_cast<Poco::UInt64>(p.skipped));
    partners->set("errors", static_cast<Poco::UInt64>(p.errors));
    root->set("partners", partners);
  }
  return toJsonText(*root);
}

}  // namespace greenfleet::api
