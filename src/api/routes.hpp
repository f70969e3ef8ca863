#pragma once
// The route table of the admin API: every endpoint, its method and the role it needs.

#include <memory>

#include "api/api_context.hpp"
#include "api/router.hpp"

namespace greenfleet::api {

std::shared_ptr<Router> buildRouter(ApiContext& context);

}  // namespace greenfleet::api
