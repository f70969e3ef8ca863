#pragma once
// EventHandlers: the fleet's history — GET /api/v1/events (paged with after/nextAfter) and
// GET /api/v1/events/stream (the same as Server-Sent Events: id = seq, Last-Event-ID honoured,
// heartbeats, slow readers dropped by the EventHub). Thread-safe.

#include "api/api_context.hpp"
#include "api/router.hpp"

namespace greenfleet::api {

class EventHandlers {
 public:
  explicit EventHandlers(ApiContext& context) : context_(context) {}

  ApiResponse list(ApiRequest& request);
  ApiResponse stream(ApiRequest& request);
  // GET /api/v1/instances/{id}/events: one instance's history, newest first.
  ApiResponse history(ApiRequest& request);

 private:
  ApiContext& context_;
};

}  // namespace greenfleet::api
