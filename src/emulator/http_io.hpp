#pragma once
// Small request/response helpers shared by the emulator's wire and control routes: JSON replies
// with an explicit Content-Length (keep-alive stays possible), strict JSON body reading, and the
// routing context every handler gets. Stateless functions; thread-safe.

#include <string>
#include <string_view>

#include <Poco/Event.h>
#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "emulator/emulator_options.hpp"
#include "emulator/instance_registry.hpp"

namespace greenfleet::emulator {

class WebhookSender;

// What every handler needs, owned by EmulatorServer and outliving the HTTP server.
struct EmulatorContext {
  InstanceRegistry& registry;
  const EmulatorOptions& options;
  Poco::Event& stopping;         // set when the server stops: sleeps and websockets end early
  WebhookSender* webhooks;       // null when no --webhook-url
  std::string baseUrl;           // http://host:port, for apiUrl in the control API
};

void sendBody(Poco::Net::HTTPServerResponse& response, int status, std::string_view content_type,
              std::string_view body);
void sendJson(Poco::Net::HTTPServerResponse& response, int status, std::string_view json);
void sendJson(Poco::Net::HTTPServerResponse& response, int status,
              const Poco::JSON::Object::Ptr& json);
std::string stringify(const Poco::Dynamic::Var& json);
// {"error": message}
void sendError(Poco::Net::HTTPServerResponse& response, int status, std::string_view message);

// Reads the request body as a JSON object; an empty body is an empty object. Throws
// std::invalid_argument with a client-facing message on anything else.
Poco::JSON::Object::Ptr readJsonObject(Poco::Net::HTTPServerRequest& request);

}  // namespace greenfleet::emulator
