#include "greenapi/wire_format.hpp"

#include <cctype>
#include <iterator>
#include <optional>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <fmt/format.h>

#include "fleet/input_limits.hpp"

namespace greenfleet::greenapi {

namespace {

constexpr std::string_view kMask = "***";

bool isHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

std::string_view trimView(std::string_view s) {
  std::size_t b = 0;
  std::size_t e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string trim(std::string_view s) { return std::string(trimView(s)); }

// A fixed-shape reader for the one answer every poll gets, {"stateInstance":"authorized"}
// (JSON whitespace anywhere between tokens): the value, or nullopt for any other shape (more
// fields, escapes, control characters, null), which the general parser then reads.
std::optional<std::string_view> plainStateInstance(std::string_view body) {
  std::size_t i = 0;
  const auto skipSpace = [&] {
    while (i < body.size() &&
           (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r')) {
      ++i;
    }
  };
  const auto take = [&](std::string_view token) {
    skipSpace();
    if (body.substr(i, token.size()) != token) return false;
    i += token.size();
    return true;
  };
  if (!take("{") || !take("\"stateInstance\"") || !take(":") || !take("\"")) return std::nullopt;
  const std::size_t start = i;
  while (i < body.size() && body[i] != '"') {
    if (body[i] == '\\' || static_cast<unsigned char>(body[i]) < 0x20) return std::nullopt;
    ++i;
  }
  if (i == body.size()) return std::nullopt;
  const std::string_view value = body.substr(start, i - start);
  ++i;
  if (!take("}")) return std::nullopt;
  skipSpace();
  if (i != body.size()) return std::nullopt;
  return value;
}

// Parses a JSON object; nullptr when the body is not one (never throws).
Poco::JSON::Object::Ptr parseObject(std::string_view body) {
  try {
    Poco::JSON::Parser parser;
    const Poco::Dynamic::Var v = parser.parse(std::string(body));
    if (v.type() == typeid(Poco::JSON::Object::Ptr)) return v.extract<Poco::JSON::Object::Ptr>();
  } catch (...) {
  }
  return nullptr;
}

// A string field, checked for presence and type; Poco would otherwise convert silently.
bool stringField(const Poco::JSON::Object::Ptr& obj, const std::string& name, std::string& out) {
  if (!obj->has(name)) return false;
  const Poco::Dynamic::Var v = obj->get(name);
  if (!v.isString()) return false;
  out = v.extract<std::string>();
  return true;
}

bool boolField(const Poco::JSON::Object::Ptr& obj, const std::string& name, bool& out) {
  if (!obj->has(name)) return false;
  const Poco::Dynamic::Var v = obj->get(name);
  if (!v.isBoolean()) return false;
  out = v.extract<bool>();
  return true;
}

// Optional string fields may be absent or null; present with another type is still accepted as
// empty, since these are informational.
std::string optionalString(const Poco::JSON::Object::Ptr& obj, const std::string& name) {
  std::string out;
  stringField(obj, name, out);
  return out;
}

}  // namespace

std::string buildMethodUrl(std::string_view api_url, std::int64_t id_instance,
                           std::string_view method, std::string_view token) {
  std::string out;
  writeMethodUrl(out, api_url, id_instance, method, token);
  return out;
}

void writeMethodUrl(std::string& out, std::string_view api_url, std::int64_t id_instance,
                    std::string_view method, std::string_view token) {
  while (!api_url.empty() && api_url.back() == '/') api_url.remove_suffix(1);
  // Once per poll: appended into the caller's reused buffer, no formatting pass.
  char id[24];
  const auto id_end = fmt::format_to(id, "{}", id_instance);
  out.clear();
  out.append(api_url).append("/waInstance").append(id, id_end);
  out.append(1, '/').append(method).append(1, '/').append(token);
}

OutcomeKind classifyStatus(int http_status) {
  if (http_status >= 200 && http_status < 300) return OutcomeKind::ok;
  switch (http_status) {
    case 400:
      return OutcomeKind::badRequest;
    case 401:
      return OutcomeKind::unauthorized;
    case 403:
      return OutcomeKind::forbidden;
    case 404:
      return OutcomeKind::notFound;
    case 429:
      return OutcomeKind::rateLimited;
    case 466:
      return OutcomeKind::quotaExceeded;
    default:
      break;
  }
  if (http_status >= 500 && http_status < 600) return OutcomeKind::serverError;
  return OutcomeKind::unexpectedStatus;
}

std::string scrubSecrets(std::string_view text, std::string_view token, std::size_t max_len) {
  std::string s(text);
  if (!token.empty()) {
    for (std::size_t pos = s.find(token); pos != std::string::npos; pos = s.find(token, pos)) {
      s.replace(pos, token.size(), kMask);
      pos += kMask.size();
    }
  }
  // Upstream error bodies echo the request path: /waInstance{id}/{method}/{token}[/...].
  static constexpr std::string_view kPrefix = "waInstance";
  for (std::size_t pos = s.find(kPrefix); pos != std::string::npos;
       pos = s.find(kPrefix, pos + 1)) {
    std::size_t i = pos + kPrefix.size();
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i >= s.size() || s[i] != '/') continue;
    ++i;
    while (i < s.size() && s[i] != '/' && s[i] != '"' && s[i] != '\'' &&
           !std::isspace(static_cast<unsigned char>(s[i])))
      ++i;
    if (i >= s.size() || s[i] != '/') continue;
    const std::size_t start = ++i;
    while (i < s.size() && s[i] != '/' && s[i] != '?' && s[i] != '"' && s[i] != '\'' &&
           !std::isspace(static_cast<unsigned char>(s[i])))
      ++i;
    if (i > start && std::string_view(s).substr(start, i - start) != kMask) {
      s.replace(start, i - start, kMask);
    }
  }
  // Any bare 50-hex run is a token shape, wherever it appears.
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    std::size_t j = i;
    while (j < s.size() && isHex(s[j])) ++j;
    if (j - i >= 50) {
      out += kMask;
      i = j;
    } else if (j > i) {
      out.append(s, i, j - i);
      i = j;
    } else {
      out += s[i++];
    }
  }
  if (out.size() > max_len) {
    out.resize(max_len);
    out += "...";
  }
  return out;
}

std::string errorTextOf(std::string_view body) {
  if (const auto obj = parseObject(body)) {
    std::string text;
    if (stringField(obj, "message", text) || stringField(obj, "description", text)) return text;
  }
  return trim(body);
}

std::string parseState(std::string_view body, StateResult& out) {
  // "If the getStateInstance method response body is null, it means the instance is still being
  // created" (creating-and-configuring-an-instance).
  const std::string_view t = trimView(body);
  if (t == "null" || t.empty()) {
    out.state = std::string(StateResult::kInitializing);
    out.initializing = true;
    return {};
  }
  if (const auto plain = plainStateInstance(t); plain && plain->size() <= fleet::kMaxStateLength) {
    out.state = std::string(*plain);
    out.initializing = false;
    return {};
  }
  const auto obj = parseObject(t);
  if (!obj) return "body is not a JSON object";
  if (obj->has("stateInstance") && obj->get("stateInstance").isEmpty()) {
    out.state = std::string(StateResult::kInitializing);
    out.initializing = true;
    return {};
  }
  if (!stringField(obj, "stateInstance", out.state)) return "stateInstance missing or not a string";
  if (out.state.size() > fleet::kMaxStateLength) return "stateInstance is too long to be a state";
  out.initializing = false;
  return {};
}

std::string parseQr(std::string_view body, QrResult& out) {
  const auto obj = parseObject(body);
  if (!obj) return "body is not a JSON object";
  if (!stringField(obj, "type", out.type)) return "type missing or not a string";
  if (!stringField(obj, "message", out.message)) {
    if (out.type == "qrCode") return "qrCode without a string message";
    out.message.clear();
  }
  return {};
}

std::string parseLogout(std::string_view body, LogoutResult& out) {
  const auto obj = parseObject(body);
  if (!obj) return "body is not a JSON object";
  if (!boolField(obj, "isLogout", out.isLogout)) return "isLogout missing or not a boolean";
  return {};
}

std::string parseReboot(std::string_view body, RebootResult& out) {
  const auto obj = parseObject(body);
  if (!obj) return "body is not a JSON object";
  if (!boolField(obj, "isReboot", out.isReboot)) return "isReboot missing or not a boolean";
  return {};
}

std::string parseWaSettings(std::string_view body, WaSettings& out) {
  const auto obj = parseObject(body);
  if (!obj) return "body is not a JSON object";
  if (!stringField(obj, "stateInstance", out.stateInstance)) {
    return "stateInstance missing or not a string";
  }
  if (out.stateInstance.size() > fleet::kMaxStateLength) {
    return "stateInstance is too long to be a state";
  }
  // Informational: a phone longer than any number is dropped, not stored.
  out.phone = optionalString(obj, "phone");
  if (out.phone.size() > fleet::kMaxPhoneLength) out.phone.clear();
  out.deviceId = optionalString(obj, "deviceId");
  out.avatar = optionalString(obj, "avatar");
  return {};
}

}  // namespace greenfleet::greenapi
