#include "sweep/sweep_run.hpp"

#include <array>

#include <Poco/JSON/Array.h>

#include "base/time_format.hpp"
#include "sweep/malformed_answer.hpp"
#include "sweep/report_json.hpp"

namespace greenfleet::sweep {

namespace {

constexpr std::array<std::string_view, 3> kStatusNames{"running", "done", "failed"};

base::WallTime requiredTime(const JsonReader& in, const std::string& key) {
  const auto t = base::parseRfc3339(in.string(key));
  if (!t) throw MalformedAnswer(in.pathOf(key), "not an RFC 3339 UTC time");
  return *t;
}

}  // namespace

std::string_view sweepStatusName(SweepStatus status) {
  return kStatusNames.at(static_cast<std::size_t>(status));
}

std::optional<SweepStatus> parseSweepStatus(std::string_view name) {
  for (std::size_t i = 0; i < kStatusNames.size(); ++i) {
    if (kStatusNames[i] == name) return static_cast<SweepStatus>(i);
  }
  return std::nullopt;
}

Poco::JSON::Object::Ptr toJson(const SweepFilter& filter) {
  Poco::JSON::Object::Ptr out = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  if (filter.tag) out->set("tag", *filter.tag);
  if (filter.state) out->set("state", *filter.state);
  if (filter.attention) out->set("attention", *filter.attention);
  if (filter.ids) {
    Poco::JSON::Array::Ptr ids = new Poco::JSON::Array;
    for (const auto id : *filter.ids) ids->add(static_cast<Poco::Int64>(id));
    out->set("ids", ids);
  }
  return out;
}

SweepFilter sweepFilterFromJson(const JsonReader& in) {
  SweepFilter filter;
  filter.tag = in.optString("tag");
  filter.state = in.optString("state");
  filter.attention = in.optString("attention");
  if (!in.isNull("ids")) {
    const auto ids = in.array("ids");
    filter.ids.emplace();
    for (std::size_t i = 0; i < ids->size(); ++i) {
      const auto v = ids->get(static_cast<unsigned>(i));
      if (!v.isInteger() || v.isBoolean()) {
        throw MalformedAnswer(in.pathOf("ids") + "[" + std::to_string(i) + "]", "not an integer");
      }
      filter.ids->push_back(v.convert<Poco::Int64>());
    }
  }
  return filter;
}

Poco::JSON::Object::Ptr toJson(const SweepRun& run) {
  Poco::JSON::Object::Ptr out = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  out->set("id", static_cast<Poco::Int64>(run.id));
  out->set("status", std::string(sweepStatusName(run.status)));
  out->set("createdAt", base::formatRfc3339(run.created_at));
  out->set("finishedAt", run.finished_at ? Poco::Dynamic::Var(base::formatRfc3339(*run.finished_at))
                                         : Poco::Dynamic::Var());
  out->set("filter", toJson(run.filter));
  out->set("done", static_cast<Poco::Int64>(run.done));
  out->set("total", static_cast<Poco::Int64>(run.total));
  out->set("etaSeconds",
           run.eta_seconds ? Poco::Dynamic::Var(*run.eta_seconds) : Poco::Dynamic::Var());
  out->set("report", run.report ? Poco::Dynamic::Var(toJson(*run.report)) : Poco::Dynamic::Var());
  return out;
}

SweepRun sweepRunFromJson(const JsonReader& in) {
  SweepRun run;
  run.id = in.integer("id");
  const auto status_text = in.string("status");
  const auto status = parseSweepStatus(status_text);
  if (!status) throw MalformedAnswer(in.pathOf("status"), "unknown status '" + status_text + "'");
  run.status = *status;
  run.created_at = requiredTime(in, "createdAt");
  if (!in.isNull("finishedAt")) run.finished_at = requiredTime(in, "finishedAt");
  run.filter = sweepFilterFromJson(in.object("filter"));
  run.done = in.integer("done");
  run.total = in.integer("total");
  run.eta_seconds = in.optNumber("etaSeconds");
  if (!in.isNull("report")) run.report = reportFromJson(in.object("report"));
  if (run.status == SweepStatus::done && !run.report) {
    throw MalformedAnswer(in.pathOf("report"), "missing although status is done");
  }
  return run;
}

}  // namespace greenfleet::sweep
