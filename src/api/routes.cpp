#include "api/routes.hpp"

#include "api/api_error.hpp"
#include "api/instance_handlers.hpp"

namespace greenfleet::api {

namespace {
ApiResponse plainStatus(int status, const char* text) {
  auto o = orderedObject();
  o->set("status", std::string(text));
  return ApiResponse::json(status, *o);
}
}  // namespace

std::shared_ptr<Router> buildRouter(ApiContext& context) {
  auto router = std::make_shared<Router>();
  auto instances = std::make_shared<InstanceHandlers>(context);
  const auto bind = [instances](ApiResponse (InstanceHandlers::*fn)(ApiRequest&)) {
    return [instances, fn](ApiRequest& r) { return ((*instances).*fn)(r); };
  };

  router->add({"GET", "/healthz", Access::open, [](ApiRequest&) { return plainStatus(200, "ok"); }});
  router->add({"GET", "/readyz", Access::open, [&context](ApiRequest&) {
                 return context.ready() ? plainStatus(200, "ready") : plainStatus(503, "not ready");
               }});
  router->add({"POST", "/api/v1/instances", Access::admin, bind(&InstanceHandlers::create)});
  router->add({"GET", "/api/v1/instances", Access::read, bind(&InstanceHandlers::list)});
  router->add({"GET", "/api/v1/instances/{id}", Access::read, bind(&InstanceHandlers::get)});
  router->add({"PATCH", "/api/v1/instances/{id}", Access::admin, bind(&InstanceHandlers::update)});
  router->add({"DELETE", "/api/v1/instances/{id}", Access::admin, bind(&InstanceHandlers::remove)});
  return router;
}

}  // namespace greenfleet::api
