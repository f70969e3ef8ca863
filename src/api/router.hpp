#pragma once
// Router: the ordered route table — method, pattern with {name} segments, the role required,
// and the handler. Matching is data-driven so that an unknown path is an explicit 404 and a
// known path with the wrong method a 405 listing what is allowed (never Poco's 501).
// Built once at start, then read-only: thread-safe for matching.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/api_request.hpp"

namespace greenfleet::api {

enum class Access { open, read, admin };

struct Route {
  std::string method;
  std::string pattern;  // e.g. "/api/v1/instances/{id}"
  Access access = Access::read;
  std::function<ApiResponse(ApiRequest&)> handler;
  // Served on the public listener when one is configured (and then only there); otherwise on
  // the admin listener like every route.
  bool is_public = false;
  // Optional: answers from memory on the HTTP loop when it can without waiting (a body already
  // rendered for the current snapshot); nullopt sends the request to `handler` on a worker.
  // Must never block.
  std::function<std::optional<ApiResponse>(ApiRequest&)> fast;
};

struct RouteMatch {
  const Route* route = nullptr;  // null: no route for this method
  std::map<std::string, std::string> params;
  std::vector<std::string> allowed_methods;  // non-empty: path known, method not
};

class Router {
 public:
  void add(Route route);
  RouteMatch match(const std::string& method, const std::string& path) const;

 private:
  struct Compiled {
    Route route;
    std::vector<std::string> segments;
  };
  std::vector<Compiled> routes_;
};

}  // namespace greenfleet::api
