#include "api/instance_json.hpp"

#include <set>

#include <Poco/JSON/Array.h>
#include <fmt/format.h>

#include "api/api_error.hpp"
#include "api/api_request.hpp"
#include "api/json_fields.hpp"
#include "base/log.hpp"
#include "base/time_format.hpp"
#include "fleet/attention.hpp"
#include "store/tags_json.hpp"

namespace greenfleet::api {

namespace {
const base::Log kLog{"api"};

void check(const std::optional<std::string>& problem, const std::string& field) {
  if (problem) throw ApiError::unprocessable(fmt::format("{} {}", field, *problem), field);
}

std::string checkedToken(const std::string& token, const std::string& field) {
  check(fleet::validateToken(token), field);
  if (!fleet::looksLikeGreenApiToken(token)) {
    kLog.warn("event=unusual_token_format length={} hint={}", token.size(), base::tokenHint(token));
  }
  return token;
}

Poco::Dynamic::Var optTime(const std::optional<std::int64_t>& ms) {
  if (!ms) return {};
  return base::formatRfc3339(base::fromUnixMillis(*ms));
}

Poco::Dynamic::Var optText(const std::optional<std::string>& s) {
  if (!s) return {};
  return *s;
}

// The checks of one instance, in the order they are reported, over any source of typed fields:
// JsonFields (a Poco tree) or BatchItemFields (the streaming batch reader's item).
template <typename Fields>
fleet::RegisteredInstance readInstance(Fields& f, const std::string& default_api_url,
                                       ApiUrlAdmission& admission) {
  fleet::RegisteredInstance in;
  const auto id = f.optInt64("id");
  if (!id) {
    throw ApiError::badRequest("missing_field", f.fieldName("id") + " is required (idInstance)",
                               f.fieldName("id"));
  }
  check(fleet::validateInstanceId(*id), f.fieldName("id"));
  in.id = *id;
  auto token = f.optString("token");
  if (!token) {
    throw ApiError::badRequest("missing_field",
                               f.fieldName("token") + " is required (apiTokenInstance)",
                               f.fieldName("token"));
  }
  in.token = checkedToken(*token, f.fieldName("token"));
  in.api_url =
      admission.admit(f.optString("apiUrl").value_or(default_api_url), f.fieldName("apiUrl"));
  in.name = f.optString("name").value_or("");
  check(fleet::validateName(in.name), f.fieldName("name"));
  if (auto tags = f.optStringArray("tags")) in.tags = checkedTags(*tags, f.fieldName("tags"));
  in.enabled = f.optBool("enabled").value_or(true);
  f.finish();
  return in;
}

// A BatchItem read through the JsonFields interface (its types are already right; no unknown
// fields). The "[i]." prefix is only formatted for an error.
class BatchItemFields {
 public:
  BatchItemFields(BatchItem& item, std::size_t index)
      : item_(item), prefix_("[" + std::to_string(index) + "].") {}
  std::optional<std::int64_t> optInt64(const char*) const { return item_.id; }
  std::optional<std::string> optString(std::string_view name) {
    if (name == "token") return std::move(item_.token);
    if (name == "apiUrl") return std::move(item_.api_url);
    return std::move(item_.name);
  }
  std::optional<std::vector<std::string>> optStringArray(const char*) {
    return std::move(item_.tags);
  }
  std::optional<bool> optBool(const char*) const { return item_.enabled; }
  void finish() const {}
  // Asked for every checked field, error or not: a short string, no formatting pass.
  std::string fieldName(const std::string& name) const { return prefix_ + name; }

 private:
  BatchItem& item_;
  std::string prefix_;
};
}  // namespace

std::vector<std::string> checkedTags(const std::vector<std::string>& tags,
                                     const std::string& field) {
  if (tags.size() > fleet::kMaxTags) {
    throw ApiError::unprocessable(
        fmt::format("{} may hold at most {} tags", field, fleet::kMaxTags), field);
  }
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < tags.size(); ++i) {
    check(fleet::validateTag(tags[i]), fmt::format("{}[{}]", field, i));
    if (seen.insert(tags[i]).second) out.push_back(tags[i]);  // duplicates folded, order kept
  }
  return out;
}

std::string checkedApiUrl(const std::string& url, const std::string& field,
                          const greenapi::UpstreamHostPolicy& allowed_hosts) {
  auto admitted = allowed_hosts.admit(url);
  if (!admitted) {
    throw ApiError::unprocessable(fmt::format("{} {}", field, admitted.error()), field);
  }
  return std::move(admitted).value();
}

const std::string& ApiUrlAdmission::admit(const std::string& url, const std::string& field) {
  if (!last_ || last_->first != url) {
    last_.emplace(url, checkedApiUrl(url, field, hosts_));  // a refusal throws, never remembered
  }
  return last_->second;
}

fleet::RegisteredInstance instanceFromJson(const Poco::Dynamic::Var& json,
                                           const std::string& prefix,
                                           const std::string& default_api_url,
                                           const greenapi::UpstreamHostPolicy& allowed_hosts) {
  JsonFields f(json, prefix);
  ApiUrlAdmission admission(allowed_hosts);
  return readInstance(f, default_api_url, admission);
}

fleet::RegisteredInstance instanceFromBatchItem(BatchItem& item, std::size_t index,
                                                const std::string& default_api_url,
                                                ApiUrlAdmission& admission) {
  BatchItemFields f(item, index);
  return readInstance(f, default_api_url, admission);
}

store::InstancePatch instancePatchFromJson(const Poco::Dynamic::Var& json,
                                           const greenapi::UpstreamHostPolicy& allowed_hosts) {
  JsonFields f(json);
  if (f.has("id")) {
    throw ApiError::unprocessable("id cannot be changed; delete and re-register instead", "id");
  }
  store::InstancePatch p;
  if (auto url = f.optString("apiUrl")) p.api_url = checkedApiUrl(*url, "apiUrl", allowed_hosts);
  if (auto token = f.optString("token")) p.token = checkedToken(*token, "token");
  if (auto name = f.optString("name")) {
    check(fleet::validateName(*name), "name");
    p.name = *name;
  }
  if (auto tags = f.optStringArray("tags")) p.tags = checkedTags(*tags, "tags");
  p.enabled = f.optBool("enabled");
  f.finish();
  if (!p.api_url && !p.token && !p.name && !p.tags && !p.enabled) {
    throw ApiError::badRequest("empty_patch",
                               "nothing to change: send one of apiUrl, token, name, tags, enabled");
  }
  return p;
}

std::string wallText(base::SteadyTime t, const base::TimeAnchor& anchor) {
  return base::formatRfc3339(anchor.toWall(t));
}

namespace {
Poco::Dynamic::Var optWall(const std::optional<base::SteadyTime>& t, const base::TimeAnchor& a) {
  if (!t) return {};
  return wallText(*t, a);
}

void setLiveStatus(Poco::JSON::Object& o, const scheduler::InstanceView& v,
                   const base::TimeAnchor& a) {
  const auto& st = v.status;
  const bool known = st.state.kind() != fleet::StateKind::unknown;
  o.set("state", known ? Poco::Dynamic::Var(st.state.raw()) : Poco::Dynamic::Var());
  o.set("attention", std::string(fleet::attentionName(v.attention)));
  o.set("stateSince",
        known ? Poco::Dynamic::Var(wallText(st.stateSince, a)) : Poco::Dynamic::Var());
  o.set("lastCheckedAt", optWall(st.lastCheckedAt, a));
  o.set("nextCheckAt", optWall(v.nextProbeAt, a));
  o.set("lastError", st.lastErrorKind ? Poco::Dynamic::Var(st.lastError) : Poco::Dynamic::Var());
  o.set("phone", st.phone ? Poco::Dynamic::Var(*st.phone) : Poco::Dynamic::Var());
  o.set("lastObservedState", st.lastObservedState.kind() == fleet::StateKind::unknown
                                 ? Poco::Dynamic::Var()
                                 : Poco::Dynamic::Var(st.lastObservedState.raw()));
  o.set("lastCheckDurationMs",
        static_cast<Poco::Int64>(
            std::chrono::duration_cast<std::chrono::milliseconds>(st.lastCheckDuration).count()));
  o.set("scanSession", v.session.has_value());
  o.set("qrAvailable", v.qr.has_value() && v.qr->kind == fleet::QrKind::qrCode);
}
}  // namespace

Poco::JSON::Object::Ptr instanceToJson(const store::InstanceRow& row,
                                       const scheduler::InstanceView* live,
                                       const base::TimeAnchor* anchor) {
  const auto& in = row.instance;
  const auto& st = row.status;
  auto o = orderedObject();
  o->set("id", static_cast<Poco::Int64>(in.id));
  o->set("name", in.name);
  o->set("apiUrl", in.api_url);
  o->set("tokenHint", base::tokenHint(in.token));
  Poco::JSON::Array::Ptr tags = new Poco::JSON::Array;
  for (const auto& t : in.tags) tags->add(t);
  o->set("tags", tags);
  o->set("enabled", in.enabled);
  if (live != nullptr && anchor != nullptr) {
    setLiveStatus(*o, *live, *anchor);
  } else {
    o->set("state", optText(st.state));
    o->set("attention", st.attention);
    o->set("stateSince", optTime(st.state_since_ms));
    o->set("lastCheckedAt", optTime(st.last_checked_at_ms));
    o->set("nextCheckAt", optTime(st.next_check_at_ms));
    o->set("lastError", optText(st.last_error));
    o->set("phone", optText(st.phone));
  }
  o->set("webhook", std::string(fleet::webhookStatusName(row.webhook)));
  o->set("createdAt", base::formatRfc3339(in.created_at));
  o->set("updatedAt", base::formatRfc3339(in.updated_at));
  return o;
}

namespace {
void appendOptString(std::string& out, const std::optional<std::string>& text) {
  if (text) {
    store::appendJsonString(out, *text);
  } else {
    out += "null";
  }
}

void appendOptTime(std::string& out, const std::optional<std::int64_t>& ms) {
  appendOptString(
      out, ms ? std::optional(base::formatRfc3339(base::fromUnixMillis(*ms))) : std::nullopt);
}
}  // namespace

void appendInstanceJson(std::string& out, const store::InstanceRow& row) {
  const auto& in = row.instance;
  const auto& st = row.status;
  out += "{\"id\":";
  out += std::to_string(in.id);
  out += ",\"name\":";
  store::appendJsonString(out, in.name);
  out += ",\"apiUrl\":";
  store::appendJsonString(out, in.api_url);
  out += ",\"tokenHint\":";
  store::appendJsonString(out, base::tokenHint(in.token));
  out += ",\"tags\":[";
  for (std::size_t t = 0; t < in.tags.size(); ++t) {
    if (t > 0) out += ',';
    store::appendJsonString(out, in.tags[t]);
  }
  out += "],\"enabled\":";
  out += in.enabled ? "true" : "false";
  out += ",\"state\":";
  appendOptString(out, st.state);
  out += ",\"attention\":";
  store::appendJsonString(out, st.attention);
  out += ",\"stateSince\":";
  appendOptTime(out, st.state_since_ms);
  out += ",\"lastCheckedAt\":";
  appendOptTime(out, st.last_checked_at_ms);
  out += ",\"nextCheckAt\":";
  appendOptTime(out, st.next_check_at_ms);
  out += ",\"lastError\":";
  appendOptString(out, st.last_error);
  out += ",\"phone\":";
  appendOptString(out, st.phone);
  out += ",\"webhook\":\"";
  out += fleet::webhookStatusName(row.webhook);
  out += "\",\"createdAt\":";
  store::appendJsonString(out, base::formatRfc3339(in.created_at));
  out += ",\"updatedAt\":";
  store::appendJsonString(out, base::formatRfc3339(in.updated_at));
  out += '}';
}

}  // namespace greenfleet::api
