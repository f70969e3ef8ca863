#include "api/scan_link_handlers.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <Poco/JSON/Array.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/String.h>
#include <fmt/format.h>

#include "api/api_error.hpp"
#include "api/instance_json.hpp"
#include "api/json_fields.hpp"
#include "api/pairing_code_handler.hpp"
#include "api/scan_handlers.hpp"
#include "base/log.hpp"
#include "base/time_format.hpp"
#include "fleet/qr_png.hpp"

namespace greenfleet::api {

namespace {
const base::Log kLog{"api"};

// Everything the page loads is its own; no inline script or style, no framing, no forms.
constexpr const char* kPageCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
constexpr std::int64_t kMaxTtlSeconds = 7 * 24 * 3600;

// The page's own state poll; the QR rotates every 20 s upstream.
constexpr int kPollSeconds = 2;

bool plausibleToken(const std::string& token) {
  // 32 bytes base64url without padding: 43 characters of [A-Za-z0-9_-].
  return token.size() == 43 && std::all_of(token.begin(), token.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
         });
}

std::string htmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string replaceAll(std::string text, std::string_view from, std::string_view to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

std::string wallMillisText(std::int64_t ms) {
  return base::formatRfc3339(base::fromUnixMillis(ms));
}

void addPageHeaders(ApiResponse& r) {
  r.headers.emplace_back("Content-Security-Policy", kPageCsp);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  // The URL holds the link's secret: never send it anywhere as a Referer.
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("X-Robots-Tag", "noindex, nofollow");
}

ApiResponse stateJson(int status, const Poco::JSON::Object& body) {
  ApiResponse r = ApiResponse::json(status, body);
  addPageHeaders(r);
  return r;
}

ApiResponse goneJson(bool unknown) {
  auto o = orderedObject();
  o->set("state", std::string("gone"));
  return stateJson(unknown ? 404 : 410, *o);
}

bool isWildcardHost(const std::string& host) {
  return host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]";
}

// The host part of a Host header ("example.com:8080" → "example.com", "[::1]:80" → "[::1]").
std::string hostnameOf(const std::string& header) {
  if (header.empty()) return {};
  if (header.front() == '[') return header.substr(0, header.find(']') + 1);
  return header.substr(0, header.find(':'));
}
}  // namespace

ScanLinkHandlers::ScanLinkHandlers(ApiContext& context, std::shared_ptr<PairingCodeHandler> pairing,
                                   const EmbeddedFiles& files)
    : context_(context),
      pairing_(std::move(pairing)),
      files_(files),
      by_client_(
          context.scan_link_settings.client_rps,
          static_cast<std::uint32_t>(std::max(1.0, context.scan_link_settings.client_rps * 10))),
      by_link_(
          context.scan_link_settings.link_rps,
          static_cast<std::uint32_t>(std::max(1.0, context.scan_link_settings.link_rps * 10))) {}

std::string ScanLinkHandlers::file(const std::string& name) const {
  for (const auto& [n, bytes] : files_) {
    if (n == name) return std::string(bytes);
  }
  throw std::runtime_error("embedded file missing: " + name);
}

void ScanLinkHandlers::record(std::int64_t id, const std::string& what, const store::ScanLink& link,
                              const std::string& actor) {
  kLog.info("event=scan_link_{} id={} link={} by={}", what, id, link.id,
            actor.empty() ? "-" : actor);
  context_.record_event(id, "scan_link", fmt::format("{} #{}", what, link.id), actor);
}

std::string ScanLinkHandlers::linkUrl(const ApiRequest& request, const std::string& token) const {
  const auto& s = context_.scan_link_settings;
  std::string base = s.base_url;
  if (base.empty()) {
    base = s.listener_base_url ? s.listener_base_url() : std::string();
    // A wildcard listener has no name of its own: use the one the operator called us by.
    const auto scheme_end = base.find("://");
    if (scheme_end != std::string::npos) {
      const auto host_start = scheme_end + 3;
      const auto port_at = base.rfind(':');
      const std::string host = base.substr(host_start, port_at - host_start);
      if (isWildcardHost(host)) {
        std::string name = hostnameOf(request.header("host"));
        if (name.empty()) name = "127.0.0.1";
        base = base.substr(0, host_start) + name + base.substr(port_at);
      }
    }
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/s/" + token;
}

std::string ScanLinkHandlers::instanceName(std::int64_t id) {
  const auto row = context_.instances.get(id);
  if (!row || row->instance.name.empty()) return "WhatsApp account";
  return row->instance.name;
}

bool ScanLinkHandlers::settleAuthorized(std::int64_t instance_id, const store::ScanLink* link) {
  const auto view = context_.poller.view(instance_id);
  bool authorized = view && view->status.state.kind() == fleet::StateKind::authorized;
  // Authorized and logged out again since the link was made still ends it.
  if (!authorized && link != nullptr) {
    authorized = context_.scan_links.authorizedSince(instance_id, link->created_at_ms);
  }
  if (!authorized) return false;
  const auto now_ms = base::toUnixMillis(context_.clock.wallNow());
  for (const auto& ended : context_.scan_links.endAll(instance_id, "authorized", now_ms)) {
    record(instance_id, "completed", ended, "");
  }
  return true;
}

ApiResponse ScanLinkHandlers::create(ApiRequest& request) {
  request.allowQuery({});
  const auto id = request.instanceId();
  auto ttl = std::chrono::seconds(context_.scan_link_settings.ttl);
  if (!request.body.empty()) {
    JsonFields f(parseJsonBody(request.body));
    if (const auto seconds = f.optInt64("ttlSeconds")) {
      if (*seconds < 1 || *seconds > kMaxTtlSeconds) {
        throw ApiError::unprocessable(
            fmt::format("ttlSeconds must be between 1 and {}", kMaxTtlSeconds), "ttlSeconds");
      }
      ttl = std::chrono::seconds(*seconds);
    }
    f.finish();
  }
  if (!context_.instances.get(id)) throw ApiError::notFound(fmt::format("no instance {}", id));
  const auto view = context_.poller.view(id);
  if (!view) throw ApiError::notFound(fmt::format("no instance {} (or it is disabled)", id));
  if (view->status.state.kind() == fleet::StateKind::authorized) {
    throw ApiError(ErrorKind::conflict, "already_authorized",
                   fmt::format("instance {} is authorized; log it out first to link a phone", id));
  }
  const std::string caller = request.caller ? request.caller->name : "-";
  const auto now_ms = base::toUnixMillis(context_.clock.wallNow());
  const auto created = context_.scan_links.create(id, caller, now_ms,
                                                  now_ms + std::chrono::milliseconds(ttl).count());
  record(id, "created", created.link, caller);
  auto o = orderedObject();
  o->set("id", static_cast<Poco::Int64>(created.link.id));
  o->set("instanceId", static_cast<Poco::Int64>(id));
  const std::string url = linkUrl(request, created.token);
  o->set("url", url);
  o->set("hint", "…" + created.link.hint);
  o->set("createdAt", wallMillisText(created.link.created_at_ms));
  o->set("createdBy", created.link.created_by);
  o->set("expiresAt", wallMillisText(created.link.expires_at_ms));
  // The link as a QR code, for a dashboard to show to a phone's camera (PNG, base64).
  o->set("qrPng", fleet::base64Encode(fleet::renderQrPng(url)));
  return ApiResponse::json(201, *o);
}

ApiResponse ScanLinkHandlers::list(ApiRequest& request) {
  request.allowQuery({});
  const auto id = request.instanceId();
  if (!context_.instances.get(id)) throw ApiError::notFound(fmt::format("no instance {}", id));
  settleAuthorized(id, nullptr);
  Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
  for (const auto& l : context_.scan_links.live(id, base::toUnixMillis(context_.clock.wallNow()))) {
    auto o = orderedObject();
    o->set("id", static_cast<Poco::Int64>(l.id));
    o->set("hint", "…" + l.hint);
    o->set("createdAt", wallMillisText(l.created_at_ms));
    o->set("createdBy", l.created_by);
    o->set("expiresAt", wallMillisText(l.expires_at_ms));
    o->set("openedAt", l.opened_at_ms ? Poco::Dynamic::Var(wallMillisText(*l.opened_at_ms))
                                      : Poco::Dynamic::Var());
    items->add(o);
  }
  auto root = orderedObject();
  root->set("items", items);
  return ApiResponse::json(200, *root);
}

ApiResponse ScanLinkHandlers::revoke(ApiRequest& request) {
  request.allowQuery({});
  const auto id = request.instanceId();
  std::int64_t link_id = 0;
  const std::string& text = request.params.at("linkId");
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), link_id);
  if (ec != std::errc() || end != text.data() + text.size() || link_id <= 0) {
    throw ApiError::notFound(fmt::format("no scan link {}", text));
  }
  const auto now_ms = base::toUnixMillis(context_.clock.wallNow());
  if (!context_.scan_links.end(id, link_id, "revoked", now_ms)) {
    throw ApiError::notFound(fmt::format("no live scan link {} of instance {}", link_id, id));
  }
  store::ScanLink link;
  link.id = link_id;
  record(id, "revoked", link, request.caller ? request.caller->name : "-");
  return ApiResponse::noContent();
}

ScanLinkHandlers::Resolved ScanLinkHandlers::resolve(ApiRequest& request) {
  const auto now = context_.clock.steadyNow();
  if (const auto wait = by_client_.take(request.peer, now)) {
    throw ApiError::tooManyRequests("rate_limited", "too many requests; try again shortly", *wait);
  }
  Resolved r;
  const std::string& token = request.params.at("token");
  if (!plausibleToken(token)) return r;
  r.link = context_.scan_links.findByToken(token);
  if (!r.link) return r;
  if (const auto wait = by_link_.take(std::to_string(r.link->id), now)) {
    throw ApiError::tooManyRequests("rate_limited", "too many requests; try again shortly", *wait);
  }
  const auto now_ms = base::toUnixMillis(context_.clock.wallNow());
  const bool within_life = now_ms < r.link->expires_at_ms;
  if (r.link->ended_at_ms) {
    // The holder of the link may still learn that it worked, until it would have expired.
    r.status = r.link->end_reason == "authorized" && within_life ? LinkStatus::connected
                                                                 : LinkStatus::gone;
  } else if (!within_life) {
    r.status = LinkStatus::gone;
  } else if (settleAuthorized(r.link->instance_id, &*r.link)) {
    r.status = LinkStatus::connected;
  } else {
    r.status = LinkStatus::live;
  }
  return r;
}

ApiResponse ScanLinkHandlers::neutralPage(LinkStatus status) const {
  ApiResponse r;
  r.status = status == LinkStatus::unknown ? 404 : 410;
  r.content_type = "text/html; charset=utf-8";
  r.body = file("link/gone.html");
  addPageHeaders(r);
  return r;
}

ApiResponse ScanLinkHandlers::page(ApiRequest& request) {
  request.allowQuery({});
  const auto resolved = resolve(request);
  if (resolved.status != LinkStatus::live) return neutralPage(resolved.status);
  const auto& link = *resolved.link;
  if (context_.scan_links.markOpened(link.id, base::toUnixMillis(context_.clock.wallNow()))) {
    record(link.instance_id, "opened", link, "");
  }
  ApiResponse r;
  r.content_type = "text/html; charset=utf-8";
  r.body =
      replaceAll(file("link/page.html"), "{{name}}", htmlEscape(instanceName(link.instance_id)));
  addPageHeaders(r);
  return r;
}

ApiResponse ScanLinkHandlers::state(ApiRequest& request) {
  request.allowQuery({});
  const auto resolved = resolve(request);
  auto o = orderedObject();
  if (resolved.status == LinkStatus::unknown || resolved.status == LinkStatus::gone) {
    return goneJson(resolved.status == LinkStatus::unknown);
  }
  const auto& link = *resolved.link;
  o->set("name", instanceName(link.instance_id));
  if (resolved.status == LinkStatus::connected) {
    o->set("state", std::string("connected"));
    return stateJson(200, *o);
  }
  const auto now_ms = base::toUnixMillis(context_.clock.wallNow());
  auto& p = context_.poller;
  // Each poll of an open page extends the scan session, exactly like a GET of the QR.
  const auto start = p.startSession(link.instance_id);
  const auto anchor = p.anchor();
  using S = scheduler::SessionStartStatus;
  std::string state = "waiting";
  std::optional<std::int64_t> retry_after;
  if (start.status == S::unknownInstance) return goneJson(false);
  if (start.status == S::coolingDown) {
    state = "paused";
    retry_after = std::max<std::int64_t>(
        1, std::chrono::ceil<std::chrono::seconds>(start.until - anchor.steady).count());
  } else if (start.status == S::started || start.status == S::alreadyActive) {
    const auto view = p.view(link.instance_id);
    if (view && view->qr && view->qr->kind == fleet::QrKind::qrCode) {
      state = "qr";
      // Changes when the QR does, so the page fetches each image once.
      o->set("qrVersion", fmt::format("{:016x}", std::hash<std::string>{}(view->qr->message)));
    }
  }
  o->set("state", state);
  if (retry_after) o->set("retryAfterSeconds", *retry_after);
  o->set("expiresAt", wallMillisText(link.expires_at_ms));
  o->set("secondsLeft", std::max<std::int64_t>(0, (link.expires_at_ms - now_ms) / 1000));
  o->set("pollSeconds", kPollSeconds);
  return stateJson(200, *o);
}

ApiResponse ScanLinkHandlers::qrImage(ApiRequest& request) {
  request.allowQuery({"v"});
  const auto resolved = resolve(request);
  if (resolved.status != LinkStatus::live) {
    return goneJson(resolved.status == LinkStatus::unknown);
  }
  const auto view = context_.poller.view(resolved.link->instance_id);
  if (!view || !view->qr || view->qr->kind != fleet::QrKind::qrCode) {
    auto o = orderedObject();
    o->set("state", std::string("waiting"));
    return stateJson(409, *o);
  }
  ApiResponse r;
  r.content_type = "image/png";
  r.body = qrImageBytes(*view->qr);
  addPageHeaders(r);
  return r;
}

ApiResponse ScanLinkHandlers::pairingCode(ApiRequest& request) {
  request.allowQuery({});
  const auto resolved = resolve(request);
  if (resolved.status != LinkStatus::live) {
    return goneJson(resolved.status == LinkStatus::unknown);
  }
  const auto& link = *resolved.link;
  ApiResponse r =
      pairing_->request(link.instance_id, request.body, fmt::format("scan link #{}", link.id), "");
  addPageHeaders(r);
  return r;
}

ApiResponse ScanLinkHandlers::asset(ApiRequest& request) const {
  request.allowQuery({});
  const std::string& name = request.params.at("file");
  if (name != "page.js" && name != "page.css") {
    throw ApiError::notFound(fmt::format("no file {}", name));
  }
  ApiResponse r;
  r.content_type = DashboardHandler::contentTypeFor(name);
  r.body = file("link/" + name);
  addPageHeaders(r);
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

}  // namespace greenfleet::api
