#include "api/routes.hpp"

#include "api/api_error.hpp"
#include "api/dashboard_handler.hpp"
#include "api/event_handlers.hpp"
#include "api/instance_handlers.hpp"
#include "api/meta_handler.hpp"
#include "api/metrics_handler.hpp"
#include "api/pairing_code_handler.hpp"
#include "api/partner_handlers.hpp"
#include "api/scan_handlers.hpp"
#include "api/scan_link_handlers.hpp"
#include "api/summary_handler.hpp"
#include "api/sweep_handlers.hpp"
#include "api/webhook_handler.hpp"
#include "api/webhook_setup_handlers.hpp"

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
  auto scans = std::make_shared<ScanHandlers>(context);
  auto events = std::make_shared<EventHandlers>(context);
  auto webhooks = std::make_shared<WebhookHandler>(context);
  auto sweeps = std::make_shared<SweepHandlers>(context);
  auto webhook_setup = std::make_shared<WebhookSetup>(context);
  auto summary = std::make_shared<SummaryHandler>(context, webhook_setup);
  auto dashboard = std::make_shared<DashboardHandler>();
  auto pairing = std::make_shared<PairingCodeHandler>(context);
  auto links = std::make_shared<ScanLinkHandlers>(context, pairing);
  const auto bind = [](auto handlers, auto fn) {
    return [handlers, fn](ApiRequest& r) { return ((*handlers).*fn)(r); };
  };

  router->add(
      {"GET", "/healthz", Access::open, [](ApiRequest&) { return plainStatus(200, "ok"); }});
  router->add({"GET", "/readyz", Access::open, [&context](ApiRequest&) {
                 return context.ready() ? plainStatus(200, "ready") : plainStatus(503, "not ready");
               }});
  router->add(
      {"GET", "/metrics", context.metrics_require_key ? Access::read : Access::open,
       [&context](ApiRequest&) { return metricsResponse(&context.metrics, &context.poller); }});
  // Who the caller is: the dashboard offers actions only to admin keys.
  router->add({"GET", "/api/v1/me", Access::read, [](ApiRequest& request) {
                 request.allowQuery({});
                 auto o = orderedObject();
                 o->set("name", request.caller->name);
                 o->set("role", std::string(store::roleName(request.caller->role)));
                 return ApiResponse::json(200, *o);
               }});
  router->add({"GET", "/api/v1/meta", Access::read, metaResponse});
  router->add(
      {"POST", "/api/v1/instances", Access::admin, bind(instances, &InstanceHandlers::create)});
  router->add({"GET", "/api/v1/instances", Access::read, bind(instances, &InstanceHandlers::list)});
  router->add(
      {"GET", "/api/v1/instances/{id}", Access::read, bind(instances, &InstanceHandlers::get)});
  router->add({"PATCH", "/api/v1/instances/{id}", Access::admin,
               bind(instances, &InstanceHandlers::update)});
  router->add({"DELETE", "/api/v1/instances/{id}", Access::admin,
               bind(instances, &InstanceHandlers::remove)});
  router->add({"GET", "/api/v1/needs-scan", Access::read, bind(scans, &ScanHandlers::needsScan),
               false, [scans](ApiRequest& r) { return scans->needsScanFast(r); }});
  router->add({"GET", "/api/v1/instances/{id}/qr", Access::read, bind(scans, &ScanHandlers::qr)});
  // Before the generic action route: the first match wins.
  auto setups = std::make_shared<WebhookSetupHandlers>(context, webhook_setup);
  router->add({"POST", "/api/v1/instances/{id}/actions/configure-webhook", Access::admin,
               bind(setups, &WebhookSetupHandlers::configure)});
  router->add({"POST", "/api/v1/instances/{id}/actions/verify-webhook", Access::admin,
               bind(setups, &WebhookSetupHandlers::verify)});
  router->add({"POST", "/api/v1/webhooks/configure", Access::admin,
               bind(setups, &WebhookSetupHandlers::createJob)});
  router->add({"GET", "/api/v1/webhooks/configure", Access::read,
               bind(setups, &WebhookSetupHandlers::listJobs)});
  router->add({"GET", "/api/v1/webhooks/configure/{jobId}", Access::read,
               bind(setups, &WebhookSetupHandlers::getJob)});
  router->add({"POST", "/api/v1/instances/{id}/actions/{action}", Access::admin,
               bind(scans, &ScanHandlers::action)});
  router->add({"GET", "/api/v1/events", Access::read, bind(events, &EventHandlers::list)});
  router->add({"GET", "/api/v1/events/stream", Access::read, bind(events, &EventHandlers::stream)});
  router->add({"GET", "/api/v1/instances/{id}/events", Access::read,
               bind(events, &EventHandlers::history)});
  router->add({"GET", "/api/v1/summary", Access::read, bind(summary, &SummaryHandler::handle),
               false, [summary](ApiRequest& r) { return summary->fast(r); }});
  router->add({"POST", "/api/v1/sweeps", Access::admin, bind(sweeps, &SweepHandlers::create)});
  router->add({"GET", "/api/v1/sweeps", Access::read, bind(sweeps, &SweepHandlers::list)});
  router->add({"GET", "/api/v1/sweeps/{id}", Access::read, bind(sweeps, &SweepHandlers::get)});
  router->add({"GET", "/api/v1/report", Access::read, bind(sweeps, &SweepHandlers::report)});
  auto partners = std::make_shared<PartnerHandlers>(context);
  router->add(
      {"POST", "/api/v1/partners", Access::admin, bind(partners, &PartnerHandlers::create)});
  router->add({"GET", "/api/v1/partners", Access::read, bind(partners, &PartnerHandlers::list)});
  router->add(
      {"GET", "/api/v1/partners/{id}", Access::read, bind(partners, &PartnerHandlers::get)});
  router->add(
      {"PATCH", "/api/v1/partners/{id}", Access::admin, bind(partners, &PartnerHandlers::update)});
  router->add(
      {"DELETE", "/api/v1/partners/{id}", Access::admin, bind(partners, &PartnerHandlers::remove)});
  router->add({"POST", "/api/v1/partners/{id}/sync", Access::admin,
               bind(partners, &PartnerHandlers::sync)});
  // The dashboard's static files hold no data (every call it makes needs a key): open.
  router->add({"GET", "/", Access::open, bind(dashboard, &DashboardHandler::redirect)});
  router->add({"GET", "/ui/", Access::open, bind(dashboard, &DashboardHandler::serve)});
  router->add({"GET", "/ui/{file}", Access::open, bind(dashboard, &DashboardHandler::serve)});
  router->add({"GET", "/ui/views/{file}", Access::open, bind(dashboard, &DashboardHandler::serve)});
  // Authenticated by the webhook token inside the handler, not by an API key.
  router->add({"POST", "/webhooks/green-api", Access::open, bind(webhooks, &WebhookHandler::handle),
               /*is_public=*/true});
  // Scan links: created by an admin, opened by whoever holds the link (the token is the key).
  router->add({"POST", "/api/v1/instances/{id}/scan-links", Access::admin,
               bind(links, &ScanLinkHandlers::create)});
  router->add({"GET", "/api/v1/instances/{id}/scan-links", Access::read,
               bind(links, &ScanLinkHandlers::list)});
  router->add({"DELETE", "/api/v1/instances/{id}/scan-links/{linkId}", Access::admin,
               bind(links, &ScanLinkHandlers::revoke)});
  router->add({"POST", "/api/v1/instances/{id}/pairing-code", Access::admin,
               bind(pairing, &PairingCodeHandler::forInstance)});
  router->add(
      {"GET", "/s/assets/{file}", Access::open, bind(links, &ScanLinkHandlers::asset), true});
  router->add({"GET", "/s/{token}", Access::open, bind(links, &ScanLinkHandlers::page), true});
  router->add(
      {"GET", "/s/{token}/state", Access::open, bind(links, &ScanLinkHandlers::state), true});
  router->add(
      {"GET", "/s/{token}/qr.png", Access::open, bind(links, &ScanLinkHandlers::qrImage), true});
  router->add({"POST", "/s/{token}/pairing-code", Access::open,
               bind(links, &ScanLinkHandlers::pairingCode), true});
  return router;
}

}  // namespace greenfleet::api
