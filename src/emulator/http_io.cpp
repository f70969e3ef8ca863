#include "emulator/http_io.hpp"

#include <sstream>
#include <stdexcept>

#include <Poco/JSON/Parser.h>

namespace greenfleet::emulator {

http::Response jsonResponse(int status, std::string json) {
  return http::Response::text(status, "application/json", std::move(json));
}

std::string stringify(const Poco::Dynamic::Var& json) {
  std::ostringstream s;
  Poco::JSON::Stringifier::stringify(json, s);
  return s.str();
}

http::Response jsonResponse(int status, const Poco::JSON::Object::Ptr& json) {
  return jsonResponse(status, stringify(json));
}

std::string errorBody(std::string_view message) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("error", std::string(message));
  return stringify(o);
}

http::Response errorResponse(int status, std::string_view message) {
  return jsonResponse(status, errorBody(message));
}

Poco::JSON::Object::Ptr readJsonObject(const std::string& body) {
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
