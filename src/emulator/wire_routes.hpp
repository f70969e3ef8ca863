#pragma once
// The Green API wire surface of the emulator: /waInstance{id}/{method}/{token} (HTTP methods and
// the scanqrcode websocket) and /partner/{method}/{partnerToken}. Auth, rate windows, fault
// injection and the per-method answers live here. Called from any server thread; all shared state
// is reached through InstanceRegistry.

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "emulator/http_io.hpp"

namespace greenfleet::emulator {

void handleInstanceMethod(EmulatorContext& ctx, Poco::Net::HTTPServerRequest& request,
                          Poco::Net::HTTPServerResponse& response, const std::string& path);
void handlePartnerMethod(EmulatorContext& ctx, Poco::Net::HTTPServerRequest& request,
                         Poco::Net::HTTPServerResponse& response, const std::string& path);

}  // namespace greenfleet::emulator
