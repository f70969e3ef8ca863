#pragma once
// InstanceHandlers: the registry endpoints — POST/GET /api/v1/instances and
// GET/PATCH/DELETE /api/v1/instances/{id}. Stateless apart from the context; thread-safe.

#include "api/api_context.hpp"
#include "api/router.hpp"

namespace greenfleet::api {

class InstanceHandlers {
 public:
  explicit InstanceHandlers(ApiContext& context) : context_(context) {}

  ApiResponse create(ApiRequest& request);
  ApiResponse list(ApiRequest& request);
  ApiResponse get(ApiRequest& request);
  ApiResponse update(ApiRequest& request);
  ApiResponse remove(ApiRequest& request);

  static constexpr std::size_t kMaxBatch = 10000;

 private:
  // The items of a plain batch (see readInstanceBatch), checked; empty when the body is not one.
  std::vector<fleet::RegisteredInstance> plainBatch(const std::string& body);

  ApiContext& context_;
};

// Cursor encoding for keyset pages: opaque to clients, an id to us.
std::string encodeCursor(std::int64_t after_id);
std::optional<std::int64_t> decodeCursor(const std::string& cursor);

}  // namespace greenfleet::api
