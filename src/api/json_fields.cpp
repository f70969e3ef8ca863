#include "api/json_fields.hpp"

#include <charconv>
#include <set>

#include <limits>

#include <Poco/JSON/JSONException.h>
#include <Poco/JSON/ParseHandler.h>
#include <Poco/JSON/Parser.h>
#include <fmt/format.h>

#include "api/api_error.hpp"
#include "api/utf8_text.hpp"

namespace greenfleet::api {

namespace {
std::string typeName(const Poco::Dynamic::Var& v) {
  if (v.isEmpty()) return "null";
  if (v.isString()) return "string";
  if (v.type() == typeid(bool)) return "boolean";
  if (v.isNumeric()) return "number";
  if (v.type() == typeid(Poco::JSON::Object::Ptr)) return "object";
  if (v.type() == typeid(Poco::JSON::Array::Ptr)) return "array";
  return "value";
}

ApiError wrongType(const std::string& field, const char* expected, const Poco::Dynamic::Var& got) {
  return ApiError::badRequest(
      "invalid_type", fmt::format("{} must be {}, got {}", field, expected, typeName(got)), field);
}
}  // namespace

namespace {
// Poco's default handler with one rule more: a key may appear once per object.
class StrictParseHandler final : public Poco::JSON::ParseHandler {
 public:
  void startObject() override {
    keys_.emplace_back();
    ParseHandler::startObject();
  }
  void endObject() override {
    keys_.pop_back();
    ParseHandler::endObject();
  }
  void key(const std::string& k) override {
    if (!keys_.empty() && !keys_.back().insert(k).second) {
      throw ApiError::badRequest("duplicate_key", fmt::format("key '{}' appears twice", k), k);
    }
    ParseHandler::key(k);
  }

 private:
  std::vector<std::set<std::string>> keys_;
};

}  // namespace

// Poco converts integer literals modulo 2^64 (18446744073709551617 becomes 1): find any literal
// outside the signed 64-bit range before it gets there. Names the key it belongs to.
void rejectOutOfRangeIntegers(const std::string& body) {
  bool in_string = false;
  std::string_view last_string, last_key;  // views into body: no copy per string
  std::size_t string_start = 0;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
        last_string = std::string_view(body).substr(string_start, i - string_start);
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      string_start = i + 1;
    } else if (c == ':') {
      last_key = last_string;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      std::size_t end = i + (c == '-' ? 1 : 0);
      while (end < body.size() && body[end] >= '0' && body[end] <= '9') ++end;
      const bool integer =
          end == body.size() || (body[end] != '.' && body[end] != 'e' && body[end] != 'E');
      std::int64_t value = 0;
      const auto parsed = std::from_chars(body.data() + i, body.data() + end, value);
      if (integer && parsed.ec == std::errc::result_out_of_range) {
        throw ApiError::unprocessable(fmt::format("{} is out of range for a 64-bit integer",
                                                  last_key.empty() ? "a number" : last_key),
                                      std::string(last_key));
      }
      i = end - 1;  // past the literal (end > i: it holds at least the sign or a digit)
    }
  }
}

Poco::Dynamic::Var parseJsonBody(const std::string& body) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) {
    throw ApiError::badRequest("malformed_json", "request body is empty; expected JSON");
  }
  if (!isValidUtf8(body)) {
    throw ApiError::badRequest("malformed_json", "request body is not valid UTF-8");
  }
  rejectOutOfRangeIntegers(body);
  try {
    Poco::JSON::Parser parser(new StrictParseHandler);
    return parser.parse(body);
  } catch (const Poco::Exception& e) {
    throw ApiError::badRequest("malformed_json", "request body is not valid JSON: " + e.message());
  }
}

void requireMaxLength(std::string_view value, std::size_t max_bytes, const std::string& field) {
  if (value.size() > max_bytes) {
    throw ApiError::unprocessable(fmt::format("{} must be at most {} bytes", field, max_bytes),
                                  field);
  }
}

JsonFields::JsonFields(const Poco::Dynamic::Var& value, std::string prefix)
    : prefix_(std::move(prefix)) {
  if (value.type() != typeid(Poco::JSON::Object::Ptr)) {
    const std::string where =
        prefix_.empty() ? "request body" : prefix_.substr(0, prefix_.size() - 1);
    throw ApiError::badRequest(
        "invalid_type", fmt::format("{} must be a JSON object, got {}", where, typeName(value)),
        prefix_.empty() ? std::nullopt : std::optional<std::string>(where));
  }
  object_ = value.extract<Poco::JSON::Object::Ptr>();
}

bool JsonFields::has(const std::string& name) const { return object_->has(name); }

std::optional<Poco::Dynamic::Var> JsonFields::find(const std::string& name) {
  read_.insert(name);
  if (!object_->has(name)) return std::nullopt;
  return object_->get(name);
}

std::optional<std::int64_t> JsonFields::optInt64(const std::string& name) {
  const auto v = find(name);
  if (!v || v->isEmpty()) return std::nullopt;
  const auto& t = v->type();
  if (t == typeid(int) || t == typeid(Poco::Int64) || t == typeid(long) || t == typeid(long long)) {
    return v->convert<Poco::Int64>();
  }
  if (t == typeid(unsigned) || t == typeid(Poco::UInt64) || t == typeid(unsigned long) ||
      t == typeid(unsigned long long)) {
    const auto u = v->convert<Poco::UInt64>();
    if (u > static_cast<Poco::UInt64>(std::numeric_limits<std::int64_t>::max())) {
      throw ApiError::unprocessable(fieldName(name) + " is out of range for a 64-bit integer",
                                    fieldName(name));
    }
    return static_cast<std::int64_t>(u);
  }
  throw wrongType(fieldName(name), "an integer", *v);
}

std::optional<std::string> JsonFields::optString(const std::string& name) {
  const auto v = find(name);
  if (!v || v->isEmpty()) return std::nullopt;
  if (!v->isString()) throw wrongType(fieldName(name), "a string", *v);
  return v->extract<std::string>();
}

std::optional<std::string> JsonFields::optString(const std::string& name, std::size_t max_bytes) {
  auto s = optString(name);
  if (s) requireMaxLength(*s, max_bytes, fieldName(name));
  return s;
}

std::optional<bool> JsonFields::optBool(const std::string& name) {
  const auto v = find(name);
  if (!v || v->isEmpty()) return std::nullopt;
  if (v->type() != typeid(bool)) throw wrongType(fieldName(name), "true or false", *v);
  return v->extract<bool>();
}

std::optional<std::vector<std::string>> JsonFields::optStringArray(const std::string& name) {
  const auto v = find(name);
  if (!v || v->isEmpty()) return std::nullopt;
  if (v->type() != typeid(Poco::JSON::Array::Ptr)) {
    throw wrongType(fieldName(name), "an array of strings", *v);
  }
  const auto arr = v->extract<Poco::JSON::Array::Ptr>();
  std::vector<std::string> out;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const auto item = arr->get(static_cast<unsigned>(i));
    if (!item.isString()) {
      throw wrongType(fmt::format("{}[{}]", fieldName(name), i), "a string", item);
    }
    out.push_back(item.extract<std::string>());
  }
  return out;
}

std::optional<std::vector<std::int64_t>> JsonFields::optInt64Array(const std::string& name) {
  const auto v = find(name);
  if (!v || v->isEmpty()) return std::nullopt;
  if (v->type() != typeid(Poco::JSON::Array::Ptr)) {
    throw wrongType(fieldName(name), "an array of integers", *v);
  }
  const auto arr = v->extract<Poco::JSON::Array::Ptr>();
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const auto item = arr->get(static_cast<unsigned>(i));
    const std::string field = fmt::format("{}[{}]", fieldName(name), i);
    if (!item.isInteger() || item.isBoolean()) throw wrongType(field, "an integer", item);
    if (!item.isSigned() &&
        item.convert<Poco::UInt64>() >
            static_cast<Poco::UInt64>(std::numeric_limits<std::int64_t>::max())) {
      throw ApiError::unprocessable(field + " is out of range for a 64-bit integer", field);
    }
    if (item.convert<Poco::Int64>() <= 0) {
      throw ApiError::unprocessable(field + " must be a positive integer", field);
    }
    out.push_back(item.convert<Poco::Int64>());
  }
  return out;
}

void JsonFields::finish() const {
  for (const auto& name : object_->getNames()) {
    if (read_.count(name) == 0) {
      throw ApiError::badRequest("unknown_field", fmt::format("unknown field {}", fieldName(name)),
                                 fieldName(name));
    }
  }
}

}  // namespace greenfleet::api
