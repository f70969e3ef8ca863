#pragma once
// The emulator's control API under /_emulator/ (JSON): list and add instances, scan a QR, force a
// state, set faults globally or per instance, read and reset counters. Tests and demos drive the
// emulator through it; routes and shapes are listed in docs/EMULATOR.md. Thread-safe.

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "emulator/http_io.hpp"

namespace greenfleet::emulator {

void handleControl(EmulatorContext& ctx, Poco::Net::HTTPServerRequest& request,
                   Poco::Net::HTTPServerResponse& response, const std::string& path);

// The control API's view of one instance (also used for the startup summary).
Poco::JSON::Object::Ptr instanceJson(const EmulatorContext& ctx, EmulatedInstance& inst,
                                     fleet::SteadyTime now, bool with_counters);
Poco::JSON::Object::Ptr countersJson(const std::map<std::string, MethodCounters>& counters);

}  // namespace greenfleet::emulator
