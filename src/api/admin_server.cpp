#include "api/admin_server.hpp"

#include <chrono>

#include <Poco/Net/MediaType.h>
#include <Poco/String.h>
#include <Poco/StringTokenizer.h>
#include <Poco/URI.h>
#include <fmt/format.h>

#include "api/api_error.hpp"
#include "api/utf8_text.hpp"
#include "base/log.hpp"

namespace greenfleet::api {

namespace {
const base::Log kLog{"api"};

ApiResponse errorResponse(const ApiError& e) {
  auto error = orderedObject();
  error->set("code", e.code());
  // Messages and fields may quote the request (a path, a parameter name): JSON must stay UTF-8.
  error->set("message", toValidUtf8(e.what()));
  if (e.field()) {
    error->set("field", toValidUtf8(*e.field()));
  } else {
    error->set("field", Poco::Dynamic::Var());
  }
  Poco::JSON::Object root;
  root.set("error", error);
  ApiResponse r = ApiResponse::json(e.status(), root);
  r.headers = e.headers;
  return r;
}

ApiError internalError() {
  return ApiError(ErrorKind::internal, "internal", "internal error; see the server log");
}

bool isJsonContentType(const std::string& value) {
  try {
    const Poco::Net::MediaType media(value);
    return Poco::icompare(media.getType(), "application") == 0 &&
           Poco::icompare(media.getSubType(), "json") == 0;
  } catch (const Poco::Exception&) {
    return false;
  }
}

// Bodies smaller than this go out as they are: gzip would save little and cost a copy.
constexpr std::size_t kGzipThreshold = 256;

bool acceptsGzip(const std::string& accept_encoding) {
  const Poco::StringTokenizer codings(
      accept_encoding, ",",
      Poco::StringTokenizer::TOK_TRIM | Poco::StringTokenizer::TOK_IGNORE_EMPTY);
  for (const auto& coding : codings) {
    const auto semi = coding.find(';');
    const std::string name = Poco::trim(coding.substr(0, semi));
    const std::string params = semi == std::string::npos ? "" : coding.substr(semi + 1);
    const bool refused = params.find("q=0") != std::string::npos &&
                         params.find_first_of("123456789", params.find("q=0")) == std::string::npos;
    if ((Poco::icompare(name, "gzip") == 0 || name == "*") && !refused) return true;
  }
  return false;
}

bool wantsGzip(const CachedBody& cached, const ApiRequest& req) {
  return cached.body().size() >= kGzipThreshold && acceptsGzip(req.header("accept-encoding"));
}

// A shared body: its ETag, 304 when the client has it already, gzip when it takes it.
void answerCached(http::Response& out, const std::shared_ptr<const CachedBody>& cached,
                  const ApiRequest& req) {
  out.headers.emplace_back("ETag", cached->etag());
  // Revalidate every time (the fleet changes), but let clients keep the bytes for If-None-Match.
  out.headers.emplace_back("Cache-Control", "no-cache");
  out.headers.emplace_back("Vary", "Accept-Encoding");
  if (out.status == 200 && etagMatches(req.header("if-none-match"), cached->etag())) {
    out.status = 304;
    return;
  }
  if (wantsGzip(*cached, req)) {
    out.headers.emplace_back("Content-Encoding", "gzip");
    out.shared_body = std::shared_ptr<const std::string>(cached, &cached->gzipped());
  } else {
    out.shared_body = std::shared_ptr<const std::string>(cached, &cached->body());
  }
}

// A scan link's token is a credential: the access log shows /s/*** instead.
std::string loggedPath(const std::string& path) {
  if (path.rfind("/s/", 0) != 0 || path.rfind("/s/assets/", 0) == 0) return path;
  const auto end = path.find('/', 3);
  return "/s/***" + (end == std::string::npos ? std::string() : path.substr(end));
}

}  // namespace

// What admit() learnt from the head, carried to handle().
struct AdminServer::Admitted {
  ApiRequest request;
  const Route* route = nullptr;
  base::SteadyTime started;
};

std::string apiErrorBody(int status, std::string_view code, std::string_view message) {
  return errorResponse(ApiError(status, std::string(code), std::string(message))).body;
}

AdminServer::AdminServer(AdminServerOptions options, std::shared_ptr<const Router> router,
                         store::ApiKeyRepository& keys, const base::Clock& clock)
    : options_([&] {
        options.http.error_body = &apiErrorBody;
        return std::move(options);
      }()),
      router_(std::move(router)),
      keys_(keys),
      clock_(clock),
      server_(options_.http, *this) {}

AdminServer::~AdminServer() { server_.stop(); }

double AdminServer::secondsSince(base::SteadyTime started) const {
  return std::chrono::duration<double>(clock_.steadyNow() - started).count();
}

void AdminServer::start() { server_.start(); }

void AdminServer::stop() { server_.stop(); }

int AdminServer::publicPort() const {
  return options_.http.listeners.size() > 1 ? server_.port(1) : 0;
}

ApiRequest AdminServer::toApiRequest(const http::Request& request) const {
  ApiRequest req;
  req.method = request.method;
  req.peer = request.peer;
  for (const auto& [k, v] : request.headers) req.headers[Poco::toLower(k)] = v;
  try {
    const Poco::URI uri(request.uri);
    req.path = uri.getPath();
    for (const auto& [k, v] : uri.getQueryParameters()) req.query[k] = v;
  } catch (const Poco::Exception&) {
    req.path = "?";
    throw ApiError::badRequest("malformed_uri", "the request URI could not be parsed");
  }
  if (req.path.empty() || req.path.front() != '/') {
    throw ApiError::badRequest("malformed_uri", "the request target must be an absolute path");
  }
  return req;
}

http::Admission AdminServer::admit(http::Request& request) {
  const auto started = clock_.steadyNow();
  Admitted admitted;
  admitted.started = started;
  try {
    admitted.request = toApiRequest(request);
    ApiRequest& req = admitted.request;
    if (req.method == "OPTIONS" && !req.header("access-control-request-method").empty()) {
      const ApiResponse r = preflight(req, request.listener);
      finish("", req, r.status, secondsSince(started));
      return http::Admission::answered(toHttp(r, req));
    }
    admitted.route = &route(req, request.listener);
    authenticate(req, admitted.route->access);
    if (admitted.route->fast) {
      auto answer = admitted.route->fast(req);
      // Compressing is a worker's job: the loop answers only what is ready to send.
      if (answer && answer->cached && wantsGzip(*answer->cached, req) &&
          !answer->cached->gzipReady()) {
        answer.reset();
      }
      if (answer) {
        finish(admitted.route->pattern, req, answer->status, secondsSince(started));
        return http::Admission::answered(toHttp(std::move(*answer), req));
      }
    }
    if (!request.header("Content-Length").empty() && request.header("Content-Length") != "0" &&
        !isJsonContentType(request.header("Content-Type"))) {
      throw ApiError(ErrorKind::unsupportedMediaType, "unsupported_media_type",
                     fmt::format("Content-Type must be application/json, got '{}'",
                                 request.header("Content-Type")));
    }
  } catch (const ApiError& e) {
    const ApiResponse r = errorResponse(e);
    finish(admitted.route ? admitted.route->pattern : "", admitted.request, r.status,
           secondsSince(started));
    return http::Admission::answered(toHttp(r, admitted.request));
  }
  request.context = std::move(admitted);
  return http::Admission::onWorker();
}

void AdminServer::handle(http::Request request, http::Exchange exchange) {
  auto admitted = std::any_cast<Admitted>(std::move(request.context));
  ApiRequest& req = admitted.request;
  req.body = std::move(request.body);
  ApiResponse res;
  try {
    res = admitted.route->handler(req);
  } catch (const ApiError& e) {
    res = errorResponse(e);
  } catch (const std::exception& e) {
    kLog.error("event=handler_failed method={} path={} error=\"{}\"", req.method,
               loggedPath(req.path), e.what());
    res = errorResponse(internalError());
  }
  const int status = res.status;
  if (res.stream) {
    auto start = std::move(res.stream);
    auto stream_options = std::move(res.stream_options);
    auto stream = exchange.stream(toHttp(std::move(res), req), std::move(stream_options));
    start(stream);
  } else {
    exchange.respond(toHttp(std::move(res), req));
  }
  finish(admitted.route->pattern, req, status, secondsSince(admitted.started));
}

const Route& AdminServer::route(ApiRequest& req, std::size_t listener) const {
  const RouteMatch match = router_->match(req.method, req.path);
  const bool has_public = options_.http.listeners.size() > 1;
  const auto on_this_listener = [&](const Route& r) {
    return !has_public || r.is_public == (listener == 1);
  };
  if (match.route == nullptr || !on_this_listener(*match.route)) {
    if (match.route != nullptr || match.allowed_methods.empty()) {
      throw ApiError::notFound(fmt::format("no route for {}", req.path));
    }
    std::string allow;
    for (const auto& m : match.allowed_methods) allow += (allow.empty() ? "" : ", ") + m;
    ApiError e(ErrorKind::methodNotAllowed, "method_not_allowed",
               fmt::format("{} is not allowed on {}; allowed: {}", req.method, req.path, allow));
    e.headers.emplace_back("Allow", allow);
    throw e;
  }
  req.params = match.params;
  return *match.route;
}

std::optional<std::string> AdminServer::allowedOrigin(const ApiRequest& req) const {
  const std::string origin = req.header("origin");
  if (origin.empty()) return std::nullopt;
  for (const auto& o : options_.cors_origins) {
    if (o == "*" || o == origin) return origin;
  }
  return std::nullopt;
}

ApiResponse AdminServer::preflight(const ApiRequest& req, std::size_t listener) const {
  const auto origin = allowedOrigin(req);
  if (!origin)
    throw ApiError(ErrorKind::forbidden, "cors_forbidden", "this origin may not call the API");
  ApiRequest probe = req;
  probe.method = req.header("access-control-request-method");
  const Route& r = route(probe, listener);
  ApiResponse out = ApiResponse::noContent();
  out.headers.emplace_back("Access-Control-Allow-Methods", r.method);
  out.headers.emplace_back("Access-Control-Allow-Headers",
                           "Authorization, Content-Type, Last-Event-ID");
  out.headers.emplace_back("Access-Control-Max-Age", "600");
  return out;
}

void AdminServer::authenticate(ApiRequest& req, Access access) const {
  if (access == Access::open) return;
  const std::string auth = req.header("authorization");
  std::string secret;
  if (auth.size() > 7 && Poco::icompare(auth.substr(0, 7), "bearer ") == 0) {
    secret = Poco::trim(auth.substr(7));
  }
  std::optional<store::ApiKey> key;
  if (!secret.empty()) key = keys_.authenticate(secret);
  if (!key) {
    ApiError e(ErrorKind::unauthorized, "unauthorized",
               secret.empty() ? "missing API key: send Authorization: Bearer <key>"
                              : "unknown or revoked API key");
    e.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"greenfleet\"");
    throw e;
  }
  req.caller = key;
  if (access == Access::admin && key->role != store::Role::admin) {
    throw ApiError(ErrorKind::forbidden, "forbidden",
                   "this action needs an admin key; this key is read-only");
  }
}

http::Response AdminServer::toHttp(ApiResponse res, const ApiRequest& req) const {
  http::Response out;
  out.status = res.status;
  out.content_type = std::move(res.content_type);
  out.body = std::move(res.body);
  out.headers = std::move(res.headers);
  if (res.cached) answerCached(out, res.cached, req);
  if (const auto origin = allowedOrigin(req)) {
    out.headers.emplace_back("Access-Control-Allow-Origin", *origin);
    out.headers.emplace_back("Vary", "Origin");
    out.headers.emplace_back("Access-Control-Expose-Headers", "Retry-After, Location");
  }
  // API answers are never cached; a handler may choose otherwise (the dashboard revalidates).
  if (!out.has("Cache-Control")) out.headers.emplace_back("Cache-Control", "no-store");
  return out;
}

void AdminServer::finish(const std::string& route, const ApiRequest& req, int status,
                         double seconds) const {
  if (options_.on_request) options_.on_request(route, status, seconds);
  kLog.info("event=request method={} path={} status={} ms={:.1f} key={}", req.method,
            loggedPath(req.path), status, seconds * 1000.0, req.caller ? req.caller->name : "-");
}

}  // namespace greenfleet::api
