#include "app/flags.hpp"

#include <charconv>
#include <iostream>

#include <fmt/format.h>

namespace greenfleet::app {

Flags::Flags(std::string command, std::string summary)
    : command_(std::move(command)), summary_(std::move(summary)) {}

Flags& Flags::option(std::string name, std::string value_name, std::string help,
                     std::optional<std::string> default_value) {
  specs_.push_back(
      {std::move(name), std::move(value_name), std::move(help), std::move(default_value), false});
  return *this;
}

Flags& Flags::toggle(std::string name, std::string help) {
  specs_.push_back({std::move(name), "", std::move(help), std::nullopt, true});
  return *this;
}

Flags& Flags::positional(std::string name, std::string help, bool required) {
  positional_specs_.push_back({std::move(name), std::move(help), required});
  return *this;
}

const Flags::Spec* Flags::find(const std::string& name) const {
  for (const auto& s : specs_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

bool Flags::parse(const std::vector<std::string>& args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << usage();
      return false;
    }
    if (arg.rfind("--", 0) != 0 || arg.size() == 2) {
      if (positional_values_.size() >= positional_specs_.size()) {
        throw UsageError(fmt::format("unexpected argument '{}'", arg));
      }
      positional_values_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const Spec* spec = find(name);
    if (spec == nullptr) throw UsageError(fmt::format("unknown flag --{}", name));
    if (spec->is_toggle) {
      if (value) throw UsageError(fmt::format("flag --{} takes no value", name));
      values_[name] = "true";
      continue;
    }
    if (!value) {
      if (i + 1 >= args.size()) throw UsageError(fmt::format("flag --{} needs a value", name));
      value = args[++i];
    }
    values_[name] = *value;
  }
  for (std::size_t i = positional_values_.size(); i < positional_specs_.size(); ++i) {
    if (positional_specs_[i].required) {
      throw UsageError(fmt::format("missing argument <{}>", positional_specs_[i].name));
    }
  }
  return true;
}

std::optional<std::string> Flags::get(const std::string& name) const {
  if (const auto it = values_.find(name); it != values_.end()) return it->second;
  if (const Spec* s = find(name); s != nullptr) return s->default_value;
  return std::nullopt;
}

std::string Flags::getOr(const std::string& name, const std::string& fallback) const {
  return get(name).value_or(fallback);
}

bool Flags::isSet(const std::string& name) const { return values_.count(name) != 0; }

std::optional<long long> Flags::getInt(const std::string& name, long long min,
                                       long long max) const {
  const auto text = get(name);
  if (!text) return std::nullopt;
  long long v = 0;
  const auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || ptr != text->data() + text->size() || v < min || v > max) {
    throw UsageError(
        fmt::format("flag --{} must be an integer in [{}, {}], got '{}'", name, min, max, *text));
  }
  return v;
}

std::string Flags::usage() const {
  std::string out = fmt::format("usage: greenfleet {}", command_);
  if (!specs_.empty()) out += " [flags]";
  for (const auto& p : positional_specs_) {
    out += p.required ? fmt::format(" <{}>", p.name) : fmt::format(" [{}]", p.name);
  }
  out += fmt::format("\n\n{}\n", summary_);
  if (!positional_specs_.empty()) {
    out += "\narguments:\n";
    for (const auto& p : positional_specs_) out += fmt::format("  {:<24} {}\n", p.name, p.help);
  }
  out += "\nflags:\n";
  for (const auto& s : specs_) {
    const std::string left =
        s.is_toggle ? "--" + s.name : fmt::format("--{} {}", s.name, s.value_name);
    std::string help = s.help;
    if (s.default_value) help += fmt::format(" (default: {})", *s.default_value);
    out += fmt::format("  {:<24} {}\n", left, help);
  }
  out += fmt::format("  {:<24} {}\n", "--help", "show this help");
  return out;
}

}  // namespace greenfleet::app
