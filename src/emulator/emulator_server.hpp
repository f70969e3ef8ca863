#pragma once
// EmulatorServer: the running `greenfleet emulate` — a Poco HTTPServer serving the Green API wire
// format, the scanqrcode websocket, the partner API and the /_emulator control API over one
// InstanceRegistry; plus the webhook sender and, when webhooks are on, a ticker that advances
// timed transitions without waiting for a request. Owns all of them. start()/stop() from one
// thread; handlers run on the server's thread pool.

#include <atomic>
#include <memory>
#include <thread>

#include <Poco/Event.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/ThreadPool.h>

#include "emulator/emulator_options.hpp"
#include "emulator/http_io.hpp"
#include "emulator/instance_registry.hpp"
#include "emulator/webhook_sender.hpp"
#include "fleet/clock.hpp"

namespace greenfleet::emulator {

class EmulatorServer {
 public:
  EmulatorServer(EmulatorOptions options, const fleet::Clock& clock);
  ~EmulatorServer();
  EmulatorServer(const EmulatorServer&) = delete;
  EmulatorServer& operator=(const EmulatorServer&) = delete;

  InstanceRegistry& registry() { return registry_; }
  // Binds host:port (port 0 picks a free one) and starts serving.
  void start();
  void stop();
  int port() const { return port_; }
  std::string baseUrl() const;

 private:
  EmulatorOptions options_;
  const fleet::Clock& clock_;
  InstanceRegistry registry_;
  Poco::Event stopping_{Poco::Event::EVENT_MANUALRESET};
  std::unique_ptr<WebhookSender> webhooks_;
  std::unique_ptr<EmulatorContext> context_;
  std::unique_ptr<Poco::ThreadPool> pool_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
  std::thread ticker_;
  int port_ = 0;
  bool running_ = false;
};

}  // namespace greenfleet::emulator
