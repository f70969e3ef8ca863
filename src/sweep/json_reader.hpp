#pragma once
// JsonReader: strict, path-aware access to one parsed JSON object of a server answer. Poco::JSON
// converts silently (a "42" string reads as 42) and optValue hides absent fields; every getter
// here checks presence and type and throws MalformedAnswer naming the full path. Wraps a
// non-owning view of the object's Ptr; not thread-safe (like the object it reads).

#include <cstdint>
#include <optional>
#include <string>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

namespace greenfleet::sweep {

class JsonReader {
 public:
  // Throws MalformedAnswer when `object` is null (the value at `path` was not an object).
  JsonReader(Poco::JSON::Object::Ptr object, std::string path);

  std::string string(const std::string& key) const;
  std::optional<std::string> optString(const std::string& key) const;  // absent or null → nullopt
  std::int64_t integer(const std::string& key) const;
  std::optional<double> optNumber(const std::string& key) const;
  bool isNull(const std::string& key) const;  // absent or null
  JsonReader object(const std::string& key) const;
  Poco::JSON::Array::Ptr array(const std::string& key) const;
  const Poco::JSON::Object::Ptr& raw() const { return object_; }
  std::string pathOf(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
  }

  // Element `index` of `array` (found at `path`) as a reader; throws when it is not an object.
  static JsonReader element(const Poco::JSON::Array::Ptr& array, std::size_t index,
                            const std::string& path);
  // Parses text that must be one JSON object; throws MalformedAnswer("", ...) otherwise.
  static Poco::JSON::Object::Ptr parseObject(const std::string& text);

 private:
  Poco::Dynamic::Var required(const std::string& key) const;

  Poco::JSON::Object::Ptr object_;
  std::string path_;
};

}  // namespace greenfleet::sweep
