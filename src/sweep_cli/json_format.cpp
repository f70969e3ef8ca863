#include "sweep_cli/json_format.hpp"

#include <sstream>

#include <Poco/JSON/Object.h>

#include "base/time_format.hpp"
#include "sweep/report_json.hpp"

namespace greenfleet::sweep_cli {

namespace {
Poco::Dynamic::Var optionalInt(const std::optional<std::int64_t>& v) {
  return v ? Poco::Dynamic::Var(static_cast<Poco::Int64>(*v)) : Poco::Dynamic::Var();
}
}  // namespace

std::string formatJson(const SweepOutcome& outcome) {
  Poco::JSON::Object::Ptr out = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  out->set("status", std::string(checkStatusName(outcome.verdict.status)));
  out->set("exitCode", exitCode(outcome.verdict.status));
  out->set("reason", outcome.verdict.reason);
  out->set("source", outcome.source);
  out->set("sweepId", optionalInt(outcome.sweep_id));
  out->set("generatedAt", outcome.generated_at
                              ? Poco::Dynamic::Var(base::formatRfc3339(*outcome.generated_at))
                              : Poco::Dynamic::Var());
  Poco::JSON::Object::Ptr thresholds = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  thresholds->set("warnNeedsScan", optionalInt(outcome.thresholds.warn_needs_scan));
  thresholds->set("critNeedsScan", optionalInt(outcome.thresholds.crit_needs_scan));
  thresholds->set("critBlocked", optionalInt(outcome.thresholds.crit_blocked));
  out->set("thresholds", thresholds);
  out->set("report",
           outcome.report ? Poco::Dynamic::Var(toJson(*outcome.report)) : Poco::Dynamic::Var());
  std::ostringstream text;
  out->stringify(text);
  return text.str() + "\n";
}

}  // namespace greenfleet::sweep_cli
