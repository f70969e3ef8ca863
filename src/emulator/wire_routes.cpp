#include "emulator/wire_routes.hpp"

#include <optional>

#include <Poco/JSON/Array.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/WebSocket.h>
#include <Poco/String.h>
#include <fmt/format.h>

#include "emulator/webhook_sender.hpp"
#include "fleet/log.hpp"
#include "fleet/time_format.hpp"

namespace greenfleet::emulator {

namespace {

const fleet::Log kLog{"emulator"};

// Lower-case path spelling → the canonical name used for limits and counters. Green API accepts
// both GetStateInstance and getStateInstance (reference §0).
const std::map<std::string, std::string>& canonicalMethods() {
  static const std::map<std::string, std::string> kMethods{
      {"getstateinstance", "getStateInstance"}, {"getstatusinstance", "getStatusInstance"},
      {"qr", "qr"},                             {"logout", "logout"},
      {"reboot", "reboot"},                     {"getwasettings", "getWaSettings"},
      {"getsettings", "getSettings"},           {"scanqrcode", "scanqrcode"}};
  return kMethods;
}

bool isLoggedIn(const std::string& s) {
  return s == states::kAuthorized || s == states::kYellowCard || s == states::kSuspended ||
         s == states::kSleepMode;
}

std::string reasonFor(int status) {
  switch (status) {
    case 400: return "bad request data";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
  }
}

// Green API's error body shape; it echoes the request path, token included (reference §7).
void sendUpstreamError(EmulatorContext& ctx, Poco::Net::HTTPServerResponse& response, int status,
                       const std::string& path, const std::string& message) {
  if (status == 466) {
    sendJson(response, 466,
             R"({"invokeStatus":{"method":"checkwhatsapp","used":100,"total":100,)"
             R"("status":"QUOTE_EXCEEDED","description":"Monthly quota has been exceeded."}})");
    return;
  }
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("statusCode", status);
  o->set("timestamp", fleet::formatRfc3339(ctx.registry.clock().wallNow()));
  o->set("path", path);
  o->set("message", message.empty() ? reasonFor(status) : message);
  sendJson(response, status, o);
}

// Sleeps without holding any lock; ends early when the server stops.
void pause(EmulatorContext& ctx, Millis ms) {
  if (ms.count() > 0) ctx.stopping.tryWait(static_cast<long>(ms.count()));
}

void resetConnection(Poco::Net::HTTPServerRequest& request) {
  auto& socket = static_cast<Poco::Net::HTTPServerRequestImpl&>(request).socket();
  socket.setLinger(true, 0);  // close() then sends RST, not FIN
  socket.close();
}

struct Admission {
  bool known = false;
  bool token_ok = false;
  bool accepted = false;
  FaultDecision fault;
  std::string fault_qr_message;
  int hang_ms = 0;
  int huge_bytes = 0;
};

Poco::JSON::Object::Ptr settingsOf(const EmulatedInstance& inst) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("wid", inst.wid());
  o->set("countryInstance", "");
  o->set("typeAccount", "");
  o->set("webhookUrl", "");
  o->set("webhookUrlToken", "");
  o->set("delaySendMessagesMilliseconds", 5000);
  for (const char* flag :
       {"markIncomingMessagesReaded", "markIncomingMessagesReadedOnReply", "sharedSession",
        "outgoingWebhook", "outgoingMessageWebhook", "outgoingAPIMessageWebhook",
        "incomingWebhook", "deviceWebhook", "statusInstanceWebhook", "stateWebhook",
        "enableMessagesHistory", "keepOnlineStatus", "pollMessageWebhook",
        "incomingBlockWebhook", "incomingCallWebhook", "editedMessageWebhook",
        "deletedMessageWebhook"}) {
    o->set(flag, "no");
  }
  o->set("proxyInstance", "");
  o->set("typeInstance", "whatsapp");
  return o;
}

// The answer of an accepted, unfaulted request. Runs under the instance lock.
void answer(EmulatorContext& ctx, EmulatedInstance& inst, fleet::SteadyTime now,
            std::vector<Transition>& transitions, const std::string& method,
            const std::string& path, int& status, std::string& body) {
  const std::string& state = inst.state();
  const bool is_new = state == states::kNew;
  const bool starting = state == states::kStarting;
  auto error = [&](int s, const std::string& message) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("statusCode", s);
    o->set("timestamp", fleet::formatRfc3339(ctx.registry.clock().wallNow()));
    o->set("path", path);
    o->set("message", message);
    status = s;
    body = stringify(o);
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
    body = fmt::format(R"({{"statusInstance":"{}"}})", isLoggedIn(state) ? "online" : "offline");
  } else if (method == "qr") {
    if (is_new || starting) return error(400, "instance in starting process try later");
    inst.noteQrPoll(now, transitions);
    if (inst.state() == states::kStarting) {
      return error(400, "instance in starting process try later");
    }
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    if (inst.state() == states::kNotAuthorized) {
      o->set("type", "qrCode");
      o->set("message", inst.qrPngBase64(now));
    } else if (isLoggedIn(inst.state())) {
      o->set("type", "alreadyLogged");
      o->set("message", "instance account already authorized");
    } else {
      o->set("type", "error");
      o->set("message", fmt::format("instance is {}", inst.state()));
    }
    body = stringify(o);
  } else if (method == "logout") {
    if (is_new || starting) return error(400, "instance in starting process try later");
    body = fmt::format(R"({{"isLogout":{}}})", inst.logout(now, transitions) ? "true" : "false");
  } else if (method == "reboot") {
    inst.reboot(now, transitions);
    body = R"({"isReboot":true})";
  } else if (method == "getWaSettings") {
    if (is_new) return error(400, "instance in starting process try later");
    const bool in = isLoggedIn(state);
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("avatar", in ? fmt::format("https://pps.whatsapp.net/v/emulated/{}.jpg", inst.id())
                        : std::string());
    o->set("phone", in ? inst.phone() : std::string());
    o->set("stateInstance", state);
    o->set("deviceId", in ? inst.phone() + ":8@s.whatsapp.net" : std::string());
    body = stringify(o);
  } else if (method == "getSettings") {
    if (is_new) return error(400, "instance in starting process try later");
    body = stringify(settingsOf(inst));
  }
}

void sendGarbage(Poco::Net::HTTPServerResponse& response) {
  static const std::string kGarbage =
      std::string("<html><body><h1>502 Bad Gateway</h1></body></html>\n{\"stateInst") +
      std::string("\0\xff\xfe", 3);
  sendBody(response, 200, "application/json", kGarbage);
}

void sendHuge(Poco::Net::HTTPServerResponse& response, int bytes) {
  std::string body = R"({"stateInstance":"authorized","padding":")";
  if (bytes > static_cast<int>(body.size()) + 2) body.append(bytes - body.size() - 2, 'x');
  body += "\"}";
  sendJson(response, 200, body);
}

void serveQrWebsocket(EmulatorContext& ctx, std::int64_t id, Poco::Net::HTTPServerRequest& request,
                      Poco::Net::HTTPServerResponse& response);

}  // namespace

void handleInstanceMethod(EmulatorContext& ctx, Poco::Net::HTTPServerRequest& request,
                          Poco::Net::HTTPServerResponse& response, const std::string& path) {
  // /waInstance{id}/{method}/{token}[/...]
  static constexpr std::string_view kPrefix = "/waInstance";
  std::vector<std::string> parts;
  {
    const std::string rest = path.substr(kPrefix.size());
    std::size_t start = 0;
    while (start <= rest.size()) {
      const auto slash = rest.find('/', start);
      parts.push_back(rest.substr(start, slash == std::string::npos ? std::string::npos
                                                                    : slash - start));
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
  }
  if (parts.size() < 3 || parts[0].empty() ||
      parts[0].find_first_not_of("0123456789") != std::string::npos || parts[0].size() > 18) {
    return sendUpstreamError(ctx, response, 404, path, "Not Found");
  }
  const std::int64_t id = std::stoll(parts[0]);
  const std::string method_lower = Poco::toLower(parts[1]);
  const std::string& token = parts[2];
  const auto known_method = canonicalMethods().find(method_lower);

  Admission adm;
  std::string method = known_method == canonicalMethods().end() ? method_lower
                                                                : known_method->second;
  const auto global = ctx.registry.globalFaults();
  adm.known = ctx.registry.with(
      id, [&](EmulatedInstance& inst, fleet::SteadyTime now, std::vector<Transition>&) {
        adm.token_ok = inst.token() == token;
        if (!adm.token_ok || known_method == canonicalMethods().end() ||
            request.getMethod() != Poco::Net::HTTPRequest::HTTP_GET) {
          inst.countUnauthorized(method);
          return;
        }
        adm.accepted = inst.admit(method, now);
        if (!adm.accepted) return;
        const FaultProfile& profile = inst.faults ? *inst.faults : *global;
        adm.fault = profile.decide(inst.rng(), method_lower);
        adm.fault_qr_message = profile.qrErrorMessage;
        adm.hang_ms = profile.hangMs;
        adm.huge_bytes = profile.hugeBytes;
        if (adm.fault.action != FaultAction::none) inst.countFault(method);
      });
  if (!adm.known) return sendUpstreamError(ctx, response, 403, path, "Forbidden");
  if (!adm.token_ok) return sendUpstreamError(ctx, response, 401, path, "Unauthorized");
  if (known_method == canonicalMethods().end() ||
      request.getMethod() != Poco::Net::HTTPRequest::HTTP_GET) {
    return sendUpstreamError(ctx, response, 404, path, "Not Found");
  }
  if (!adm.accepted) return sendUpstreamError(ctx, response, 429, path, "Too Many Requests");

  pause(ctx, adm.fault.latency);
  switch (adm.fault.action) {
    case FaultAction::reset:
      return resetConnection(request);
    case FaultAction::hang:
      // Bounded: a hung request is held at most hangMax, then its connection is reset.
      pause(ctx, std::min(Millis(adm.hang_ms), ctx.options.hangMax));
      return resetConnection(request);
    case FaultAction::garbage:
      return sendGarbage(response);
    case FaultAction::huge:
      return sendHuge(response, adm.huge_bytes);
    case FaultAction::error: {
      const int s = adm.fault.status;
      return sendUpstreamError(ctx, response, s, path,
                               s == 400 ? "instance in starting process try later" : "");
    }
    case FaultAction::qrError: {
      Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
      o->set("type", "error");
      o->set("message", adm.fault_qr_message);
      return sendJson(response, 200, o);
    }
    case FaultAction::none:
      break;
  }

  if (method == "scanqrcode") return serveQrWebsocket(ctx, id, request, response);

  int status = 200;
  std::string body;
  const bool still_known = ctx.registry.with(
      id, [&](EmulatedInstance& inst, fleet::SteadyTime now, std::vector<Transition>& tr) {
        answer(ctx, inst, now, tr, method, path, status, body);
      });
  if (!still_known) return sendUpstreamError(ctx, response, 403, path, "Forbidden");
  sendJson(response, status, body);
}

namespace {

void serveQrWebsocket(EmulatorContext& ctx, std::int64_t id, Poco::Net::HTTPServerRequest& request,
                      Poco::Net::HTTPServerResponse& response) {
  if (Poco::icompare(request.get("Upgrade", ""), "websocket") != 0) {
    return sendError(response, 400, "scanqrcode is a websocket endpoint");
  }
  Poco::Net::WebSocket ws(request, response);
  auto send = [&](const Poco::JSON::Object::Ptr& frame) {
    const std::string text = stringify(frame);
    ws.sendFrame(text.data(), static_cast<int>(text.size()), Poco::Net::WebSocket::FRAME_TEXT);
  };
  auto frame = [](const std::string& type, const std::string& message) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("type", type);
    o->set("message", message);
    return o;
  };
  const auto deadline = ctx.registry.clock().steadyNow() + ctx.options.delays.wsTimeout;
  std::optional<std::uint64_t> sent_rotation;
  bool first = true;
  try {
    while (true) {
      Poco::JSON::Object::Ptr out;
      bool close = false;
      ctx.registry.with(id, [&](EmulatedInstance& inst, fleet::SteadyTime now,
                                std::vector<Transition>&) {
        const std::string& s = inst.state();
        if (s == states::kNotAuthorized) {
          const auto rotation = inst.qrRotation(now);
          if (!sent_rotation || *sent_rotation != rotation) {
            out = frame("qrCode", inst.qrPngBase64(now));
            sent_rotation = rotation;
          }
        } else if (isLoggedIn(s)) {
          if (first) {
            out = frame("alreadyLogged", "instance account already authorized");
          } else {
            // After a successful scan: account data at top level (reference §3).
            out = new Poco::JSON::Object;
            out->set("type", "accountData");
            out->set("wid", inst.wid());
            out->set("pushname", fmt::format("Emulated {}", inst.id()));
            out->set("webhookUrl", "");
          }
          close = true;
        } else {
          out = frame("error", s == states::kStarting || s == states::kNew
                                   ? "instance in starting process try later"
                                   : fmt::format("instance is {}", s));
          close = true;
        }
      });
      first = false;
      if (out) send(out);
      if (close) break;
      if (ctx.registry.clock().steadyNow() >= deadline) {
        send(frame(ctx.options.wsTimeoutType, ctx.options.wsTimeoutType));
        break;
      }
      if (ctx.stopping.tryWait(50)) break;
      // A close frame from the client ends the session.
      if (ws.poll(Poco::Timespan(0), Poco::Net::Socket::SELECT_READ)) {
        char buf[512];
        int flags = 0;
        const int n = ws.receiveFrame(buf, sizeof buf, flags);
        if (n <= 0 || (flags & Poco::Net::WebSocket::FRAME_OP_BITMASK) ==
                          Poco::Net::WebSocket::FRAME_OP_CLOSE) {
          break;
        }
      }
    }
    ws.shutdown(Poco::Net::WebSocket::WS_NORMAL_CLOSE, "");
  } catch (const Poco::Exception& e) {
    kLog.debug("websocket id={} ended error={}", id, e.displayText());
  }
}

Poco::JSON::Object::Ptr partnerItem(const EmulatedInstance& inst) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("idInstance", static_cast<Poco::Int64>(inst.id()));
  o->set("name", fmt::format("Instance {}", inst.id()));
  o->set("typeInstance", "whatsapp");
  o->set("typeAccount", "");
  o->set("partnerUserUiid", "");
  o->set("timeCreated", "2026-01-01T00:00:00");
  o->set("timeDeleted", "0001-01-01T00:00:00");
  o->set("apiTokenInstance", inst.token());
  o->set("deleted", false);
  o->set("tariff", "PARTNER_23");
  o->set("isFree", false);
  o->set("isPartner", true);
  o->set("expirationDate", "2099-01-01T00:00:00");
  o->set("isExpired", false);
  return o;
}

}  // namespace

void handlePartnerMethod(EmulatorContext& ctx, Poco::Net::HTTPServerRequest& request,
                         Poco::Net::HTTPServerResponse& response, const std::string& path) {
  // /partner/{method}/{partnerToken}
  const std::string rest = path.substr(std::string_view("/partner/").size());
  const auto slash = rest.find('/');
  const std::string method = Poco::toLower(rest.substr(0, slash));
  const std::string token = slash == std::string::npos ? "" : rest.substr(slash + 1);
  // Partner methods report errors as HTTP 200 with {code, description} (reference §7).
  if (token != ctx.registry.partnerToken()) {
    return sendJson(response, 200, R"({"code":401,"description":"Unauthorized"})");
  }
  if (method == "getinstances") {
    if (request.getMethod() != Poco::Net::HTTPRequest::HTTP_GET) {
      return sendJson(response, 404, R"({"code":404,"description":"Not found"})");
    }
    Poco::JSON::Array::Ptr arr = new Poco::JSON::Array;
    for (const auto id : ctx.registry.ids()) {
      ctx.registry.with(id, [&](EmulatedInstance& inst, fleet::SteadyTime,
                                std::vector<Transition>&) { arr->add(partnerItem(inst)); });
    }
    return sendJson(response, 200, stringify(arr));
  }
  if (method == "createinstance") {
    if (request.getMethod() != Poco::Net::HTTPRequest::HTTP_POST) {
      return sendJson(response, 404, R"({"code":404,"description":"Not found"})");
    }
    const auto ids = ctx.registry.add(1, states::kNew);
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    ctx.registry.with(ids.front(), [&](EmulatedInstance& inst, fleet::SteadyTime,
                                       std::vector<Transition>&) {
      o->set("idInstance", static_cast<Poco::Int64>(inst.id()));
      o->set("apiTokenInstance", inst.token());
      o->set("typeInstance", "whatsapp");
    });
    return sendJson(response, 200, o);
  }
  sendJson(response, 200, R"({"code":404,"description":"Not found"})");
}

}  // namespace greenfleet::emulator
