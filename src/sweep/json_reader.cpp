#include "sweep/json_reader.hpp"

#include <Poco/JSON/Parser.h>

#include "sweep/malformed_answer.hpp"

namespace greenfleet::sweep {

JsonReader::JsonReader(Poco::JSON::Object::Ptr object, std::string path)
    : object_(std::move(object)), path_(std::move(path)) {
  if (object_.isNull()) throw MalformedAnswer(path_.empty() ? "(body)" : path_, "not an object");
}

Poco::Dynamic::Var JsonReader::required(const std::string& key) const {
  if (!object_->has(key)) throw MalformedAnswer(pathOf(key), "missing");
  return object_->get(key);
}

bool JsonReader::isNull(const std::string& key) const { return object_->isNull(key); }

std::string JsonReader::string(const std::string& key) const {
  const auto v = required(key);
  if (!v.isString()) throw MalformedAnswer(pathOf(key), "not a string");
  return v.extract<std::string>();
}

std::optional<std::string> JsonReader::optString(const std::string& key) const {
  if (isNull(key)) return std::nullopt;
  return string(key);
}

std::int64_t JsonReader::integer(const std::string& key) const {
  const auto v = required(key);
  if (!v.isInteger() || v.isBoolean()) throw MalformedAnswer(pathOf(key), "not an integer");
  return v.convert<Poco::Int64>();
}

std::optional<double> JsonReader::optNumber(const std::string& key) const {
  if (isNull(key)) return std::nullopt;
  const auto v = required(key);
  if (!v.isNumeric() || v.isBoolean()) throw MalformedAnswer(pathOf(key), "not a number");
  return v.convert<double>();
}

JsonReader JsonReader::object(const std::string& key) const {
  const auto v = required(key);
  if (v.type() != typeid(Poco::JSON::Object::Ptr)) {
    throw MalformedAnswer(pathOf(key), "not an object");
  }
  return JsonReader(v.extract<Poco::JSON::Object::Ptr>(), pathOf(key));
}

Poco::JSON::Array::Ptr JsonReader::array(const std::string& key) const {
  const auto v = required(key);
  if (v.type() != typeid(Poco::JSON::Array::Ptr))
    throw MalformedAnswer(pathOf(key), "not an array");
  return v.extract<Poco::JSON::Array::Ptr>();
}

JsonReader JsonReader::element(const Poco::JSON::Array::Ptr& array, std::size_t index,
                               const std::string& path) {
  const std::string where = path + "[" + std::to_string(index) + "]";
  const auto v = array->get(static_cast<unsigned>(index));
  if (v.type() != typeid(Poco::JSON::Object::Ptr)) throw MalformedAnswer(where, "not an object");
  return JsonReader(v.extract<Poco::JSON::Object::Ptr>(), where);
}

Poco::JSON::Object::Ptr JsonReader::parseObject(const std::string& text) {
  Poco::Dynamic::Var parsed;
  try {
    Poco::JSON::Parser parser;
    parsed = parser.parse(text);
  } catch (const Poco::Exception& e) {
    throw MalformedAnswer("(body)", "not JSON: " + e.displayText());
  }
  if (parsed.type() != typeid(Poco::JSON::Object::Ptr)) {
    throw MalformedAnswer("(body)", "not a JSON object");
  }
  return parsed.extract<Poco::JSON::Object::Ptr>();
}

}  // namespace greenfleet::sweep
