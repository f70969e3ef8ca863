#include "emulator/emulator_server.hpp"

#include <Poco/URI.h>
#include <fmt/format.h>

#include "base/log.hpp"
#include "emulator/control_routes.hpp"
#include "emulator/wire_routes.hpp"

namespace greenfleet::emulator {

namespace {

const base::Log kLog{"emulator"};

// Benchmarks open tens of thousands of connections, all from one address.
constexpr std::size_t kMaxConnections = 20000;

// The front's own errors (413, 503 …) in the emulator's {"error": …} shape.
std::string frontErrorBody(int, std::string_view, std::string_view message) {
  return errorBody(message);
}

// What admit() learnt from the head, carried to handle().
struct Route {
  std::string path;
};

}  // namespace

EmulatorServer::EmulatorServer(EmulatorOptions options, const base::Clock& clock)
    : options_(std::move(options)), clock_(clock), registry_(clock_, options_) {}

EmulatorServer::EmulatorServer(EmulatorOptions options, ControllableClock& clock)
    : options_(std::move(options)),
      clock_(clock),
      controllable_clock_(&clock),
      registry_(clock_, options_) {}

EmulatorServer::~EmulatorServer() { stop(); }

std::string EmulatorServer::baseUrl() const {
  return fmt::format("http://{}:{}", options_.host, port_);
}

void EmulatorServer::start() {
  webhooks_ = std::make_unique<WebhookSender>(clock_);
  registry_.setTransitionSink([this, sender = webhooks_.get()](const Transition& t) {
    // An instance that set its own webhook (setSettings) is announced there, and only when its
    // stateWebhook is yes, as Green API does; the others go to --webhook-url when given.
    if (const auto own = registry_.webhookSettings().get(t.id)) {
      if (own->state_webhook == "yes" && !own->url.empty())
        sender->enqueue(own->url, own->token, t);
    } else if (!options_.webhookUrl.empty()) {
      sender->enqueue(options_.webhookUrl, options_.webhookToken, t);
    }
  });

  http::ServerOptions http;
  http.listeners.push_back(http::Listener{"emulator", options_.host, options_.port});
  http.workers = static_cast<std::size_t>(options_.threads);
  http.max_queued = static_cast<std::size_t>(options_.queue);
  http.idle_timeout = options_.keepAlive;
  http.max_connections = kMaxConnections;
  http.max_connections_per_ip = kMaxConnections;
  http.error_body = &frontErrorBody;
  http::Handler& handler = *this;
  server_ = std::make_unique<http::EventServer>(std::move(http), handler);
  server_->start();
  port_ = server_->port();
  context_ = std::make_unique<EmulatorContext>(EmulatorContext{registry_, options_, stopping_,
                                                               webhooks_.get(), websockets_,
                                                               baseUrl(), controllable_clock_});
  ready_ = true;
  running_ = true;

  // Timed transitions (starting → notAuthorized …) must be announced even when nobody asks:
  // every instance's with --webhook-url, else only those that set a webhook of their own.
  ticker_ = std::thread([this] {
    while (!stopping_.tryWait(100)) {
      if (options_.webhookUrl.empty()) {
        registry_.tick(registry_.webhookSettings().ids());
      } else {
        registry_.tick();
      }
    }
  });
}

void EmulatorServer::stop() {
  if (!running_) return;
  running_ = false;
  stopping_.set();
  if (ticker_.joinable()) ticker_.join();
  server_->stop();
  websockets_.joinAll();
  if (webhooks_) {
    registry_.setTransitionSink({});
    webhooks_->stop();
  }
}

http::Admission EmulatorServer::admit(http::Request& request) {
  // Until start() has the port, the context (apiUrl) is incomplete.
  if (!ready_) return http::Admission::answered(errorResponse(503, "starting"));
  Route route;
  try {
    route.path = Poco::URI(request.uri).getPath();
  } catch (const Poco::Exception&) {
    return http::Admission::answered(errorResponse(400, "malformed request URI"));
  }
  const bool on_worker = runsOnWorker(route.path);
  request.context = std::move(route);
  return on_worker ? http::Admission::onWorker() : http::Admission::inLoop();
}

void EmulatorServer::handle(http::Request request, http::Exchange exchange) {
  EmulatorContext& ctx = *context_;
  const auto path = std::any_cast<Route>(std::move(request.context)).path;
  try {
    if (path.rfind("/waInstance", 0) == 0) {
      handleInstanceMethod(ctx, request, exchange, path);
    } else if (path.rfind("/partner/", 0) == 0) {
      exchange.respond(handlePartnerMethod(ctx, request, path));
    } else if (path == "/_emulator" || path.rfind("/_emulator/", 0) == 0) {
      exchange.respond(handleControl(ctx, request, path));
    } else {
      exchange.respond(errorResponse(404, "not found"));
    }
  } catch (const std::exception& e) {
    kLog.error("handler failed error={}", e.what());
    exchange.respond(errorResponse(500, "internal error"));
  }
}

}  // namespace greenfleet::emulator
