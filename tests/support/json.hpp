#pragma once
// JSON reading for tests: parse a body and walk it without ceremony.

#include <sstream>
#include <string>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

namespace greenfleet::testing {

inline Poco::JSON::Object::Ptr parseObject(const std::string& text) {
  Poco::JSON::Parser parser;
  return parser.parse(text).extract<Poco::JSON::Object::Ptr>();
}

inline Poco::JSON::Array::Ptr parseArray(const std::string& text) {
  Poco::JSON::Parser parser;
  return parser.parse(text).extract<Poco::JSON::Array::Ptr>();
}

// A parsed object back as text, for CAPTURE in failing assertions.
inline std::string toJsonForCapture(const Poco::JSON::Object::Ptr& object) {
  std::ostringstream out;
  object->stringify(out);
  return out.str();
}

// The "error.code" of an error body, or "" when the body is not one.
inline std::string errorCode(const std::string& body) {
  try {
    return parseObject(body)->getObject("error")->getValue<std::string>("code");
  } catch (...) {
    return "";
  }
}

inline std::string errorField(const std::string& body) {
  try {
    const auto e = parseObject(body)->getObject("error");
    return e->isNull("field") ? std::string() : e->getValue<std::string>("field");
  } catch (...) {
    return "";
  }
}

}  // namespace greenfleet::testing
