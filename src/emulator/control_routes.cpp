#include "emulator/control_routes.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string_view>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/URI.h>
#include <fmt/format.h>

#include "emulator/control_json.hpp"
#include "emulator/controllable_clock.hpp"
#include "emulator/webhook_sender.hpp"

namespace greenfleet::emulator {

namespace {

// Verbs as Poco spells them (kGet …), without pulling Poco's server types in.
constexpr std::string_view kGet = "GET";
constexpr std::string_view kPost = "POST";
constexpr std::string_view kPut = "PUT";
constexpr std::string_view kDelete = "DELETE";
constexpr std::chrono::milliseconds kMaxClockStep{86400000};  // one day per advance

std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> parts;
  Poco::URI(path).getPathSegments(parts);  // empty segments ("//") are skipped, as before
  return parts;
}

std::optional<std::int64_t> parseId(const std::string& text) {
  if (text.empty() || text.size() > 18 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return std::stoll(text);
}

void addInto(MethodCounters& total, const MethodCounters& c) {
  total.requests += c.requests;
  total.accepted += c.accepted;
  total.rateLimited += c.rateLimited;
  total.injectedFaults += c.injectedFaults;
  total.maxPerSecond = std::max(total.maxPerSecond, c.maxPerSecond);
}

// {"apiUrl","count","instances":[...],"partnerToken"} for the instances fn(id) selects, written
// directly (see control_json.hpp).
template <typename Ids, typename Filter>
std::string instancesBody(EmulatorContext& ctx, const Ids& ids, bool with_counters,
                          bool with_header, Filter&& keep) {
  const std::string api_url_json = jsonString(ctx.baseUrl);
  std::string items;
  items.reserve(ids.size() * 256);
  std::size_t count = 0;
  for (const auto id : ids) {
    ctx.registry.with(id,
                      [&](EmulatedInstance& inst, base::SteadyTime now, std::vector<Transition>&) {
                        if (!keep(inst)) return;
                        if (count++ > 0) items += ',';
                        appendInstanceJson(items, api_url_json, inst, now, with_counters);
                      });
  }
  if (!with_header) return "{\"instances\":[" + items + "]}";
  std::string body;
  body.reserve(items.size() + 256);
  body +=
      "{\"apiUrl\":" + api_url_json + ",\"count\":" + std::to_string(count) + ",\"instances\":[";
  body += items;
  body += "],\"partnerToken\":" + jsonString(ctx.registry.partnerToken()) + "}";
  return body;
}

http::Response listInstances(EmulatorContext& ctx, const http::Request& request) {
  std::string state_filter;
  bool with_counters = false;
  for (const auto& [key, value] : Poco::URI(request.uri).getQueryParameters()) {
    if (key == "state") state_filter = value;
    if (key == "counters") with_counters = value == "1" || value == "true";
  }
  return jsonResponse(200, instancesBody(ctx, ctx.registry.ids(), with_counters, true,
                                         [&](const EmulatedInstance& inst) {
                                           return state_filter.empty() ||
                                                  inst.state() == state_filter;
                                         }));
}

http::Response addInstances(EmulatorContext& ctx, const http::Request& request) {
  const auto body = readJsonObject(request.body);
  int count = 1;
  std::string state = states::kNotAuthorized;
  if (body->has("count")) {
    const auto v = body->get("count");
    if (!v.isInteger() || v.convert<int>() < 1 || v.convert<int>() > 100000) {
      return errorResponse(400, "count must be an integer within 1..100000");
    }
    count = v.convert<int>();
  }
  if (body->has("state")) {
    const auto v = body->get("state");
    if (!v.isString() || !states::isKnown(v.extract<std::string>())) {
      return errorResponse(400, "state must be a known state name");
    }
    state = v.extract<std::string>();
  }
  return jsonResponse(201, instancesBody(ctx, ctx.registry.add(count, state), false, false,
                                         [](const EmulatedInstance&) { return true; }));
}

http::Response counters(EmulatorContext& ctx) {
  std::map<std::string, MethodCounters> per_method;
  MethodCounters total;
  std::string body = "{\"instances\":{";
  bool first = true;
  for (const auto id : ctx.registry.ids()) {
    ctx.registry.with(id, [&](EmulatedInstance& inst, base::SteadyTime, std::vector<Transition>&) {
      bool any = false;
      inst.forEachCounter([&](const std::string& method, const MethodCounters& c) {
        addInto(per_method[method], c);
        addInto(total, c);
        any = true;
      });
      if (!any) return;
      if (!first) body += ',';
      first = false;
      body += '"' + std::to_string(id) + "\":";
      appendCountersJson(body, inst);
    });
  }
  body += "},\"methods\":{";
  first = true;
  for (const auto& [method, c] : per_method) {
    if (!first) body += ',';
    first = false;
    body += jsonString(method) + ':';
    appendTotalsJson(body, c);
  }
  body += "},\"totals\":";
  appendTotalsJson(body, total);
  fmt::format_to(
      std::back_inserter(body),
      R"(,"webhooks":{{"dropped":{},"failed":{},"sent":{}}},"partner":{{"getInstances":{}}}}})",
      ctx.webhooks ? ctx.webhooks->dropped() : 0, ctx.webhooks ? ctx.webhooks->failed() : 0,
      ctx.webhooks ? ctx.webhooks->sent() : 0, ctx.registry.partnerCalls());
  return jsonResponse(200, std::move(body));
}

http::Response faults(EmulatorContext& ctx, const http::Request& request,
                      std::optional<std::int64_t> id) {
  const std::string& verb = request.method;
  std::optional<FaultProfile> update;
  bool clear = false;
  if (verb == kPut || verb == kPost) {
    auto parsed = FaultProfile::fromJson(readJsonObject(request.body));
    if (!parsed) return errorResponse(400, parsed.error());
    update = std::move(parsed).value();
  } else if (verb == kDelete) {
    clear = true;
  } else if (verb != kGet) {
    return errorResponse(405, "use GET, PUT, POST or DELETE");
  }
  if (!id) {
    if (update) ctx.registry.setGlobalFaults(*update);
    if (clear) ctx.registry.setGlobalFaults(FaultProfile{});
    return jsonResponse(200, ctx.registry.globalFaults()->toJson());
  }
  Poco::Dynamic::Var current;
  const bool known = ctx.registry.with(
      *id, [&](EmulatedInstance& inst, base::SteadyTime, std::vector<Transition>&) {
        if (update) inst.faults = *update;
        if (clear) inst.faults.reset();
        if (inst.faults) current = inst.faults->toJson();
      });
  if (!known) return errorResponse(404, "unknown instance");
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("idInstance", static_cast<Poco::Int64>(*id));
  o->set("faults", current);  // null: the global profile applies
  return jsonResponse(200, o);
}

// POST /_emulator/instances/{id}/partner {"typeInstance","deleted","isExpired","rotateToken"}:
// how getInstances lists the instance; rotateToken gives it a new token (the old one then gets
// 401 on the wire, as after a rotation in the partner console).
http::Response partnerListing(EmulatorContext& ctx, const http::Request& request, std::int64_t id) {
  if (request.method != kPost) return errorResponse(405, "use POST");
  const auto body = readJsonObject(request.body);
  std::optional<std::uint8_t> type;
  std::optional<bool> deleted, expired;
  bool rotate = false;
  for (const auto& [name, value] : *body) {
    if (name == "typeInstance") {
      const auto& types = partnerTypes();
      const auto it = value.isString()
                          ? std::find(types.begin(), types.end(), value.extract<std::string>())
                          : types.end();
      if (it == types.end())
        return errorResponse(400, "typeInstance must be whatsapp, telegram, v3 or max");
      type = static_cast<std::uint8_t>(it - types.begin());
    } else if ((name == "deleted" || name == "isExpired" || name == "rotateToken") &&
               value.isBoolean()) {
      const bool flag = value.extract<bool>();
      if (name == "deleted") deleted = flag;
      if (name == "isExpired") expired = flag;
      if (name == "rotateToken") rotate = flag;
    } else {
      return errorResponse(400, fmt::format("unknown or mistyped field '{}'", name));
    }
  }
  std::string out;
  const bool known = ctx.registry.with(
      id, [&](EmulatedInstance& inst, base::SteadyTime now, std::vector<Transition>&) {
        if (type) inst.partner.type = *type;
        if (deleted) inst.partner.deleted = *deleted;
        if (expired) inst.partner.expired = *expired;
        if (rotate) inst.rotateToken();
        appendInstanceJson(out, jsonString(ctx.baseUrl), inst, now, false);
      });
  if (!known) return errorResponse(404, "unknown instance");
  return jsonResponse(200, std::move(out));
}

// POST /_emulator/instances/{id}/passkey {"required": true|false} (no body: true): while
// notAuthorized, qr and scanqrcode answer passkeyRequired instead of a QR.
http::Response passkey(EmulatorContext& ctx, const http::Request& request, std::int64_t id) {
  if (request.method != kPost) return errorResponse(405, "use POST");
  bool required = true;
  if (!request.body.empty()) {
    const auto body = readJsonObject(request.body);
    for (const auto& [name, value] : *body) {
      if (name != "required" || !value.isBoolean()) {
        return errorResponse(400, fmt::format("unknown or mistyped field '{}'", name));
      }
      required = value.extract<bool>();
    }
  }
  std::string out;
  const bool known = ctx.registry.with(
      id, [&](EmulatedInstance& inst, base::SteadyTime now, std::vector<Transition>&) {
        inst.passkeyRequired = required;
        appendInstanceJson(out, jsonString(ctx.baseUrl), inst, now, false);
      });
  if (!known) return errorResponse(404, "unknown instance");
  return jsonResponse(200, std::move(out));
}

// GET /_emulator/instances/{id}: the instance with its credentials.
http::Response instanceView(EmulatorContext& ctx, std::int64_t id) {
  std::string out;
  if (!ctx.registry.with(
          id, [&](EmulatedInstance& inst, base::SteadyTime now, std::vector<Transition>&) {
            appendInstanceJson(out, jsonString(ctx.baseUrl), inst, now, true);
          })) {
    return errorResponse(404, "unknown instance");
  }
  return jsonResponse(200, std::move(out));
}

// What the body of a POST control action asks for.
struct ActionArguments {
  std::string new_state;  // state: the state to set
  std::string code;       // confirm-code: the code typed; empty = the pending one
};

// Reads the body of a POST control action into args; the error answer when the body is not
// acceptable or there is no such action.
std::optional<http::Response> readActionArguments(const http::Request& request,
                                                  const std::string& action,
                                                  ActionArguments& args) {
  if (action == "state") {
    const auto body = readJsonObject(request.body);
    if (!body->has("state") || !body->get("state").isString()) {
      return errorResponse(400, "field 'state' (string) is required");
    }
    args.new_state = body->get("state").extract<std::string>();
    if (!states::isKnown(args.new_state)) {
      return errorResponse(400, fmt::format("unknown state '{}'", args.new_state));
    }
  } else if (action == "confirm-code") {
    // The phone holder typed the pairing code; {"code": "..."} or no body (the pending one).
    if (!request.body.empty()) {
      const auto body = readJsonObject(request.body);
      if (body->has("code") && !body->get("code").isString()) {
        return errorResponse(400, "field 'code' must be a string");
      }
      if (body->has("code")) args.code = body->get("code").extract<std::string>();
    }
  } else if (action != "scan" && action != "logout" && action != "reboot") {
    return errorResponse(404, "no such control route");
  }
  return std::nullopt;
}

// Runs a POST control action (scan, confirm-code, state, logout, reboot) on the instance: the
// instance after it, or 409 when a scan or pairing code does not fit its state.
http::Response runAction(EmulatorContext& ctx, std::int64_t id, const std::string& action,
                         const ActionArguments& args) {
  std::string out;
  bool conflict = false;
  std::string state_now;
  const bool known = ctx.registry.with(
      id, [&](EmulatedInstance& inst, base::SteadyTime now, std::vector<Transition>& tr) {
        if (action == "scan") {
          conflict = !inst.scan(now, tr);
        } else if (action == "confirm-code") {
          conflict = !inst.confirmPairingCode(args.code, now, tr);
        } else if (action == "state") {
          inst.setState(args.new_state, now, tr);
        } else if (action == "logout") {
          inst.logout(now, tr);
        } else {
          inst.reboot(now, tr);
        }
        state_now = inst.state();
        appendInstanceJson(out, jsonString(ctx.baseUrl), inst, now, false);
      });
  if (!known) return errorResponse(404, "unknown instance");
  if (conflict) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("error", action == "scan"
                        ? "instance is not waiting for a QR scan (state must be notAuthorized)"
                        : "no live pairing code matches (or the state is not notAuthorized)");
    o->set("state", state_now);
    return jsonResponse(409, o);
  }
  return jsonResponse(200, std::move(out));
}

http::Response instanceRoute(EmulatorContext& ctx, const http::Request& request, std::int64_t id,
                             const std::string& action) {
  if (action == "faults") return faults(ctx, request, id);
  if (action == "partner") return partnerListing(ctx, request, id);
  if (action == "passkey") return passkey(ctx, request, id);
  if (action.empty() && request.method == kGet) return instanceView(ctx, id);
  if (request.method != kPost) return errorResponse(405, "use POST");
  ActionArguments args;
  if (auto refused = readActionArguments(request, action, args)) return std::move(*refused);
  return runAction(ctx, id, action, args);
}

Poco::JSON::Object::Ptr configJson(const EmulatorContext& ctx) {
  const auto& o = ctx.options;
  Poco::JSON::Object::Ptr d = new Poco::JSON::Object;
  d->set("initializingMs", static_cast<Poco::Int64>(o.delays.initializing.count()));
  d->set("startingMs", static_cast<Poco::Int64>(o.delays.starting.count()));
  d->set("logoutMs", static_cast<Poco::Int64>(o.delays.logout.count()));
  d->set("rebootMs", static_cast<Poco::Int64>(o.delays.reboot.count()));
  d->set("qrRotationMs", static_cast<Poco::Int64>(o.delays.qrRotation.count()));
  d->set("qrQuirkMs", static_cast<Poco::Int64>(o.delays.qrQuirk.count()));
  d->set("qrQuirkGapMs", static_cast<Poco::Int64>(o.delays.qrQuirkGap.count()));
  d->set("wsTimeoutMs", static_cast<Poco::Int64>(o.delays.wsTimeout.count()));
  Poco::JSON::Object::Ptr limits = new Poco::JSON::Object;
  for (const auto& [method, n] : o.rateLimits) limits->set(method, n);
  Poco::JSON::Object::Ptr c = new Poco::JSON::Object;
  c->set("apiUrl", ctx.baseUrl);
  c->set("seed", static_cast<Poco::UInt64>(o.seed));
  c->set("delays", d);
  c->set("rateLimits", limits);
  c->set("rateWindowMs", static_cast<Poco::Int64>(o.rateWindow.count()));
  c->set("initializingAnswer", o.initializingAnswer);
  c->set("wsTimeoutType", o.wsTimeoutType);
  c->set("hangMaxMs", static_cast<Poco::Int64>(o.hangMax.count()));
  c->set("webhookUrl", o.webhookUrl);
  c->set("controllableClock", ctx.clock != nullptr);
  c->set("instances", static_cast<Poco::UInt64>(ctx.registry.size()));
  return c;
}

// POST /_emulator/clock/advance {"ms":N}: moves a --controllable-clock forward by N ms (tests).
http::Response advanceClock(EmulatorContext& ctx, const http::Request& request) {
  if (request.method != kPost) return errorResponse(405, "use POST");
  if (ctx.clock == nullptr) {
    return errorResponse(409, "the clock is the system clock (start with --controllable-clock)");
  }
  const auto body = readJsonObject(request.body);
  const auto value = body->has("ms") ? body->get("ms") : Poco::Dynamic::Var();
  std::int64_t ms = -1;
  try {
    if (value.isInteger()) ms = value.convert<std::int64_t>();
  } catch (const Poco::Exception&) {  // beyond int64
  }
  if (ms < 0 || ms > kMaxClockStep.count()) {
    return errorResponse(400, "ms must be an integer within 0..86400000");
  }
  ctx.clock->advance(std::chrono::milliseconds(ms));
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(ctx.clock->elapsed());
  return jsonResponse(200,
                      fmt::format(R"({{"advancedMs":{},"elapsedMs":{}}})", ms, elapsed.count()));
}

}  // namespace

http::Response handleControl(EmulatorContext& ctx, const http::Request& request,
                             const std::string& path) {
  try {
    const auto parts = split(path);  // parts[0] == "_emulator"
    const std::string& verb = request.method;
    if (parts.size() == 2 && parts[1] == "instances") {
      if (verb == kGet) return listInstances(ctx, request);
      if (verb == kPost) return addInstances(ctx, request);
      return errorResponse(405, "use GET or POST");
    }
    if (parts.size() >= 3 && parts.size() <= 4 && parts[1] == "instances") {
      const auto id = parseId(parts[2]);
      if (!id) return errorResponse(404, "instance id must be digits");
      return instanceRoute(ctx, request, *id, parts.size() == 4 ? parts[3] : "");
    }
    if (parts.size() == 2 && parts[1] == "faults") return faults(ctx, request, {});
    if (parts.size() == 2 && parts[1] == "counters" && verb == kGet) {
      return counters(ctx);
    }
    if (parts.size() == 2 && parts[1] == "reset-counters" && verb == kPost) {
      for (const auto id : ctx.registry.ids()) {
        ctx.registry.with(id, [](EmulatedInstance& inst, base::SteadyTime,
                                 std::vector<Transition>&) { inst.resetCounters(); });
      }
      return jsonResponse(200, R"({"reset":true})");
    }
    if (parts.size() == 2 && parts[1] == "config" && verb == kGet) {
      return jsonResponse(200, configJson(ctx));
    }
    if (parts.size() == 3 && parts[1] == "clock" && parts[2] == "advance") {
      return advanceClock(ctx, request);
    }
    if (parts.size() == 2 && parts[1] == "health") return jsonResponse(200, R"({"ok":true})");
    return errorResponse(404, "no such control route");
  } catch (const std::invalid_argument& e) {
    return errorResponse(400, e.what());
  }
}

}  // namespace greenfleet::emulator
