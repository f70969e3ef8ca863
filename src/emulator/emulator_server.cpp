#include "emulator/emulator_server.hpp"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/URI.h>
#include <fmt/format.h>

#include "emulator/control_routes.hpp"
#include "emulator/wire_routes.hpp"
#include "fleet/log.hpp"

namespace greenfleet::emulator {

namespace {

const fleet::Log kLog{"emulator"};

// One handler for every request: routes by path prefix and never lets an exception escape
// (a std::exception escaping a Poco handler drops the connection).
class RequestHandler final : public Poco::Net::HTTPRequestHandler {
 public:
  explicit RequestHandler(EmulatorContext& ctx) : ctx_(ctx) {}

  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    try {
      const std::string path = Poco::URI(request.getURI()).getPath();
      if (path.rfind("/waInstance", 0) == 0) {
        handleInstanceMethod(ctx_, request, response, path);
      } else if (path.rfind("/partner/", 0) == 0) {
        handlePartnerMethod(ctx_, request, response, path);
      } else if (path == "/_emulator" || path.rfind("/_emulator/", 0) == 0) {
        handleControl(ctx_, request, response, path);
      } else {
        sendError(response, 404, "not found");
      }
    } catch (const std::exception& e) {
      kLog.error("handler failed error={}", e.what());
      try {
        if (!response.sent()) sendError(response, 500, "internal error");
      } catch (...) {
      }
    } catch (...) {
      try {
        if (!response.sent()) sendError(response, 500, "internal error");
      } catch (...) {
      }
    }
  }

 private:
  EmulatorContext& ctx_;
};

// Never returns nullptr (Poco would answer 501): every request gets the routing handler.
class HandlerFactory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit HandlerFactory(EmulatorContext& ctx) : ctx_(ctx) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new RequestHandler(ctx_);
  }

 private:
  EmulatorContext& ctx_;
};

}  // namespace

EmulatorServer::EmulatorServer(EmulatorOptions options, const fleet::Clock& clock)
    : options_(std::move(options)), clock_(clock), registry_(clock_, options_) {}

EmulatorServer::~EmulatorServer() { stop(); }

std::string EmulatorServer::baseUrl() const {
  return fmt::format("http://{}:{}", options_.host, port_);
}

void EmulatorServer::start() {
  Poco::Net::ServerSocket socket;
  socket.bind(Poco::Net::SocketAddress(options_.host, static_cast<Poco::UInt16>(options_.port)),
              true);
  socket.listen(1024);
  port_ = socket.address().port();

  if (!options_.webhookUrl.empty()) {
    webhooks_ = std::make_unique<WebhookSender>(options_.webhookUrl, options_.webhookToken, clock_);
    WebhookSender* sender = webhooks_.get();
    registry_.setTransitionSink([sender](const Transition& t) { sender->enqueue(t); });
  }
  context_ = std::make_unique<EmulatorContext>(
      EmulatorContext{registry_, options_, stopping_, webhooks_.get(), baseUrl()});

  auto* params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(options_.threads);
  params->setMaxQueued(options_.queue);
  params->setKeepAlive(true);
  params->setMaxKeepAliveRequests(1000000);
  params->setKeepAliveTimeout(Poco::Timespan(options_.keepAlive.count() * 1000));
  params->setTimeout(Poco::Timespan(60, 0));
  pool_ = std::make_unique<Poco::ThreadPool>(4, options_.threads + 4, 60);
  server_ = std::make_unique<Poco::Net::HTTPServer>(new HandlerFactory(*context_), *pool_, socket,
                                                    params);
  server_->start();
  running_ = true;

  if (webhooks_) {
    // Timed transitions (starting → notAuthorized …) must be announced even when nobody asks.
    ticker_ = std::thread([this] {
      while (!stopping_.tryWait(100)) registry_.tick();
    });
  }
}

void EmulatorServer::stop() {
  if (!running_) return;
  running_ = false;
  stopping_.set();
  if (ticker_.joinable()) ticker_.join();
  server_->stopAll(true);
  pool_->joinAll();
  if (webhooks_) {
    registry_.setTransitionSink({});
    webhooks_->stop();
  }
}

}  // namespace greenfleet::emulator
