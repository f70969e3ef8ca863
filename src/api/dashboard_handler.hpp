#pragma once
// DashboardHandler: serves the ops dashboard — the static files of ui/, embedded into the binary
// at build time (cmake/embed.cmake, embeddedDashboard()) — at /ui/{file} and /ui/views/{file}
// (the views' ES modules); / and /ui redirect to /ui/, which is index.html. Files are looked up
// by exact name in the embedded table, never on disk, so no request path can reach anything else.
// Each answer has the type of its extension, an ETag (a hash of the bytes; If-None-Match → 304) and
// Cache-Control: no-cache (the files change with the binary, so browsers revalidate). The page
// holds no data: every route is open; the data needs an API key. Read-only after construction:
// thread-safe.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/api_request.hpp"

namespace greenfleet::api {

using EmbeddedFiles = std::vector<std::pair<std::string_view, std::string_view>>;

// Generated at build time from ui/ (CMakeLists.txt: embed_files(... embeddedDashboard ...)).
const EmbeddedFiles& embeddedDashboard();

class DashboardHandler {
 public:
  explicit DashboardHandler(const EmbeddedFiles& files = embeddedDashboard());

  // GET / and GET /ui → 302 to /ui/.
  ApiResponse redirect(ApiRequest& request) const;
  // GET /ui/ (index.html), GET /ui/{file} and GET /ui/views/{file}; 404 JSON for a name not
  // embedded.
  ApiResponse serve(ApiRequest& request) const;

  // "text/html; charset=utf-8" for index.html …; application/octet-stream when unknown.
  static std::string contentTypeFor(std::string_view name);

 private:
  struct File {
    std::string_view bytes;
    std::string content_type;
    std::string etag;
  };
  std::map<std::string, File, std::less<>> files_;
};

}  // namespace greenfleet::api
