#pragma once
// Config: every setting greenfleet has, resolved from three layers — the properties file
// (etc/greenfleet.properties), GREENFLEET_<KEY> environment variables (http.port →
// GREENFLEET_HTTP_PORT), then command-line overrides — over built-in defaults. The table in
// config.cpp is the single list of keys; an unknown key in the file is an error (typos must
// not pass silently). Immutable after load; thread-safe to read.

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace greenfleet::config {

struct ConfigKey {
  std::string_view key;
  std::string_view default_value;
  std::string_view help;
};

// All keys with their defaults, in the order etc/greenfleet.properties lists them.
const std::vector<ConfigKey>& configKeys();
// "http.port" → "GREENFLEET_HTTP_PORT".
std::string envVarFor(std::string_view key);

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Config {
 public:
  // `file` may be empty (defaults only); `env` is usually the process environment.
  static Config load(const std::string& file, const std::map<std::string, std::string>& env,
                     const std::map<std::string, std::string>& overrides);
  static std::map<std::string, std::string> processEnvironment();

  std::string getString(std::string_view key) const;
  std::int64_t getInt(std::string_view key, std::int64_t min, std::int64_t max) const;
  double getDouble(std::string_view key, double min, double max) const;
  bool getBool(std::string_view key) const;
  // Where each value came from, for `serve` start-up logs: default|file|env|flag.
  std::string sourceOf(std::string_view key) const;

 private:
  std::map<std::string, std::string, std::less<>> values_;
  std::map<std::string, std::string, std::less<>> sources_;
};

}  // namespace greenfleet::config
