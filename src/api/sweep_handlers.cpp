#include "api/sweep_handlers.hpp"

#include <charconv>

#include <Poco/JSON/Array.h>
#include <fmt/format.h>

#include "api/api_error.hpp"
#include "api/json_fields.hpp"
#include "base/time_format.hpp"
#include "fleet/attention.hpp"
#include "fleet/input_limits.hpp"
#include "sweep/report_json.hpp"
#include "sweep/sweep_runner.hpp"

namespace greenfleet::api {

namespace {
std::int64_t positiveId(const std::string& text, const char* what) {
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v <= 0) {
    throw ApiError::notFound(fmt::format("no {} '{}'", what, text));
  }
  return v;
}
}  // namespace

ApiResponse SweepHandlers::create(ApiRequest& request) {
  request.allowQuery({});
  sweep::SweepFilter filter;
  if (!request.body.empty()) {
    JsonFields f(parseJsonBody(request.body));
    filter.tag = f.optString("tag", fleet::kMaxTagLength);
    filter.state = f.optString("state", fleet::kMaxStateLength);
    filter.attention = f.optString("attention", fleet::kMaxTypeLength);
    if (filter.attention && !fleet::parseAttention(*filter.attention)) {
      throw ApiError::unprocessable(fmt::format("unknown attention '{}'", *filter.attention),
                                    "attention");
    }
    filter.ids = f.optInt64Array("ids");
    f.finish();
  }
  const auto run = context_.sweeps.begin(filter, request.caller ? request.caller->name : "-");
  ApiResponse r = ApiResponse::json(202, *sweep::toJson(run));
  r.headers.emplace_back("Location", fmt::format("/api/v1/sweeps/{}", run.id));
  return r;
}

ApiResponse SweepHandlers::get(ApiRequest& request) {
  request.allowQuery({});
  const auto id = positiveId(request.params.at("id"), "sweep");
  const auto run = context_.sweeps.get(id);
  if (!run) throw ApiError::notFound(fmt::format("no sweep {}", id));
  return ApiResponse::json(200, *sweep::toJson(*run));
}

ApiResponse SweepHandlers::list(ApiRequest& request) {
  request.allowQuery({"limit", "before"});
  const auto limit = static_cast<std::size_t>(request.queryInt("limit", 20, 1, 200));
  std::optional<std::int64_t> before;
  if (const auto it = request.query.find("before"); it != request.query.end()) {
    before = positiveId(it->second, "sweep");
  }
  Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
  const auto runs = context_.sweeps.list(limit, before);
  for (const auto& run : runs) items->add(sweep::toJson(run));
  auto root = orderedObject();
  root->set("items", items);
  root->set("nextBefore", runs.size() == limit
                              ? Poco::Dynamic::Var(static_cast<Poco::Int64>(runs.back().id))
                              : Poco::Dynamic::Var());
  return ApiResponse::json(200, *root);
}

ApiResponse SweepHandlers::report(ApiRequest& request) {
  request.allowQuery({"tag"});
  const auto tag = request.queryText("tag", fleet::kMaxTagLength);
  auto root = orderedObject();
  root->set("generatedAt", base::formatRfc3339(context_.clock.wallNow()));
  root->set("report", sweep::toJson(context_.sweeps.currentReport(tag)));
  return ApiResponse::json(200, *root);
}

}  // namespace greenfleet::api
