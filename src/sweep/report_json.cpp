#include "sweep/report_json.hpp"

#include <sstream>

#include <Poco/JSON/Array.h>

#include "base/time_format.hpp"
#include "fleet/attention.hpp"
#include "sweep/malformed_answer.hpp"

namespace greenfleet::sweep {

namespace {

Poco::JSON::Object::Ptr countsToJson(const std::map<std::string, std::int64_t>& counts) {
  Poco::JSON::Object::Ptr out = new Poco::JSON::Object;
  for (const auto& [name, n] : counts) out->set(name, static_cast<Poco::Int64>(n));
  return out;
}

std::map<std::string, std::int64_t> countsFromJson(const JsonReader& in) {
  std::map<std::string, std::int64_t> out;
  for (const auto& [name, value] : *in.raw()) {
    (void)value;
    const auto n = in.integer(name);
    if (n < 0) throw MalformedAnswer(in.pathOf(name), "negative count");
    out[name] = n;
  }
  return out;
}

Poco::Dynamic::Var optionalString(const std::optional<std::string>& s) {
  return s ? Poco::Dynamic::Var(*s) : Poco::Dynamic::Var();
}

}  // namespace

Poco::JSON::Object::Ptr toJson(const Report& report) {
  Poco::JSON::Object::Ptr out = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  out->set("total", static_cast<Poco::Int64>(report.total));
  out->set("countsByState", countsToJson(report.counts_by_state));
  // Most severe first, so a human reading the raw JSON sees the alarming counts on top.
  Poco::JSON::Object::Ptr by_attention = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  for (std::size_t i = 0; i < fleet::kAttentionCount; ++i) {
    const std::string name(fleet::attentionName(static_cast<fleet::Attention>(i)));
    by_attention->set(name, static_cast<Poco::Int64>(report.attentionCount(name)));
  }
  for (const auto& [name, n] : report.counts_by_attention) {
    if (!fleet::parseAttention(name)) by_attention->set(name, static_cast<Poco::Int64>(n));
  }
  out->set("countsByAttention", by_attention);
  Poco::JSON::Array::Ptr attention = new Poco::JSON::Array;
  for (const auto& e : report.attention) {
    Poco::JSON::Object::Ptr item = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    item->set("id", static_cast<Poco::Int64>(e.id));
    item->set("name", e.name);
    Poco::JSON::Array::Ptr tags = new Poco::JSON::Array;
    for (const auto& t : e.tags) tags->add(t);
    item->set("tags", tags);
    item->set("state", e.state);
    item->set("attention", e.attention);
    item->set("since",
              e.since ? Poco::Dynamic::Var(base::formatRfc3339(*e.since)) : Poco::Dynamic::Var());
    item->set("lastError", optionalString(e.last_error));
    attention->add(item);
  }
  out->set("attention", attention);
  Poco::JSON::Array::Ptr unprobed = new Poco::JSON::Array;
  for (const auto& u : report.unprobed) {
    Poco::JSON::Object::Ptr item = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    item->set("id", static_cast<Poco::Int64>(u.id));
    item->set("name", u.name);
    item->set("reason", u.reason);
    unprobed->add(item);
  }
  out->set("unprobed", unprobed);
  return out;
}

std::string toJsonString(const Report& report) {
  std::ostringstream out;
  toJson(report)->stringify(out);
  return out.str();
}

Report reportFromJson(const Poco::JSON::Object::Ptr& object, const std::string& path) {
  return reportFromJson(JsonReader(object, path));
}

Report reportFromJson(const JsonReader& in) {
  Report report;
  report.total = in.integer("total");
  if (report.total < 0) throw MalformedAnswer(in.pathOf("total"), "negative count");
  report.counts_by_state = countsFromJson(in.object("countsByState"));
  report.counts_by_attention = countsFromJson(in.object("countsByAttention"));
  const auto attention = in.array("attention");
  for (std::size_t i = 0; i < attention->size(); ++i) {
    const auto item = JsonReader::element(attention, i, in.pathOf("attention"));
    AttentionEntry e;
    e.id = item.integer("id");
    e.name = item.string("name");
    const auto tags = item.array("tags");
    for (std::size_t k = 0; k < tags->size(); ++k) {
      const auto tag = tags->get(static_cast<unsigned>(k));
      if (!tag.isString()) {
        throw MalformedAnswer(item.pathOf("tags") + "[" + std::to_string(k) + "]", "not a string");
      }
      e.tags.push_back(tag.extract<std::string>());
    }
    e.state = item.string("state");
    e.attention = item.string("attention");
    if (const auto since = item.optString("since")) {
      e.since = base::parseRfc3339(*since);
      if (!e.since) throw MalformedAnswer(item.pathOf("since"), "not an RFC 3339 UTC time");
    }
    e.last_error = item.optString("lastError");
    report.attention.push_back(std::move(e));
  }
  const auto unprobed = in.array("unprobed");
  for (std::size_t i = 0; i < unprobed->size(); ++i) {
    const auto item = JsonReader::element(unprobed, i, in.pathOf("unprobed"));
    report.unprobed.push_back({item.integer("id"), item.string("name"), item.string("reason")});
  }
  return report;
}

}  // namespace greenfleet::sweep
