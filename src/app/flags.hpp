#pragma once
// Flags: the command-line parser every subcommand uses. Declares flags with help text, parses
// `--name value`, `--name=value` and boolean `--name`, and renders usage. A bad flag is a
// UsageError, which main turns into the usage text and exit code 2.

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace greenfleet::app {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Flags {
 public:
  Flags(std::string command, std::string summary);

  Flags& option(std::string name, std::string value_name, std::string help,
                std::optional<std::string> default_value = std::nullopt);
  Flags& toggle(std::string name, std::string help);
  Flags& positional(std::string name, std::string help, bool required = true);

  // Throws UsageError on unknown flags, missing values, missing positionals. Returns false when
  // --help was given (usage already printed to stdout).
  bool parse(const std::vector<std::string>& args);

  std::optional<std::string> get(const std::string& name) const;
  std::string getOr(const std::string& name, const std::string& fallback) const;
  bool isSet(const std::string& name) const;
  // Integer value of an option; UsageError when it is not an integer within [min, max].
  std::optional<long long> getInt(const std::string& name, long long min, long long max) const;
  const std::vector<std::string>& positionals() const { return positional_values_; }
  std::string usage() const;

 private:
  struct Spec {
    std::string name, value_name, help;
    std::optional<std::string> default_value;
    bool is_toggle = false;
  };
  struct PositionalSpec {
    std::string name, help;
    bool required = true;
  };
  const Spec* find(const std::string& name) const;

  std::string command_, summary_;
  std::vector<Spec> specs_;
  std::vector<PositionalSpec> positional_specs_;
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_values_;
};

}  // namespace greenfleet::app
