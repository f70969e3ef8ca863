#pragma once
// ApiRequest / ApiResponse: what a route handler sees and returns — a narrow view of the HTTP
// exchange with the body already read (size-checked), query and path parameters decoded and the
// caller authenticated. Handlers never touch Poco's request objects.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <Poco/JSON/Object.h>

#include "api/cached_body.hpp"
#include "http/exchange.hpp"
#include "store/api_key_repository.hpp"

namespace greenfleet::api {

struct ApiRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> params;   // from {name} segments of the route
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::optional<store::ApiKey> caller;
  std::string peer;  // client address, without the port

  std::string header(const std::string& lower_name) const;
  // The {id} path parameter as an idInstance; ApiError 404 when it is not a positive integer.
  std::int64_t instanceId() const;
  // An integer query parameter: `fallback` when absent, ApiError 400 invalid_type when not an
  // integer, 422 invalid_value outside [min, max].
  std::int64_t queryInt(const char* name, std::int64_t fallback, std::int64_t min,
                        std::int64_t max) const;
  // A text query parameter: nullopt when absent, ApiError 422 invalid_value when longer than
  // `max_bytes` (fleet/input_limits.hpp).
  std::optional<std::string> queryText(const char* name, std::size_t max_bytes) const;
  // Throws ApiError 400 unknown_parameter for a query parameter not in `allowed`.
  void allowQuery(std::initializer_list<const char*> allowed) const;
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // A body shared with other requests (rendered once per fleet snapshot): answered with its
  // ETag, as 304 to a matching If-None-Match, gzip-compressed when the client accepts it.
  // Used instead of `body` when set.
  std::shared_ptr<const CachedBody> cached;
  std::vector<std::pair<std::string, std::string>> headers;
  // Set for a streamed answer (Server-Sent Events): the head goes out with chunked encoding,
  // then this is called once with the stream to feed (from any thread, never blocking); `body`
  // is ignored.
  std::function<void(const std::shared_ptr<http::Stream>&)> stream;
  http::StreamOptions stream_options;

  static ApiResponse json(int status, const Poco::JSON::Object& object);
  static ApiResponse noContent();
};

std::string toJsonText(const Poco::JSON::Object& object);
// A Poco object that keeps keys in insertion order, for stable, readable JSON.
Poco::JSON::Object::Ptr orderedObject();

}  // namespace greenfleet::api
