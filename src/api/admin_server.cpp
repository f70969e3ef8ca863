#include "api/admin_server.hpp"

#include <algorithm>
#include <chrono>

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/URI.h>
#include <fmt/format.h>

#include "api/api_error.hpp"
#include "fleet/log.hpp"

namespace greenfleet::api {

namespace {
const fleet::Log kLog{"api"};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

ApiResponse errorResponse(const ApiError& e) {
  auto error = orderedObject();
  error->set("code", e.code());
  error->set("message", std::string(e.what()));
  if (e.field()) {
    error->set("field", *e.field());
  } else {
    error->set("field", Poco::Dynamic::Var());
  }
  Poco::JSON::Object root;
  root.set("error", error);
  ApiResponse r = ApiResponse::json(e.status(), root);
  r.headers = e.headers;
  return r;
}

bool isJsonContentType(const std::string& value) {
  const std::string v = lower(value);
  const std::string media = v.substr(0, v.find(';'));
  return media.find_first_not_of(' ') != std::string::npos &&
         media.substr(media.find_first_not_of(' ')).rfind("application/json", 0) == 0;
}

class DispatchHandler final : public Poco::Net::HTTPRequestHandler {
 public:
  DispatchHandler(const Router& router, store::ApiKeyRepository& keys,
                  const AdminServerOptions& options)
      : router_(router), keys_(keys), max_body_(options.max_body_bytes), options_(options) {}

  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    const auto started = std::chrono::steady_clock::now();
    ApiRequest req;
    ApiResponse res;
    bool close_connection = false;
    try {
      res = dispatch(request, req, close_connection);
    } catch (const ApiError& e) {
      res = errorResponse(e);
    } catch (const std::exception& e) {
      kLog.error("event=handler_failed method={} path={} error=\"{}\"", req.method, req.path, e.what());
      res = errorResponse(ApiError(500, "internal", "internal error; see the server log"));
    } catch (...) {
      kLog.error("event=handler_failed method={} path={} error=unknown", req.method, req.path);
      res = errorResponse(ApiError(500, "internal", "internal error; see the server log"));
    }
    if (const auto origin = allowedOrigin(req)) {
      res.headers.emplace_back("Access-Control-Allow-Origin", *origin);
      res.headers.emplace_back("Vary", "Origin");
      res.headers.emplace_back("Access-Control-Expose-Headers", "Retry-After, Location");
    }
    // Reading what the client is still sending lets it see our error instead of a reset.
    if (close_connection && drainBody(request.stream())) close_connection = false;
    try {
      write(request, response, res, close_connection);
    } catch (const std::exception& e) {
      kLog.warn("event=write_failed path={} error=\"{}\"", req.path, e.what());
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const double ms = seconds * 1000.0;
    if (options_.on_request) options_.on_request(route_, res.status, seconds);
    kLog.info("event=request method={} path={} status={} ms={:.1f} key={}", req.method, req.path,
              res.status, ms, req.caller ? req.caller->name : "-");
  }

 private:
  ApiResponse dispatch(Poco::Net::HTTPServerRequest& request, ApiRequest& req, bool& close) {
    req.method = request.getMethod();
    // Until the body is read, an early error must close the connection: the unread body would
    // otherwise be parsed as the next request.
    close = request.getChunkedTransferEncoding() ||
            (request.hasContentLength() && request.getContentLength64() > 0);
    Poco::URI uri;
    try {
      uri = Poco::URI(request.getURI());
      req.path = uri.getPath();
      for (const auto& [k, v] : uri.getQueryParameters()) req.query[k] = v;
    } catch (const Poco::Exception&) {
      req.path = "?";
      throw ApiError::badRequest("malformed_uri", "the request URI could not be parsed");
    }
    for (const auto& [k, v] : request) req.headers[lower(k)] = v;

    if (req.method == "OPTIONS" && !req.header("access-control-request-method").empty()) {
      return preflight(req);
    }
    const RouteMatch match = router_.match(req.method, req.path);
    if (match.route == nullptr) {
      if (match.allowed_methods.empty()) {
        throw ApiError::notFound(fmt::format("no route for {}", req.path));
      }
      std::string allow;
      for (const auto& m : match.allowed_methods) allow += (allow.empty() ? "" : ", ") + m;
      ApiError e(405, "method_not_allowed",
                 fmt::format("{} is not allowed on {}; allowed: {}", req.method, req.path, allow));
      e.headers.emplace_back("Allow", allow);
      throw e;
    }
    req.params = match.params;
    route_ = match.route->pattern;
    authenticate(req, match.route->access);
    readBody(request, req, close);
    return match.route->handler(req);
  }

  // The CORS origin to echo, when the request's Origin is allowed.
  std::optional<std::string> allowedOrigin(const ApiRequest& req) const {
    const std::string origin = req.header("origin");
    if (origin.empty()) return std::nullopt;
    for (const auto& o : options_.cors_origins) {
      if (o == "*" || o == origin) return origin;
    }
    return std::nullopt;
  }

  ApiResponse preflight(const ApiRequest& req) const {
    const auto origin = allowedOrigin(req);
    if (!origin) throw ApiError(403, "cors_forbidden", "this origin may not call the API");
    const std::string method = req.header("access-control-request-method");
    const RouteMatch match = router_.match(method, req.path);
    if (match.route == nullptr) {
      throw ApiError::notFound(fmt::format("no route for {} {}", method, req.path));
    }
    ApiResponse r = ApiResponse::noContent();
    r.headers.emplace_back("Access-Control-Allow-Methods", method);
    r.headers.emplace_back("Access-Control-Allow-Headers", "Authorization, Content-Type, Last-Event-ID");
    r.headers.emplace_back("Access-Control-Max-Age", "600");
    return r;
  }

  void authenticate(ApiRequest& req, Access access) {
    if (access == Access::open) return;
    const std::string auth = req.header("authorization");
    std::string secret;
    if (auth.size() > 7 && lower(auth.substr(0, 7)) == "bearer ") secret = auth.substr(7);
    while (!secret.empty() && secret.back() == ' ') secret.pop_back();
    std::optional<store::ApiKey> key;
    if (!secret.empty()) key = keys_.authenticate(secret);
    if (!key) {
      ApiError e(401, "unauthorized",
                 secret.empty() ? "missing API key: send Authorization: Bearer <key>"
                                : "unknown or revoked API key");
      e.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"greenfleet\"");
      throw e;
    }
    req.caller = key;
    if (access == Access::admin && key->role != store::Role::admin) {
      throw ApiError(403, "forbidden", "this action needs an admin key; this key is read-only");
    }
  }

  void readBody(Poco::Net::HTTPServerRequest& request, ApiRequest& req, bool& close) {
    const bool has_length = request.hasContentLength();
    const auto length = has_length ? request.getContentLength64() : 0;
    const bool chunked = request.getChunkedTransferEncoding();
    if (!chunked && (!has_length || length == 0)) return;
    if (!isJsonContentType(request.getContentType())) {
      throw ApiError(415, "unsupported_media_type",
                     fmt::format("Content-Type must be application/json, got '{}'",
                                 request.getContentType()));
    }
    if (has_length && static_cast<std::size_t>(length) > max_body_) {
      throw ApiError(413, "payload_too_large",
                     fmt::format("request body is {} bytes; the limit is {}", length, max_body_));
    }
    std::istream& in = request.stream();
    std::string body;
    char buf[16384];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
      body.append(buf, static_cast<std::size_t>(in.gcount()));
      if (body.size() > max_body_) {
        throw ApiError(413, "payload_too_large",
                       fmt::format("request body exceeds the limit of {} bytes", max_body_));
      }
    }
    req.body = std::move(body);
    close = false;
  }

  static bool drainBody(std::istream& in) {
    constexpr std::size_t kDrainCap = 16 << 20;
    char buf[16384];
    std::size_t drained = 0;
    try {
      while (drained <= kDrainCap && (in.read(buf, sizeof buf) || in.gcount() > 0)) {
        drained += static_cast<std::size_t>(in.gcount());
      }
      return drained <= kDrainCap && in.eof();
    } catch (const std::exception&) {
      return false;
    }
  }

  static void write(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
                    const ApiResponse& res, bool close) {
    response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(res.status));
    for (const auto& [k, v] : res.headers) response.set(k, v);
    // API answers are never cached; a handler may choose otherwise (the dashboard revalidates).
    if (!response.has("Cache-Control")) response.set("Cache-Control", "no-store");
    if (close) response.setKeepAlive(false);
    if (!res.content_type.empty()) response.setContentType(res.content_type);
    if (res.stream) {
      response.setKeepAlive(false);
      response.setChunkedTransferEncoding(true);
      auto& out = response.send();
      out.flush();
      res.stream(out);
      return;
    }
    response.setContentLength64(static_cast<Poco::Int64>(res.body.size()));
    auto& out = response.send();
    if (request.getMethod() != "HEAD") out.write(res.body.data(), static_cast<std::streamsize>(res.body.size()));
  }

  const Router& router_;
  store::ApiKeyRepository& keys_;
  std::size_t max_body_;
  const AdminServerOptions& options_;
  std::string route_;
};

class DispatchFactory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  DispatchFactory(std::shared_ptr<const Router> router, store::ApiKeyRepository& keys,
                  const AdminServerOptions& options)
      : router_(std::move(router)), keys_(keys), options_(options) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new DispatchHandler(*router_, keys_, options_);
  }

 private:
  std::shared_ptr<const Router> router_;
  store::ApiKeyRepository& keys_;
  const AdminServerOptions& options_;
};
}  // namespace

AdminServer::AdminServer(AdminServerOptions options, std::shared_ptr<const Router> router,
                         store::ApiKeyRepository& keys)
    : options_(std::move(options)) {
  Poco::Net::ServerSocket socket(
      Poco::Net::SocketAddress(options_.host, static_cast<Poco::UInt16>(options_.port)), 128);
  auto* params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(options_.threads);
  params->setMaxQueued(options_.queue);
  params->setKeepAlive(true);
  params->setKeepAliveTimeout(Poco::Timespan(options_.keep_alive_timeout_s, 0));
  params->setTimeout(Poco::Timespan(30, 0));
  server_ = std::make_unique<Poco::Net::HTTPServer>(
      new DispatchFactory(std::move(router), keys, options_), socket, params);
}

AdminServer::~AdminServer() {
  if (server_) server_->stopAll(true);
}

void AdminServer::start() { server_->start(); }

void AdminServer::stop() { server_->stopAll(false); }

int AdminServer::port() const { return server_->socket().address().port(); }

}  // namespace greenfleet::api
