#pragma once
// PartnerHandlers: partner accounts — POST/GET /api/v1/partners, GET/PATCH/DELETE
// /api/v1/partners/{id}, POST /api/v1/partners/{id}/sync. The partner token is write-only: every
// answer shows tokenHint. Changes reach the running sync through PartnerSyncControl.
// Thread-safe.

#include "api/api_context.hpp"
#include "api/router.hpp"

namespace greenfleet::api {

class PartnerHandlers {
 public:
  explicit PartnerHandlers(ApiContext& context) : context_(context) {}

  ApiResponse create(ApiRequest& request);
  ApiResponse list(ApiRequest& request);
  ApiResponse get(ApiRequest& request);
  ApiResponse update(ApiRequest& request);
  ApiResponse remove(ApiRequest& request);
  ApiResponse sync(ApiRequest& request);

 private:
  ApiContext& context_;
};

// The JSON of a sync result (lastSync, and the answer of a sync).
Poco::JSON::Object::Ptr syncResultToJson(const fleet::PartnerSyncResult& result);

}  // namespace greenfleet::api
