#include "emulator/http_io.hpp"

#include <sstream>
#include <stdexcept>

#include <Poco/JSON/Parser.h>
#include <Poco/StreamCopier.h>

namespace greenfleet::emulator {

void sendBody(Poco::Net::HTTPServerResponse& response, int status, std::string_view content_type,
              std::string_view body) {
  response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
  if (status == 466) response.setReason("Unknown");
  response.setContentType(std::string(content_type));
  response.setContentLength(static_cast<std::streamsize>(body.size()));
  response.sendBuffer(body.data(), body.size());
}

void sendJson(Poco::Net::HTTPServerResponse& response, int status, std::string_view json) {
  sendBody(response, status, "application/json", json);
}

std::string stringify(const Poco::Dynamic::Var& json) {
  std::ostringstream s;
  Poco::JSON::Stringifier::stringify(json, s);
  return s.str();
}

void sendJson(Poco::Net::HTTPServerResponse& response, int status,
              const Poco::JSON::Object::Ptr& json) {
  sendJson(response, status, stringify(json));
}

void sendError(Poco::Net::HTTPServerResponse& response, int status, std::string_view message) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("error", std::string(message));
  sendJson(response, status, o);
}

Poco::JSON::Object::Ptr readJsonObject(Poco::Net::HTTPServerRequest& request) {
  std::string body;
  Poco::StreamCopier::copyToString(request.stream(), body, 8192);
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return new Poco::JSON::Object;
  Poco::Dynamic::Var v;
  try {
    Poco::JSON::Parser parser;
    v = parser.parse(body);
  } catch (const Poco::Exception&) {
    throw std::invalid_argument("body is not valid JSON");
  }
  if (v.type() != typeid(Poco::JSON::Object::Ptr)) {
    throw std::invalid_argument("body must be a JSON object");
  }
  return v.extract<Poco::JSON::Object::Ptr>();
}

}  // namespace greenfleet::emulator
