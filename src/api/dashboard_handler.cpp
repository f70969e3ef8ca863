#include "api/dashboard_handler.hpp"

#include <array>

#include <fmt/format.h>

#include "api/api_error.hpp"

namespace greenfleet::api {

namespace {

constexpr std::string_view kIndex = "index.html";
constexpr std::string_view kViewsPath = "/ui/views/";

// FNV-1a: the ETag only has to change when the bytes do; no adversary picks them.
std::uint64_t fnv1a(std::string_view bytes) {
  std::uint64_t h = 14695981039346656037ULL;
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

void addSecurityHeaders(ApiResponse& r) {
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
}

}  // namespace

DashboardHandler::DashboardHandler(const EmbeddedFiles& files) {
  for (const auto& [name, bytes] : files) {
    files_.emplace(std::string(name),
                   File{bytes, contentTypeFor(name), fmt::format("\"{:016x}\"", fnv1a(bytes))});
  }
}

std::string DashboardHandler::contentTypeFor(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 10> kTypes{{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".json", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".txt", "text/plain; charset=utf-8"},
  }};
  for (const auto& [ext, type] : kTypes) {
    if (endsWith(name, ext)) return std::string(type);
  }
  return "application/octet-stream";
}

ApiResponse DashboardHandler::redirect(ApiRequest&) const {
  ApiResponse r;
  r.status = 302;
  r.content_type.clear();
  r.headers.emplace_back("Location", "/ui/");
  return r;
}

ApiResponse DashboardHandler::serve(ApiRequest& request) const {
  // The router matches whole segments, so a name never holds '/'; "/ui" without the slash would
  // break the page's relative URLs.
  if (request.path == "/ui") return redirect(request);
  const auto param = request.params.find("file");
  const std::string requested = param == request.params.end() ? std::string(kIndex) : param->second;
  // The page's modules: ui/views/{file} at /ui/views/{file}, the only subdirectory served here.
  const bool in_views = request.path.rfind(kViewsPath, 0) == 0;
  const std::string name = in_views ? "views/" + requested : requested;
  const auto it = files_.find(name);
  if (it == files_.end() || requested.find('/') != std::string::npos) {
    throw ApiError::notFound(fmt::format("no dashboard file {}", request.path));
  }
  const File& file = it->second;
  ApiResponse r;
  addSecurityHeaders(r);
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("ETag", file.etag);
  if (name == kIndex) {
    // Everything the page loads is its own; the QR arrives as a blob: URL.
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; "
                           "base-uri 'none'; frame-ancestors 'none'; form-action 'none'");
  }
  if (request.header("if-none-match") == file.etag) {
    r.status = 304;
    r.content_type.clear();
    return r;
  }
  r.status = 200;
  r.content_type = file.content_type;
  r.body.assign(file.bytes.data(), file.bytes.size());
  return r;
}

}  // namespace greenfleet::api
