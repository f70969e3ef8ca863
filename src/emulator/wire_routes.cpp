#include "emulator/wire_routes.hpp"

#include <optional>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/String.h>
#include <fmt/format.h>

#include "base/time_format.hpp"
#include "emulator/qr_websocket_sessions.hpp"

namespace greenfleet::emulator {

namespace {

// Lower-case path spelling → the canonical name used for limits and counters. Green API accepts
// both GetStateInstance and getStateInstance (docs/GREEN_API.md, Requests).
const std::map<std::string, std::string>& canonicalMethods() {
  static const std::map<std::string, std::string> kMethods{
      {"getstateinstance", "getStateInstance"},
      {"getstatusinstance", "getStatusInstance"},
      {"qr", "qr"},
      {"logout", "logout"},
      {"reboot", "reboot"},
      {"getwasettings", "getWaSettings"},
      {"getsettings", "getSettings"},
      {"scanqrcode", "scanqrcode"},
      {"getauthorizationcode", "getAuthorizationCode"},
      {"setsettings", "setSettings"}};
  return kMethods;
}

std::string reasonFor(int status) {
  switch (status) {
    case 400:
      return "bad request data";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Error";
  }
}

// Green API's error body shape; it echoes the request path, token included (GREEN_API.md).
std::string upstreamErrorBody(EmulatorContext& ctx, int status, const std::string& path,
                              const std::string& message) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("statusCode", status);
  o->set("timestamp", base::formatRfc3339(ctx.registry.clock().wallNow()));
  o->set("path", path);
  o->set("message", message);
  return stringify(o);
}

http::Response upstreamError(EmulatorContext& ctx, int status, const std::string& path,
                             const std::string& message) {
  if (status == 466) {
    return jsonResponse(
        466, R"({"invokeStatus":{"method":"checkwhatsapp","used":100,"total":100,)"
             R"("status":"QUOTE_EXCEEDED","description":"Monthly quota has been exceeded."}})");
  }
  return jsonResponse(
      status, upstreamErrorBody(ctx, status, path, message.empty() ? reasonFor(status) : message));
}

// What the instance lock decided about a wire request.
struct Checks {
  bool known = false;
  bool token_ok = false;
  bool accepted = false;
  FaultDecision fault;
  std::string fault_qr_message;
  int hang_ms = 0;
  int huge_bytes = 0;
};

Poco::JSON::Object::Ptr settingsOf(const EmulatedInstance& inst,
                                   const std::optional<InstanceWebhookSettings>& webhook) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("wid", inst.wid());
  o->set("countryInstance", "");
  o->set("typeAccount", "");
  o->set("webhookUrl", webhook ? webhook->url : std::string());
  o->set("webhookUrlToken", webhook ? webhook->token : std::string());
  o->set("delaySendMessagesMilliseconds", 5000);
  for (const char* flag :
       {"markIncomingMessagesReaded", "markIncomingMessagesReadedOnReply", "sharedSession",
        "outgoingWebhook", "outgoingMessageWebhook", "outgoingAPIMessageWebhook", "incomingWebhook",
        "deviceWebhook", "statusInstanceWebhook", "stateWebhook", "enableMessagesHistory",
        "keepOnlineStatus", "pollMessageWebhook", "incomingBlockWebhook", "incomingCallWebhook",
        "editedMessageWebhook", "deletedMessageWebhook"}) {
    o->set(flag, "no");
  }
  if (webhook) o->set("stateWebhook", webhook->state_webhook);
  o->set("proxyInstance", "");
  o->set("typeInstance", "whatsapp");
  return o;
}

// getAuthorizationCode's body: {"phoneNumber": <integer>}.
std::optional<std::int64_t> phoneNumberOf(const std::string& body) {
  try {
    const auto o = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
    if (!o || !o->has("phoneNumber") || !o->get("phoneNumber").isInteger()) return std::nullopt;
    const auto n = o->getValue<Poco::Int64>("phoneNumber");
    return n > 0 ? std::optional<std::int64_t>(n) : std::nullopt;
  } catch (const Poco::Exception&) {
    return std::nullopt;
  }
}

// setSettings: stores the webhook fields given (others are accepted and ignored); false when
// the body is not a JSON object or a webhook field is not a string (Green API answers 400).
bool applySettings(WebhookSettingsTable& table, std::int64_t id, const std::string& body) {
  try {
    const auto o = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
    if (!o) return false;
    std::optional<std::string> fields[3];
    const char* names[3] = {"webhookUrl", "webhookUrlToken", "stateWebhook"};
    for (int i = 0; i < 3; ++i) {
      if (!o->has(names[i])) continue;
      if (!o->get(names[i]).isString()) return false;
      fields[i] = o->getValue<std::string>(names[i]);
    }
    if (fields[2] && *fields[2] != "yes" && *fields[2] != "no") return false;
    table.apply(id, fields[0], fields[1], fields[2]);
    return true;
  } catch (const Poco::Exception&) {
    return false;
  }
}

// The qr method's answer once the poll is noted; nullopt when the poll moved the instance to
// starting (continuous polling, issue #285).
std::optional<std::string> qrBody(EmulatedInstance& inst, base::SteadyTime now,
                                  std::vector<Transition>& transitions) {
  inst.noteQrPoll(now, transitions);
  if (inst.state() == states::kStarting) return std::nullopt;
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  if (inst.state() == states::kNotAuthorized && inst.passkeyRequired) {
    o->set("type", "passkeyRequired");
    o->set("message", kPasskeyMessage);
  } else if (inst.state() == states::kNotAuthorized) {
    o->set("type", "qrCode");
    o->set("message", inst.qrPngBase64(now));
  } else if (states::isLoggedIn(inst.state())) {
    o->set("type", "alreadyLogged");
    o->set("message", "instance account already authorized");
  } else {
    o->set("type", "error");
    o->set("message", fmt::format("instance is {}", inst.state()));
  }
  return stringify(o);
}

std::string waSettingsBody(EmulatedInstance& inst) {
  const bool in = states::isLoggedIn(inst.state());
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("avatar",
         in ? fmt::format("https://pps.whatsapp.net/v/emulated/{}.jpg", inst.id()) : std::string());
  o->set("phone", in ? inst.phone() : std::string());
  o->set("stateInstance", inst.state());
  o->set("deviceId", in ? inst.phone() + ":8@s.whatsapp.net" : std::string());
  return stringify(o);
}

// The answer of an accepted, unfaulted request. Runs under the instance lock.
void answer(EmulatorContext& ctx, EmulatedInstance& inst, base::SteadyTime now,
            std::vector<Transition>& transitions, const std::string& method,
            const std::string& path, const std::string& request_body, int& status,
            std::string& body) {
  const std::string& state = inst.state();
  const bool is_new = state == states::kNew;
  const bool starting = state == states::kStarting;
  auto error = [&](int s, const std::string& message) {
    status = s;
    body = upstreamErrorBody(ctx, s, path, message);
  };
  status = 200;
  if (method == "getStateInstance") {
    if (is_new) {
      // Right after creation: body null (docs) or 401 (issue #306).
      if (ctx.options.initializingAnswer == "401") {
        error(401, "Unauthorized");
      } else {
        body = "null";
      }
      return;
    }
    body = fmt::format(R"({{"stateInstance":"{}"}})", state);
  } else if (method == "getStatusInstance") {
    if (is_new) return error(401, "Unauthorized");
    body = fmt::format(R"({{"statusInstance":"{}"}})",
                       states::isLoggedIn(state) ? "online" : "offline");
  } else if (method == "qr") {
    if (is_new || starting) return error(400, "instance in starting process try later");
    auto qr = qrBody(inst, now, transitions);
    if (!qr) return error(400, "instance in starting process try later");
    body = std::move(*qr);
  } else if (method == "logout") {
    if (is_new || starting) return error(400, "instance in starting process try later");
    body = fmt::format(R"({{"isLogout":{}}})", inst.logout(now, transitions) ? "true" : "false");
  } else if (method == "reboot") {
    inst.reboot(now, transitions);
    body = R"({"isReboot":true})";
  } else if (method == "getWaSettings") {
    if (is_new) return error(400, "instance in starting process try later");
    body = waSettingsBody(inst);
  } else if (method == "getSettings") {
    if (is_new) return error(400, "instance in starting process try later");
    body = stringify(settingsOf(inst, ctx.registry.webhookSettings().get(inst.id())));
  } else if (method == "setSettings") {
    if (!applySettings(ctx.registry.webhookSettings(), inst.id(), request_body)) {
      return error(400, "bad request data");
    }
    // "The instance reboots; settings are applied within 5 minutes" (green-api.md §5).
    inst.reboot(now, transitions);
    body = R"({"saveSettings":true})";
  } else if (method == "getAuthorizationCode") {
    if (is_new || starting) return error(400, "instance in starting process try later");
    const auto phone = phoneNumberOf(request_body);
    if (!phone) return error(400, "phoneNumber: must be an integer");
    const auto code = inst.issuePairingCode(*phone, now);
    body = code ? fmt::format(R"({{"status":true,"code":"{}"}})", *code)
                : std::string(R"({"status":false,"code":""})");
  }
}

http::Response garbageResponse() {
  static const std::string kGarbage =
      std::string("<html><body><h1>502 Bad Gateway</h1></body></html>\n{\"stateInst") +
      std::string("\0\xff\xfe", 3);
  return jsonResponse(200, kGarbage);
}

http::Response hugeResponse(int bytes) {
  std::string body = R"({"stateInstance":"authorized","padding":")";
  if (bytes > static_cast<int>(body.size()) + 2) body.append(bytes - body.size() - 2, 'x');
  body += "\"}";
  return jsonResponse(200, std::move(body));
}

// Hands the connection to a websocket session; the handshake and frames happen there.
void openQrWebsocket(EmulatorContext& ctx, std::int64_t id, const http::Request& request,
                     const http::Exchange& exchange, Millis latency) {
  if (Poco::icompare(request.header("Upgrade"), "websocket") != 0) {
    return exchange.respondAfter(latency, errorResponse(400, "scanqrcode is a websocket endpoint"));
  }
  std::string key = request.header("Sec-WebSocket-Key");
  if (key.empty() || request.header("Sec-WebSocket-Version") != "13") {
    return exchange.respondAfter(latency,
                                 errorResponse(400,
                                               "a websocket handshake needs Sec-WebSocket-Key and "
                                               "Sec-WebSocket-Version: 13"));
  }
  exchange.takeOver([&ctx, id, key = std::move(key), latency](int fd, std::string) {
    ctx.websockets.start(ctx, id, fd, key, latency);
  });
}

}  // namespace

bool runsOnWorker(const std::string& path) {
  // Rendering a QR PNG takes milliseconds: not on the event loop. Everything else on the wire
  // is a lock and a short string.
  if (path.rfind("/waInstance", 0) != 0) return true;
  const auto method = path.find('/', std::string_view("/waInstance").size());
  if (method == std::string::npos) return false;
  const auto end = path.find('/', method + 1);
  return Poco::icompare(path.substr(method + 1, end == std::string::npos ? std::string::npos
                                                                         : end - method - 1),
                        "qr") == 0;
}

namespace {

// One call on the instance wire, /waInstance{id}/{method}/{token}[/...], as the path names it.
struct InstanceCall {
  std::int64_t id = 0;
  std::string method_lower;
  std::string method;  // canonical spelling for a known method, else method_lower
  std::string token;
  bool known_method = false;
  bool verb_ok = false;  // getAuthorizationCode and setSettings are POSTs, the rest GETs
};

std::vector<std::string> splitSlashes(const std::string& rest) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= rest.size()) {
    const auto slash = rest.find('/', start);
    parts.push_back(
        rest.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return parts;
}

// Nothing when the path names no instance (a 404).
std::optional<InstanceCall> parseInstanceCall(const std::string& path, const std::string& verb) {
  static constexpr std::string_view kPrefix = "/waInstance";
  const auto parts = splitSlashes(path.substr(kPrefix.size()));
  if (parts.size() < 3 || parts[0].empty() ||
      parts[0].find_first_not_of("0123456789") != std::string::npos || parts[0].size() > 18) {
    return std::nullopt;
  }
  InstanceCall call;
  call.id = std::stoll(parts[0]);
  call.method_lower = Poco::toLower(parts[1]);
  call.token = parts[2];
  const auto known = canonicalMethods().find(call.method_lower);
  call.known_method = known != canonicalMethods().end();
  call.method = call.known_method ? known->second : call.method_lower;
  const bool posted =
      call.method_lower == "getauthorizationcode" || call.method_lower == "setsettings";
  call.verb_ok = verb == (posted ? "POST" : "GET");
  return call;
}

// Token, method, rate window and the fault profile's draw, under the instance's lock.
Checks admit(EmulatorContext& ctx, const InstanceCall& call) {
  Checks adm;
  const auto global = ctx.registry.globalFaults();
  adm.known = ctx.registry.with(
      call.id, [&](EmulatedInstance& inst, base::SteadyTime now, std::vector<Transition>&) {
        adm.token_ok = inst.tokenMatches(call.token);
        if (!adm.token_ok || !call.known_method || !call.verb_ok) {
          inst.countUnauthorized(call.method);
          return;
        }
        adm.accepted = inst.admit(call.method, now);
        if (!adm.accepted) return;
        const FaultProfile& profile = inst.faults ? *inst.faults : *global;
        adm.fault = profile.decide(inst.rng(), call.method_lower);
        adm.fault_qr_message = profile.qrErrorMessage;
        adm.hang_ms = profile.hangMs;
        adm.huge_bytes = profile.hugeBytes;
        if (adm.fault.action != FaultAction::none) inst.countFault(call.method);
      });
  return adm;
}

// Answers with the drawn fault; false when none was drawn and the method runs.
bool answerFault(EmulatorContext& ctx, const http::Exchange& exchange, const std::string& path,
                 const Checks& adm) {
  // Injected latency delays the answer on the loop's timer; no thread waits for it.
  const Millis latency = adm.fault.latency;
  auto later = [&](http::Response response) {
    exchange.respondAfter(latency, std::move(response));
    return true;
  };
  switch (adm.fault.action) {
    case FaultAction::reset:
      exchange.reset(latency);
      return true;
    case FaultAction::hang:
      // Bounded: a hung request is held at most hangMax, then its connection is reset.
      exchange.reset(latency + std::min(Millis(adm.hang_ms), ctx.options.hangMax));
      return true;
    case FaultAction::garbage:
      return later(garbageResponse());
    case FaultAction::huge:
      return later(hugeResponse(adm.huge_bytes));
    case FaultAction::error: {
      const int s = adm.fault.status;
      return later(
          upstreamError(ctx, s, path, s == 400 ? "instance in starting process try later" : ""));
    }
    case FaultAction::qrError: {
      Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
      o->set("type", "error");
      o->set("message", adm.fault_qr_message);
      return later(jsonResponse(200, o));
    }
    case FaultAction::none:
      break;
  }
  return false;
}

}  // namespace

void handleInstanceMethod(EmulatorContext& ctx, const http::Request& request,
                          const http::Exchange& exchange, const std::string& path) {
  auto fail = [&](int status, const std::string& message) {
    exchange.respond(upstreamError(ctx, status, path, message));
  };
  const auto call = parseInstanceCall(path, request.method);
  if (!call) return fail(404, "Not Found");
  const Checks adm = admit(ctx, *call);
  if (!adm.known) return fail(403, "Forbidden");
  if (!adm.token_ok) return fail(401, "Unauthorized");
  if (!call->known_method || !call->verb_ok) return fail(404, "Not Found");
  if (!adm.accepted) return fail(429, "Too Many Requests");
  if (answerFault(ctx, exchange, path, adm)) return;

  const Millis latency = adm.fault.latency;
  if (call->method == "scanqrcode")
    return openQrWebsocket(ctx, call->id, request, exchange, latency);
  int status = 200;
  std::string body;
  const bool still_known = ctx.registry.with(
      call->id, [&](EmulatedInstance& inst, base::SteadyTime now, std::vector<Transition>& tr) {
        answer(ctx, inst, now, tr, call->method, path, request.body, status, body);
      });
  if (!still_known) {
    return exchange.respondAfter(latency, upstreamError(ctx, 403, path, "Forbidden"));
  }
  exchange.respondAfter(latency, jsonResponse(status, std::move(body)));
}

namespace {

Poco::JSON::Object::Ptr partnerItem(const EmulatedInstance& inst) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("idInstance", static_cast<Poco::Int64>(inst.id()));
  o->set("name", fmt::format("Instance {}", inst.id()));
  o->set("typeInstance", partnerTypes().at(inst.partner.type));
  o->set("typeAccount", "");
  o->set("partnerUserUiid", "");
  o->set("timeCreated", "2026-01-01T00:00:00");
  o->set("timeDeleted", inst.partner.deleted ? "2026-06-01T00:00:00" : "0001-01-01T00:00:00");
  o->set("apiTokenInstance", inst.token());
  o->set("deleted", inst.partner.deleted);
  o->set("tariff", "PARTNER_23");
  o->set("isFree", false);
  o->set("isPartner", true);
  o->set("expirationDate", inst.partner.expired ? "2026-01-02T00:00:00" : "2099-01-01T00:00:00");
  o->set("isExpired", inst.partner.expired);
  return o;
}

}  // namespace

http::Response handlePartnerMethod(EmulatorContext& ctx, const http::Request& request,
                                   const std::string& path) {
  // /partner/{method}/{partnerToken}
  const std::string rest = path.substr(std::string_view("/partner/").size());
  const auto slash = rest.find('/');
  const std::string method = Poco::toLower(rest.substr(0, slash));
  const std::string token = slash == std::string::npos ? "" : rest.substr(slash + 1);
  // Partner methods report errors as HTTP 200 with {code, description} (docs/GREEN_API.md, Errors).
  if (method == "getinstances") ctx.registry.countPartnerCall();  // refused ones count too
  if (token != ctx.registry.partnerToken()) {
    return jsonResponse(200, R"({"code":401,"description":"Unauthorized"})");
  }
  if (method == "getinstances") {
    if (request.method != "GET") {
      return jsonResponse(404, R"({"code":404,"description":"Not found"})");
    }
    Poco::JSON::Array::Ptr arr = new Poco::JSON::Array;
    for (const auto id : ctx.registry.ids()) {
      ctx.registry.with(id, [&](EmulatedInstance& inst, base::SteadyTime,
                                std::vector<Transition>&) { arr->add(partnerItem(inst)); });
    }
    return jsonResponse(200, stringify(arr));
  }
  if (method == "createinstance") {
    if (request.method != "POST") {
      return jsonResponse(404, R"({"code":404,"description":"Not found"})");
    }
    const auto ids = ctx.registry.add(1, states::kNew);
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    ctx.registry.with(ids.front(),
                      [&](EmulatedInstance& inst, base::SteadyTime, std::vector<Transition>&) {
                        o->set("idInstance", static_cast<Poco::Int64>(inst.id()));
                        o->set("apiTokenInstance", inst.token());
                        o->set("typeInstance", "whatsapp");
                      });
    return jsonResponse(200, o);
  }
  return jsonResponse(200, R"({"code":404,"description":"Not found"})");
}

}  // namespace greenfleet::emulator
