#pragma once
// The emulator's control API under /_emulator/ (JSON): list and add instances, scan a QR, force a
// state, set faults globally or per instance, read and reset counters, move a controllable clock.
// Tests and demos drive the emulator through it; routes and shapes are listed in
// docs/EMULATOR.md. Thread-safe.

#include "emulator/http_io.hpp"
#include "http/message.hpp"

namespace greenfleet::emulator {

// The answer to a request under /_emulator (request.body is complete).
http::Response handleControl(EmulatorContext& ctx, const http::Request& request,
                             const std::string& path);

}  // namespace greenfleet::emulator
