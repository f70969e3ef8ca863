#pragma once
// AdminServer: the API behind the event-driven HTTP front (http::EventServer). From the head
// alone, on the front's loop, it routes (404/405), authenticates (401/403) and checks the
// Content-Type (415), so those answers go out at once without reading a body; the front checks
// the size (413). With the body in, the route's handler runs on a worker inside one wrapper
// (ApiError → its status, anything else → 500 JSON, logged once); a streamed answer (SSE) is fed
// by its producer without a thread. One access-log line per request. Two listeners: the admin
// one serves everything but the public routes, which move to the public listener when one is
// configured (a route asked on the wrong listener is 404). Requests are timed on the injected
// clock. Thread-safe; owns the front.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/router.hpp"
#include "base/clock.hpp"
#include "http/event_server.hpp"
#include "store/api_key_repository.hpp"

namespace greenfleet::api {

struct AdminServerOptions {
  // listeners[0] is the admin listener; an optional listeners[1] the public one.
  http::ServerOptions http;
  // Browser origins allowed to call the API (CORS); "*" allows any. Empty: no CORS headers.
  std::vector<std::string> cors_origins;
  // Told of every answered request (metrics): the route pattern ("" when none matched), the
  // status and the handling time. Called from the loop and from workers.
  std::function<void(const std::string& route, int status, double seconds)> on_request;
};

class AdminServer final : public http::Handler {
 public:
  AdminServer(AdminServerOptions options, std::shared_ptr<const Router> router,
              store::ApiKeyRepository& keys, const base::Clock& clock);
  ~AdminServer() override;
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  void start();
  // Stops accepting, lets requests in progress finish.
  void stop();
  int port() const { return server_.port(0); }
  // The public listener's port; 0 when there is none.
  int publicPort() const;
  http::ServerStats stats() const { return server_.stats(); }

  http::Admission admit(http::Request& request) override;
  void handle(http::Request request, http::Exchange exchange) override;

 private:
  struct Admitted;
  ApiRequest toApiRequest(const http::Request& request) const;
  const Route& route(ApiRequest& request, std::size_t listener) const;
  void authenticate(ApiRequest& request, Access access) const;
  std::optional<std::string> allowedOrigin(const ApiRequest& request) const;
  ApiResponse preflight(const ApiRequest& request, std::size_t listener) const;
  http::Response toHttp(ApiResponse response, const ApiRequest& request) const;
  void finish(const std::string& route, const ApiRequest& request, int status,
              double seconds) const;
  double secondsSince(base::SteadyTime started) const;

  AdminServerOptions options_;
  std::shared_ptr<const Router> router_;
  store::ApiKeyRepository& keys_;
  const base::Clock& clock_;
  http::EventServer server_;
};

// {"error":{"code","message","field":null}}: the front's own errors in the API's shape.
std::string apiErrorBody(int status, std::string_view code, std::string_view message);

}  // namespace greenfleet::api
