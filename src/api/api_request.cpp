#include "api/api_request.hpp"

#include <charconv>
#include <sstream>

#include <fmt/format.h>

#include "api/api_error.hpp"
#include "api/json_fields.hpp"

namespace greenfleet::api {

std::string ApiRequest::header(const std::string& lower_name) const {
  const auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

std::int64_t ApiRequest::instanceId() const {
  const auto it = params.find("id");
  const std::string text = it == params.end() ? std::string() : it->second;
  std::int64_t id = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || ptr != text.data() + text.size() || id <= 0) {
    throw ApiError::notFound(fmt::format("no instance '{}': ids are positive integers", text));
  }
  return id;
}

std::int64_t ApiRequest::queryInt(const char* name, std::int64_t fallback, std::int64_t min,
                                  std::int64_t max) const {
  const auto it = query.find(name);
  if (it == query.end()) return fallback;
  std::int64_t v = 0;
  const auto& t = it->second;
  const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || ptr != t.data() + t.size()) {
    throw ApiError::badRequest("invalid_type", fmt::format("{} must be an integer", name), name);
  }
  if (v < min || v > max) {
    throw ApiError::unprocessable(fmt::format("{} must be between {} and {}", name, min, max),
                                  name);
  }
  return v;
}

std::optional<std::string> ApiRequest::queryText(const char* name, std::size_t max_bytes) const {
  const auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  requireMaxLength(it->second, max_bytes, name);
  return it->second;
}

void ApiRequest::allowQuery(std::initializer_list<const char*> allowed) const {
  for (const auto& [name, value] : query) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || name == a;
    if (!ok) {
      throw ApiError::badRequest("unknown_parameter",
                                 fmt::format("unknown query parameter '{}'", name), name);
    }
  }
}

std::string toJsonText(const Poco::JSON::Object& object) {
  std::ostringstream out;
  object.stringify(out);
  return out.str();
}

Poco::JSON::Object::Ptr orderedObject() {
  return new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
}

ApiResponse ApiResponse::json(int status, const Poco::JSON::Object& object) {
  ApiResponse r;
  r.status = status;
  r.body = toJsonText(object);
  return r;
}

ApiResponse ApiResponse::noContent() {
  ApiResponse r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

}  // namespace greenfleet::api
