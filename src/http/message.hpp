#pragma once
// Request / Response: one HTTP exchange as the event-driven front hands it to a handler and takes
// it back. The head is parsed by Poco (HTTPRequest::read), the body is complete and bounded by
// the server's limits before a handler sees it. Plain values; no I/O, no threads.

#include <any>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <Poco/Net/NameValueCollection.h>

namespace greenfleet::http {

struct Request {
  std::string method;
  std::string uri;                         // as sent: path and query, percent-encoded
  std::string version;                     // "HTTP/1.1"
  Poco::Net::NameValueCollection headers;  // case-insensitive names
  std::string body;
  std::string peer;          // client address, without the port
  std::size_t listener = 0;  // index into ServerOptions::listeners
  bool keep_alive = true;    // what the client asked for (HTTP/1.0 rules included)
  // Whatever Handler::admit worked out from the head (route, caller), carried to handle().
  std::any context;

  // The header's value, or "" when absent.
  const std::string& header(const std::string& name) const;
  bool isHead() const { return method == "HEAD"; }
};

struct Response {
  int status = 200;
  std::string reason;  // empty: the standard phrase for `status`
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Bytes shared with other responses, sent instead of `body` when set (saves a copy).
  std::shared_ptr<const std::string> shared_body;
  bool close = false;  // close the connection once written

  static Response text(int status, std::string content_type, std::string body);
  bool has(std::string_view name) const;
  const std::string& payload() const { return shared_body ? *shared_body : body; }
};

// The standard reason phrase for a status code ("Too Many Requests"); "Unknown" when none.
std::string_view reasonPhrase(int status);

}  // namespace greenfleet::http
