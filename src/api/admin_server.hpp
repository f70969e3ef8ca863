#pragma once
// AdminServer: the Poco HTTPServer in front of the Router. One request handler does, in order:
// route (404/405), authenticate (401/403), check Content-Type (415) and size (413), read the
// body, call the handler inside a wrapper (ApiError → its status, anything else → 500 JSON,
// logged once), write the answer and one access-log line. Thread-safe; owns its threads.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/router.hpp"
#include "store/api_key_repository.hpp"

namespace Poco::Net {
class HTTPServer;
}

namespace greenfleet::api {

struct AdminServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
  int threads = 16;
  int queue = 256;
  int keep_alive_timeout_s = 15;
  std::size_t max_body_bytes = 1 << 20;
  // Browser origins allowed to call the API (CORS); "*" allows any. Empty: no CORS headers.
  std::vector<std::string> cors_origins;
  // Told of every answered request (metrics): the route pattern ("" when none matched), the
  // status and the handling time. Called from HTTP threads.
  std::function<void(const std::string& route, int status, double seconds)> on_request;
};

class AdminServer {
 public:
  AdminServer(AdminServerOptions options, std::shared_ptr<const Router> router,
              store::ApiKeyRepository& keys);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  void start();
  // Stops accepting, lets requests in progress finish.
  void stop();
  int port() const;

 private:
  AdminServerOptions options_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

}  // namespace greenfleet::api
