#include "api/router.hpp"

#include <algorithm>

namespace greenfleet::api {

namespace {
std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

bool matchSegments(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
                   std::map<std::string, std::string>& params) {
  if (pattern.size() != path.size()) return false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const auto& p = pattern[i];
    if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
      params[p.substr(1, p.size() - 2)] = path[i];
    } else if (p != path[i]) {
      return false;
    }
  }
  return true;
}
}  // namespace

void Router::add(Route route) {
  auto segments = splitPath(route.pattern);
  routes_.push_back({std::move(route), std::move(segments)});
}

RouteMatch Router::match(const std::string& method, const std::string& path) const {
  RouteMatch result;
  const auto segments = splitPath(path);
  for (const auto& c : routes_) {
    std::map<std::string, std::string> params;
    if (!matchSegments(c.segments, segments, params)) continue;
    const bool method_ok =
        c.route.method == method || (method == "HEAD" && c.route.method == "GET");
    if (method_ok && result.route == nullptr) {
      result.route = &c.route;
      result.params = std::move(params);
    }
    if (std::find(result.allowed_methods.begin(), result.allowed_methods.end(), c.route.method) ==
        result.allowed_methods.end()) {
      result.allowed_methods.push_back(c.route.method);
    }
  }
  if (result.route != nullptr) result.allowed_methods.clear();
  return result;
}

}  // namespace greenfleet::api
