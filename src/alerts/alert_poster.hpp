#pragma once
// One blocking HTTP POST of a JSON body (libcurl easy; the alert dispatcher has its own thread).
// No redirects, http(s) only; the answer's body is read and dropped.

#include <chrono>
#include <string>

namespace greenfleet::alerts {

struct PostResult {
  bool ok = false;    // a 2xx answer
  int status = 0;     // 0 when no answer arrived
  std::string error;  // "HTTP 503", "timeout", "couldn't connect to server", ... ("" when ok)
};

PostResult postJson(const std::string& url, const std::string& body,
                    std::chrono::milliseconds timeout);

}  // namespace greenfleet::alerts
