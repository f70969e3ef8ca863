#include "app/alerting.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "api/fleet_metrics.hpp"
#include "base/comma_list.hpp"
#include "base/time_format.hpp"
#include "scheduler/fleet_poller.hpp"
#include "store/status_writer.hpp"

namespace greenfleet::app {

namespace {
std::chrono::milliseconds seconds(const config::Config& config, std::string_view key, double min,
                                  double max) {
  return std::chrono::milliseconds(
      static_cast<std::int64_t>(config.getDouble(key, min, max) * 1000));
}

std::set<fleet::Attention> parseReasons(const std::string& text) {
  std::set<fleet::Attention> out;
  for (const auto item : base::splitCommaList(text)) {
    const auto a = fleet::parseAttention(item);
    if (!a || *a == fleet::Attention::none) {
      throw config::ConfigError(fmt::format("alerts.reasons: unknown attention '{}'", item));
    }
    out.insert(*a);
  }
  return out;
}

std::string defaultDashboardUrl(const config::Config& config) {
  return fmt::format("http://{}:{}/ui/", config.getString("http.host"),
                     config.getInt("http.port", 0, 65535));
}
}  // namespace

std::unique_ptr<alerts::AlertDispatcher> buildAlertDispatcher(
    const config::Config& config, const base::Clock& clock, store::StatusWriter& writer,
    api::FleetMetrics& metrics, const std::unique_ptr<scheduler::FleetPoller>& poller) {
  alerts::AlertDispatcherOptions options;
  try {
    options.targets = alerts::parseAlertTargets(config.getString("alerts.targets"));
  } catch (const std::invalid_argument& e) {
    throw config::ConfigError(e.what());
  }
  if (options.targets.empty()) return nullptr;
  options.reasons = parseReasons(config.getString("alerts.reasons"));
  options.queue.max_per_target =
      static_cast<std::size_t>(config.getInt("alerts.max_queue", 1, 10'000'000));
  options.queue.retry_min = seconds(config, "alerts.retry_min_s", 0.01, 3600);
  options.queue.retry_max = seconds(config, "alerts.retry_max_s", 0.01, 86400);
  options.timeout = seconds(config, "alerts.timeout_s", 0.1, 300);
  options.dashboard_url = config.getString("alerts.dashboard_url");
  if (options.dashboard_url.empty()) options.dashboard_url = defaultDashboardUrl(config);

  alerts::AlertHooks hooks;
  hooks.describe = [&poller](fleet::InstanceId id) {
    const auto view = poller ? poller->view(id) : std::nullopt;
    return view ? view->name : std::string();
  };
  hooks.tick = [&poller] {
    if (poller) poller->counts();  // a query re-derives the attention whose timer is due
  };
  hooks.report = [&clock, &writer, &metrics](const alerts::AlertDelivery& delivery,
                                             const alerts::AlertTarget& target,
                                             const alerts::PostResult& result,
                                             std::optional<std::chrono::milliseconds> retry_in) {
    metrics.recordAlerts(result.ok ? "delivered" : "failed");
    store::EventRow e;
    e.at_ms = base::toUnixMillis(clock.wallNow());
    e.source = "alert";
    e.type = "alert";
    const auto what = fmt::format("{} {}", fleet::attentionName(delivery.notice.reason),
                                  delivery.notice.entered ? "entered" : "left");
    e.detail = result.ok ? fmt::format("{}: delivered to {} (attempt {})", what, target.label(),
                                       delivery.attempt)
                         : fmt::format("{}: {} answered {} (attempt {}, retry in {} ms)", what,
                                       target.label(), result.error, delivery.attempt,
                                       retry_in.value_or(std::chrono::milliseconds(0)).count());
    writer.enqueueEvent(delivery.notice.id, std::move(e));
  };
  hooks.dropped = [&metrics](std::uint64_t count) { metrics.recordAlerts("dropped", count); };
  return std::make_unique<alerts::AlertDispatcher>(std::move(options), clock, std::move(hooks));
}

}  // namespace greenfleet::app
