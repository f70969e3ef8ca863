#pragma once
// The emulator's control API under /_emulator/ (JSON): list and add instances, scan a QR, force a
// state, set faults globally or per instance, read and reset counters. Tests and demos drive the
// emulator through it; routes and shapes are listed in docs/EMULATOR.md. Thread-safe.

#include "emulator/http_io.hpp"
#include "http/message.hpp"

namespace greenfleet::emulator {

// The answer to a request under /_emulator (request.body is complete).
http::Response handleControl(EmulatorContext& ctx, const http::Request& request,
                             const std::string& path);

// The control API's view of one instance (also used for the startup summary).
Poco::JSON::Object::Ptr instanceJson(const EmulatorContext& ctx, EmulatedInstance& inst,
                                     fleet::SteadyTime now, bool with_counters);
Poco::JSON::Object::Ptr countersJson(const std::map<std::string, MethodCounters>& counters);

}  // namespace greenfleet::emulator
