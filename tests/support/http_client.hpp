#pragma once
// Minimal blocking HTTP client for tests, over Poco on loopback. Never throws on HTTP status;
// throws on transport failure.

#include <map>
#include <string>

namespace greenfleet::testing {

struct HttpResponse {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string header(const std::string& name) const;
};

struct HttpRequest {
  std::string method = "GET";
  std::string path = "/";
  std::string body;
  std::map<std::string, std::string> headers;
};

class HttpClient {
 public:
  HttpClient(std::string host, int port) : host_(std::move(host)), port_(port) {}
  HttpResponse send(const HttpRequest& request) const;
  HttpResponse get(const std::string& path, const std::string& bearer = {}) const;
  HttpResponse post(const std::string& path, const std::string& json,
                    const std::string& bearer = {}) const;
  HttpResponse patch(const std::string& path, const std::string& json,
                     const std::string& bearer = {}) const;
  HttpResponse del(const std::string& path, const std::string& bearer = {}) const;
  int port() const { return port_; }

 private:
  std::string host_;
  int port_;
};

}  // namespace greenfleet::testing
