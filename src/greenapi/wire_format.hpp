#pragma once
// Pure functions of the Green API wire format: URL building, status classification, response
// parsing and secret scrubbing. No sockets, no state; thread-safe. Client composes them, unit
// tests call them directly.

#include <cstdint>
#include <string>
#include <string_view>

#include "greenapi/call_outcome.hpp"

namespace greenfleet::greenapi {

// {apiUrl}/waInstance{idInstance}/{method}/{apiTokenInstance}; a trailing '/' on apiUrl is dropped.
std::string buildMethodUrl(std::string_view api_url, std::int64_t id_instance,
                           std::string_view method, std::string_view token);
// The same URL written into `out` (cleared first; the engine reuses one buffer per transfer).
void writeMethodUrl(std::string& out, std::string_view api_url, std::int64_t id_instance,
                    std::string_view method, std::string_view token);

// The outcome kind for an HTTP status (2xx → ok).
OutcomeKind classifyStatus(int http_status);

// Replaces every occurrence of `token`, the token segment of any /waInstance{id}/{method}/{token}
// path, and any run of 50 hex digits with "***"; then cuts the text to max_len characters.
std::string scrubSecrets(std::string_view text, std::string_view token, std::size_t max_len = 300);

// The human-readable part of an error body: the JSON "message" (or "description") field when the
// body is such an object, else the raw text. Not yet scrubbed.
std::string errorTextOf(std::string_view body);

// Each parser fills `out` from a 2xx body and returns an empty string, or returns why the body is
// malformed (that text never contains the body itself).
std::string parseState(std::string_view body, StateResult& out);
std::string parseQr(std::string_view body, QrResult& out);
std::string parseLogout(std::string_view body, LogoutResult& out);
std::string parseReboot(std::string_view body, RebootResult& out);
std::string parseWaSettings(std::string_view body, WaSettings& out);

}  // namespace greenfleet::greenapi
