#pragma once
// The Green API wire surface of the emulator: /waInstance{id}/{method}/{token} (HTTP methods and
// the scanqrcode websocket) and /partner/{method}/{partnerToken}. Auth, rate windows, fault
// injection and the per-method answers live here. Called on the event loop or a worker; all
// shared state is reached through InstanceRegistry.

#include <string>

#include "emulator/http_io.hpp"
#include "http/exchange.hpp"
#include "http/message.hpp"

namespace greenfleet::emulator {

// Whether a request to `path` may block for milliseconds (a QR PNG to render, the whole fleet to
// list) and so must not run on the event loop.
bool runsOnWorker(const std::string& path);

// Answers through `exchange`: at once, after the injected latency, with a reset, or by handing
// the socket to a scanqrcode websocket session.
void handleInstanceMethod(EmulatorContext& ctx, const http::Request& request,
                          const http::Exchange& exchange, const std::string& path);
http::Response handlePartnerMethod(EmulatorContext& ctx, const http::Request& request,
                                   const std::string& path);

}  // namespace greenfleet::emulator
