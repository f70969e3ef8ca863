#pragma once
// Small request/response helpers shared by the emulator's wire and control routes: JSON answers
// as http::Response values, strict JSON body reading, and the routing context every handler
// gets. Stateless functions; thread-safe.

#include <string>
#include <string_view>

#include <Poco/Event.h>
#include <Poco/JSON/Object.h>

#include "emulator/emulator_options.hpp"
#include "emulator/instance_registry.hpp"
#include "http/message.hpp"

namespace greenfleet::emulator {

class WebhookSender;
class QrWebsocketSessions;
class ControllableClock;

// What every handler needs, owned by EmulatorServer and outliving the HTTP server.
struct EmulatorContext {
  InstanceRegistry& registry;
  const EmulatorOptions& options;
  Poco::Event& stopping;            // set when the server stops: websockets end early
  WebhookSender* webhooks;          // null when no --webhook-url
  QrWebsocketSessions& websockets;  // scanqrcode sessions, each on its own thread
  std::string baseUrl;              // http://host:port, for apiUrl in the control API
  ControllableClock* clock;         // null unless --controllable-clock (tests)
};

http::Response jsonResponse(int status, std::string json);
http::Response jsonResponse(int status, const Poco::JSON::Object::Ptr& json);
std::string stringify(const Poco::Dynamic::Var& json);
// {"error": message}
std::string errorBody(std::string_view message);
http::Response errorResponse(int status, std::string_view message);

// Reads a request body as a JSON object; an empty body is an empty object. Throws
// std::invalid_argument with a client-facing message on anything else.
Poco::JSON::Object::Ptr readJsonObject(const std::string& body);

}  // namespace greenfleet::emulator
