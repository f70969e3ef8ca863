#include "support/http_client.hpp"

#include <algorithm>
#include <sstream>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

namespace greenfleet::testing {

namespace {
std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}
}  // namespace

std::string HttpResponse::header(const std::string& name) const {
  const auto it = headers.find(lower(name));
  return it == headers.end() ? std::string() : it->second;
}

HttpResponse HttpClient::send(const HttpRequest& request) const {
  Poco::Net::HTTPClientSession session(host_, static_cast<Poco::UInt16>(port_));
  session.setTimeout(Poco::Timespan(30, 0));
  Poco::Net::HTTPRequest req(request.method, request.path, Poco::Net::HTTPMessage::HTTP_1_1);
  for (const auto& [k, v] : request.headers) req.set(k, v);
  if (!request.body.empty() || request.method == "POST" || request.method == "PATCH") {
    if (!req.has("Content-Type")) req.setContentType("application/json");
    req.setContentLength(static_cast<std::streamsize>(request.body.size()));
    session.sendRequest(req) << request.body;
  } else {
    session.sendRequest(req);
  }
  Poco::Net::HTTPResponse res;
  std::istream& in = session.receiveResponse(res);
  HttpResponse out;
  out.status = static_cast<int>(res.getStatus());
  std::ostringstream body;
  Poco::StreamCopier::copyStream(in, body);
  out.body = body.str();
  for (const auto& [k, v] : res) out.headers[lower(k)] = v;
  return out;
}

namespace {
HttpRequest make(const std::string& method, const std::string& path, const std::string& body,
                 const std::string& bearer) {
  HttpRequest r;
  r.method = method;
  r.path = path;
  r.body = body;
  if (!bearer.empty()) r.headers["Authorization"] = "Bearer " + bearer;
  return r;
}
}  // namespace

HttpResponse HttpClient::get(const std::string& path, const std::string& bearer) const {
  return send(make("GET", path, "", bearer));
}
HttpResponse HttpClient::post(const std::string& path, const std::string& json,
                              const std::string& bearer) const {
  return send(make("POST", path, json, bearer));
}
HttpResponse HttpClient::patch(const std::string& path, const std::string& json,
                               const std::string& bearer) const {
  return send(make("PATCH", path, json, bearer));
}
HttpResponse HttpClient::del(const std::string& path, const std::string& bearer) const {
  return send(make("DELETE", path, "", bearer));
}

}  // namespace greenfleet::testing
