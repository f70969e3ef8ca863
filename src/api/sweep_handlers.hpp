#pragma once
// SweepHandlers: POST /api/v1/sweeps (admin: start a fresh probe of all or filtered instances),
// GET /api/v1/sweeps/{id} (progress, then the report), GET /api/v1/sweeps (past sweeps, newest
// first) and GET /api/v1/report (the stored status as a report, no probes). Thread-safe.

#include "api/api_context.hpp"
#include "api/router.hpp"

namespace greenfleet::api {

class SweepHandlers {
 public:
  explicit SweepHandlers(ApiContext& context) : context_(context) {}

  ApiResponse create(ApiRequest& request);
  ApiResponse get(ApiRequest& request);
  ApiResponse list(ApiRequest& request);
  ApiResponse report(ApiRequest& request);

 private:
  ApiContext& context_;
};

}  // namespace greenfleet::api
