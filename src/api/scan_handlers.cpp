#include "api/scan_handlers.hpp"

#include <charconv>
#include <cmath>
#include <sstream>

#include <Poco/Base64Decoder.h>
#include <Poco/JSON/Array.h>
#include <fmt/format.h>

#include "api/api_error.hpp"
#include "api/instance_json.hpp"
#include "base/log.hpp"
#include "fleet/input_limits.hpp"
#include "store/tags_json.hpp"

namespace greenfleet::api {

namespace {
const base::Log kLog{"api"};

ApiError tooManyRequests(std::string code, std::string message, base::Duration retry_after) {
  return ApiError::tooManyRequests(std::move(code), std::move(message), retry_after);
}

// A scan session that could not start, as both the QR GET and the scan-session action answer
// it; returns when the session runs. `state` names the instance's state in the 409 when known.
void throwIfSessionRefused(const scheduler::SessionStart& start, std::int64_t id,
                           std::optional<std::string_view> state, base::SteadyTime now) {
  using S = scheduler::SessionStartStatus;
  switch (start.status) {
    case S::started:
    case S::alreadyActive:
      return;
    case S::coolingDown:
      throw tooManyRequests("scan_cooldown",
                            "QR polling paused: Green API moves an instance to 'starting' after "
                            "minutes of continuous QR requests; try again later",
                            start.until - now);
    case S::capReached:
      throw tooManyRequests("scan_sessions_full", "too many scan sessions are running",
                            std::chrono::seconds(5));
    case S::notNeeded:
      throw ApiError(ErrorKind::conflict, "not_needed",
                     state ? fmt::format("instance {} is {}; it does not need a scan", id, *state)
                           : fmt::format("instance {} does not need a scan", id));
    case S::unknownInstance:
      throw ApiError::notFound(fmt::format("no instance {}", id));
  }
}

std::string decodeBase64(const std::string& text) {
  std::istringstream in(text);
  Poco::Base64Decoder decoder(in);
  std::ostringstream out;
  out << decoder.rdbuf();
  return out.str();
}

bool wantsPng(const ApiRequest& request) {
  const auto it = request.query.find("format");
  if (it != request.query.end()) {
    if (it->second == "png") return true;
    if (it->second == "json") return false;
    throw ApiError::unprocessable("format must be png or json", "format");
  }
  const std::string accept = request.header("accept");
  return accept.find("image/png") != std::string::npos &&
         accept.find("application/json") == std::string::npos;
}

}  // namespace

std::string qrImageBytes(const scheduler::QrSnapshot& qr) { return decodeBase64(qr.message); }

namespace {
std::string needsScanKey(std::size_t limit, const std::optional<std::string>& tag) {
  return fmt::format("{}|{}", limit, tag ? "t:" + *tag : std::string());
}
}  // namespace

ApiResponse ScanHandlers::needsScan(ApiRequest& request) {
  request.allowQuery({"tag", "limit"});
  const auto limit = static_cast<std::size_t>(request.queryInt("limit", 1000, 1, 100000));
  const auto tag = request.queryText("tag", fleet::kMaxTagLength);
  auto& p = context_.poller;
  const auto snapshot = p.snapshot();
  const auto render = [&] {
    // Times as of the snapshot, so every reader of one snapshot gets the same answer. Written
    // directly (the same bytes Poco's object tree printed): this runs for every new snapshot.
    const auto anchor = p.anchor();
    const auto now = snapshot->takenAt;
    std::string out = "{\"items\":[";
    out.reserve(256 * std::min(limit, snapshot->needsScan.size()) + 64);
    std::size_t total = 0;
    for (const auto& v : snapshot->needsScan) {
      if (tag && std::find(v.tags.begin(), v.tags.end(), *tag) == v.tags.end()) continue;
      if (total++ >= limit) continue;
      if (total > 1) out += ',';
      fmt::format_to(std::back_inserter(out), "{{\"id\":{},\"name\":", v.id);
      store::appendJsonString(out, v.name);
      out += ",\"tags\":[";
      for (std::size_t i = 0; i < v.tags.size(); ++i) {
        if (i > 0) out += ',';
        store::appendJsonString(out, v.tags[i]);
      }
      out += "],\"state\":";
      store::appendJsonString(out, v.status.state.name());
      out += ",\"stateSince\":";
      store::appendJsonString(out, wallText(v.status.stateSince, anchor));
      fmt::format_to(
          std::back_inserter(out),
          ",\"waitingSeconds\":{},\"qrAvailable\":{},\"scanSession\":{},"
          "\"qrUrl\":\"/api/v1/instances/{}/qr\"}}",
          std::max<std::int64_t>(
              0,
              std::chrono::duration_cast<std::chrono::seconds>(now - v.status.stateSince).count()),
          v.qr.has_value() && v.qr->kind == fleet::QrKind::qrCode, v.session.has_value(), v.id);
    }
    fmt::format_to(std::back_inserter(out), "],\"total\":{},\"generatedAt\":", total);
    store::appendJsonString(out, wallText(now, anchor));
    out += '}';
    return out;
  };
  ApiResponse r;
  r.cached = bodies_.get(snapshot, needsScanKey(limit, tag), render);
  return r;
}

std::optional<ApiResponse> ScanHandlers::needsScanFast(ApiRequest& request) {
  std::size_t limit = 0;
  std::optional<std::string> tag;
  try {
    request.allowQuery({"tag", "limit"});
    limit = static_cast<std::size_t>(request.queryInt("limit", 1000, 1, 100000));
    tag = request.queryText("tag", fleet::kMaxTagLength);
  } catch (const ApiError&) {
    return std::nullopt;  // the worker answers the error
  }
  auto body = bodies_.fastBody(context_.poller, needsScanKey(limit, tag));
  if (!body) return std::nullopt;
  ApiResponse r;
  r.cached = std::move(body);
  return r;
}

ApiResponse ScanHandlers::qr(ApiRequest& request) {
  request.allowQuery({"format"});
  const auto id = request.instanceId();
  const bool png = wantsPng(request);
  auto& p = context_.poller;
  const auto before = p.view(id);
  if (!before) throw ApiError::notFound(fmt::format("no instance {} (or it is disabled)", id));
  if (before->status.state.kind() == fleet::StateKind::authorized && !before->qr) {
    throw ApiError(ErrorKind::conflict, "already_authorized",
                   fmt::format("instance {} is authorized; log it out first to get a QR code", id));
  }
  // A GET of the QR starts a session, or extends the running one.
  const auto start = p.startSession(id);
  const auto anchor = p.anchor();
  throwIfSessionRefused(start, id, before->status.state.name(), anchor.steady);
  const auto view = p.view(id);
  if (!view || !view->qr) {
    auto body = orderedObject();
    body->set("status", std::string("pending"));
    body->set("message", std::string("the first QR code of this scan session is on its way"));
    body->set("retryAfterSeconds", 1);
    body->set("sessionEndsAt", wallText(start.until, anchor));
    ApiResponse r = ApiResponse::json(202, *body);
    r.headers.emplace_back("Retry-After", "1");
    return r;
  }
  const auto& q = *view->qr;
  if (png) {
    if (q.kind == fleet::QrKind::passkeyRequired) {
      throw ApiError(ErrorKind::conflict, "passkey_required",
                     std::string(fleet::kPasskeyRequiredMessage));
    }
    if (q.kind != fleet::QrKind::qrCode) {
      throw ApiError(
          ErrorKind::conflict, "no_qr_image",
          fmt::format("Green API answered '{}' instead of a QR code: {}", q.type, q.message));
    }
    ApiResponse r;
    r.content_type = "image/png";
    r.body = qrImageBytes(q);
    return r;
  }
  auto o = orderedObject();
  o->set("type", q.type);
  o->set("message", q.message);
  // Verbatim type and message above; the hint says what the phone holder has to do.
  if (q.kind == fleet::QrKind::passkeyRequired) {
    o->set("hint", std::string(fleet::kPasskeyRequiredMessage));
  }
  o->set("fetchedAt", wallText(q.fetchedAt, anchor));
  o->set("expiresAt", wallText(q.expiresAt, anchor));
  if (view->session) o->set("sessionEndsAt", wallText(view->session->endsAt, anchor));
  return ApiResponse::json(200, *o);
}

namespace {

// The Green API method behind an action name other than scan-session.
scheduler::Method upstreamActionMethod(const std::string& name) {
  if (name == "poll") return scheduler::Method::getStateInstance;
  if (name == "logout") return scheduler::Method::logout;
  if (name == "reboot") return scheduler::Method::reboot;
  throw ApiError::notFound(
      fmt::format("no action '{}'; use poll, logout, reboot, scan-session, configure-webhook or "
                  "verify-webhook",
                  name));
}

}  // namespace

ApiResponse ScanHandlers::action(ApiRequest& request) {
  request.allowQuery({});
  const auto id = request.instanceId();
  const std::string name = request.params.at("action");
  if (!request.body.empty()) {
    throw ApiError::badRequest("unexpected_body", "actions take no request body");
  }
  auto& p = context_.poller;
  const auto anchor = p.anchor();
  auto o = orderedObject();
  o->set("id", static_cast<Poco::Int64>(id));
  o->set("action", name);
  const std::string caller = request.caller ? request.caller->name : "-";
  if (name == "scan-session") {
    const auto start = p.startSession(id);
    throwIfSessionRefused(start, id, std::nullopt, anchor.steady);
    o->set("status",
           std::string(start.status == scheduler::SessionStartStatus::started ? "started"
                                                                              : "extended"));
    o->set("sessionEndsAt", wallText(start.until, anchor));
    o->set("qrUrl", fmt::format("/api/v1/instances/{}/qr", id));
    kLog.info("event=action action=scan-session id={} by={}", id, caller);
    context_.record_event(id, "action", "scan-session", caller);
    return ApiResponse::json(202, *o);
  }
  const auto decision = p.requestAction(id, upstreamActionMethod(name));
  using A = scheduler::ActionStatus;
  switch (decision.status) {
    case A::queued:
    case A::alreadyQueued:
      o->set("status", std::string(decision.status == A::queued ? "queued" : "already_queued"));
      o->set("expectedAt", wallText(std::max(decision.expectedAt, anchor.steady), anchor));
      kLog.info("event=action action={} id={} by={}", name, id, caller);
      context_.record_event(id, "action", name, caller);
      return ApiResponse::json(202, *o);
    case A::rateLimited:
      throw tooManyRequests(
          "rate_limited",
          fmt::format("{} for instance {} would exceed Green API's limits now", name, id),
          decision.retryAfter);
    case A::unknownInstance:
      throw ApiError::notFound(fmt::format("no instance {} (or it is disabled)", id));
    case A::unsupported:
      break;
  }
  throw ApiError::badRequest("unsupported_action",
                             fmt::format("action '{}' is not supported", name));
}

}  // namespace greenfleet::api
