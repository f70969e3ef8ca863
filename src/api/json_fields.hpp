#pragma once
// JsonFields: strict reading of one JSON object from a request. Poco::JSON converts silently
// ("42" passes getValue<int>), so each accessor checks presence and type itself and throws
// ApiError naming the field; finish() rejects fields nobody asked for. Field names are
// prefixed (e.g. "[3].token") when reading an item of a batch. Not thread-safe.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Object.h>

namespace greenfleet::api {

// Parses a request body; ApiError 400 malformed_json on syntax errors or bytes that are not
// UTF-8, 400 duplicate_key when an object names a key twice (no silent "last one wins"), 422
// invalid_value for an integer literal beyond the 64-bit signed range (Poco would wrap it).
Poco::Dynamic::Var parseJsonBody(const std::string& body);
// ApiError 422 invalid_value naming `field` when `value` is longer than `max_bytes` (the limits
// of fleet/input_limits.hpp).
void requireMaxLength(std::string_view value, std::size_t max_bytes, const std::string& field);
// The 422 of parseJsonBody for an integer literal beyond the signed 64-bit range, on its own
// (for readers that do not go through parseJsonBody).
void rejectOutOfRangeIntegers(const std::string& body);

class JsonFields {
 public:
  JsonFields(const Poco::Dynamic::Var& value, std::string prefix = {});

  std::optional<std::int64_t> optInt64(const std::string& name);
  std::optional<std::string> optString(const std::string& name);
  // Also 422 when longer than `max_bytes`.
  std::optional<std::string> optString(const std::string& name, std::size_t max_bytes);
  std::optional<bool> optBool(const std::string& name);
  std::optional<std::vector<std::string>> optStringArray(const std::string& name);
  // An array of positive 64-bit integers (ids).
  std::optional<std::vector<std::int64_t>> optInt64Array(const std::string& name);
  bool has(const std::string& name) const;
  // Throws ApiError 400 unknown_field for the first field not read.
  void finish() const;
  std::string fieldName(const std::string& name) const { return prefix_ + name; }

 private:
  std::optional<Poco::Dynamic::Var> find(const std::string& name);
  Poco::JSON::Object::Ptr object_;
  std::string prefix_;
  std::set<std::string> read_;
};

}  // namespace greenfleet::api
