#pragma once
// Log: a thin, compile-time-checked facade over Poco::Logger, one named logger per module
// (Log kLog{"scheduler"}). Lines are key=value text. Never pass a token: use tokenHint().
// Thread-safe (Poco loggers are).

#include <algorithm>
#include <string>
#include <string_view>

#include <Poco/Logger.h>
#include <fmt/format.h>

namespace greenfleet::base {

class Log {
 public:
  explicit Log(const char* name) : name_(name) {}

  template <typename... Args>
  void info(fmt::format_string<Args...> f, Args&&... args) const {
    emit(Poco::Message::PRIO_INFORMATION, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void warn(fmt::format_string<Args...> f, Args&&... args) const {
    emit(Poco::Message::PRIO_WARNING, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void error(fmt::format_string<Args...> f, Args&&... args) const {
    emit(Poco::Message::PRIO_ERROR, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void debug(fmt::format_string<Args...> f, Args&&... args) const {
    if (logger().debug())
      emit(Poco::Message::PRIO_DEBUG, fmt::format(f, std::forward<Args>(args)...));
  }

 private:
  Poco::Logger& logger() const { return Poco::Logger::get(name_); }
  void emit(Poco::Message::Priority prio, std::string text) const {
    Poco::Logger& l = logger();
    if (l.is(prio)) l.log(Poco::Message(name_, escapeControl(std::move(text)), prio));
  }
  // A value from outside (a path with %0a) must not start a forged line: control characters
  // become \xNN.
  static std::string escapeControl(std::string text) {
    const auto control = [](unsigned char c) { return c < 0x20 || c == 0x7f; };
    if (std::none_of(text.begin(), text.end(), control)) return text;
    std::string out;
    out.reserve(text.size() + 16);
    for (const unsigned char c : text) {
      if (control(c)) {
        out += fmt::format("\\x{:02x}", c);
      } else {
        out.push_back(static_cast<char>(c));
      }
    }
    return out;
  }
  const char* name_;
};

// The masked form of a secret shown anywhere a token would be: "…" + its last 4 characters.
inline std::string tokenHint(std::string_view token) {
  if (token.size() <= 4) return "\u2026";
  return "\u2026" + std::string(token.substr(token.size() - 4));
}

}  // namespace greenfleet::base
