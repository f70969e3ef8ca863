#pragma once
// GET /api/v1/meta: the vocabulary of the API's fields — every attention name (most severe
// first) and every stateInstance greenfleet classifies — so clients (the dashboard's filters and
// tiles) take the lists from the server instead of keeping a copy that a new value leaves
// behind. Stateless.

#include "api/router.hpp"

namespace greenfleet::api {

ApiResponse metaResponse(ApiRequest& request);

}  // namespace greenfleet::api
