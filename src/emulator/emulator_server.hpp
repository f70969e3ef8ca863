#pragma once
// EmulatorServer: the running `greenfleet emulate` — the Green API wire format, the scanqrcode
// websocket, the partner API and the /_emulator control API over one InstanceRegistry, served by
// the event-driven front (http::EventServer): an open connection costs no thread, injected
// latency is a timer on the loop. Plus the webhook sender and, when webhooks are on, a ticker
// that advances timed transitions without waiting for a request. Owns all of them.
// start()/stop() from one thread; handlers run on the loop (or its workers for slow routes).

#include <atomic>
#include <memory>
#include <thread>

#include <Poco/Event.h>

#include "base/clock.hpp"
#include "emulator/controllable_clock.hpp"
#include "emulator/emulator_options.hpp"
#include "emulator/http_io.hpp"
#include "emulator/instance_registry.hpp"
#include "emulator/qr_websocket_sessions.hpp"
#include "emulator/webhook_sender.hpp"
#include "http/event_server.hpp"

namespace greenfleet::emulator {

class EmulatorServer : private http::Handler {
 public:
  EmulatorServer(EmulatorOptions options, const base::Clock& clock);
  // Tests: the control API may move this clock (POST /_emulator/clock/advance).
  EmulatorServer(EmulatorOptions options, ControllableClock& clock);
  ~EmulatorServer() override;
  EmulatorServer(const EmulatorServer&) = delete;
  EmulatorServer& operator=(const EmulatorServer&) = delete;

  InstanceRegistry& registry() { return registry_; }
  // Binds host:port (port 0 picks a free one) and starts serving.
  void start();
  void stop();
  int port() const { return port_; }
  std::string baseUrl() const;

 private:
  http::Admission admit(http::Request& request) override;
  void handle(http::Request request, http::Exchange exchange) override;

  EmulatorOptions options_;
  const base::Clock& clock_;
  ControllableClock* controllable_clock_ = nullptr;
  InstanceRegistry registry_;
  Poco::Event stopping_{Poco::Event::EVENT_MANUALRESET};
  std::unique_ptr<WebhookSender> webhooks_;
  QrWebsocketSessions websockets_;
  std::unique_ptr<EmulatorContext> context_;
  std::unique_ptr<http::EventServer> server_;
  std::atomic<bool> ready_{false};  // context_ is complete (the port is known)
  std::thread ticker_;
  int port_ = 0;
  bool running_ = false;
};

}  // namespace greenfleet::emulator
