#include "support/request_fuzzer.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <sstream>

#include <Poco/InflatingStream.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <fmt/format.h>

#include "support/raw_socket.hpp"

namespace greenfleet::testing {

namespace {

enum class Access { open, read, admin, webhook };
enum class Body { none, instance, patch, sweep, webhook };

constexpr std::int64_t kFuzzIdBase = 1101500000;  // ids the fuzzer registers: base + 0..199
const std::string kHexToken = "0123456789abcdef0123456789abcdef0123456789abcdef01";

// Loopback addresses and shapes validation refuses: nothing else is ever written as an apiUrl,
// and apiUrl values are never edited byte by byte (a deleted digit could name a real host).
const std::vector<std::string> kApiUrls = {"http://127.0.0.1:9",
                                           "http://127.0.0.1:9/",
                                           "http://[::1]:9",
                                           "ftp://127.0.0.1:9",
                                           "http://",
                                           "127.0.0.1:9",
                                           "http://:9",
                                           "http://u@127.0.0.1:9",
                                           "http://127.0.0.1:9?x=1",
                                           "http://127.0.0.1:9#f",
                                           "http://127.0.0.1:9/ a",
                                           ""};

const std::vector<std::string> kStates = {"authorized", "notAuthorized", "blocked", "starting",
                                          "sleepMode",  "yellowCard",    "unknown", "suspended"};
const std::vector<std::string> kAttentions = {
    "none",      "credentials_rejected", "blocked", "needs_scan",
    "suspended", "unreachable",          "stale",   "stuck_starting"};
const std::vector<std::string> kEventTypes = {
    "state_changed", "attention_changed", "scan_session_started", "scan_session_ended", "action"};
const std::vector<std::string> kTags = {"eu", "shop", "berlin", "b\xc3\xa4r", "a b", "x"};

struct QueryParam {
  const char* name;
  enum Kind { integer, text, state, attention, type, format, cursor } kind;
};

}  // namespace

struct RequestFuzzer::Route {
  const char* method;
  const char* pattern;
  Access access;
  Body body;
  std::vector<QueryParam> query;
};

namespace {
using Route = RequestFuzzer::Route;

// The route table of src/api/routes.cpp with each route's documented query parameters.
const std::vector<Route>& routes() {
  using Q = QueryParam;
  static const std::vector<Route> table = {
      {"GET", "/healthz", Access::open, Body::none, {}},
      {"GET", "/readyz", Access::open, Body::none, {}},
      {"GET", "/metrics", Access::open, Body::none, {}},
      {"GET", "/api/v1/me", Access::read, Body::none, {}},
      {"GET", "/api/v1/meta", Access::read, Body::none, {}},
      {"POST", "/api/v1/instances", Access::admin, Body::instance, {}},
      {"GET",
       "/api/v1/instances",
       Access::read,
       Body::none,
       {{"state", Q::state},
        {"attention", Q::attention},
        {"tag", Q::text},
        {"q", Q::text},
        {"limit", Q::integer},
        {"cursor", Q::cursor}}},
      {"GET", "/api/v1/instances/{id}", Access::read, Body::none, {}},
      {"PATCH", "/api/v1/instances/{id}", Access::admin, Body::patch, {}},
      {"DELETE", "/api/v1/instances/{id}", Access::admin, Body::none, {}},
      {"GET",
       "/api/v1/needs-scan",
       Access::read,
       Body::none,
       {{"tag", Q::text}, {"limit", Q::integer}}},
      {"GET", "/api/v1/instances/{id}/qr", Access::read, Body::none, {{"format", Q::format}}},
      {"POST", "/api/v1/instances/{id}/actions/{action}", Access::admin, Body::none, {}},
      {"GET",
       "/api/v1/events",
       Access::read,
       Body::none,
       {{"after", Q::integer}, {"limit", Q::integer}, {"id", Q::integer}, {"type", Q::type}}},
      {"GET", "/api/v1/events/stream", Access::read, Body::none, {}},
      {"GET", "/api/v1/instances/{id}/events", Access::read, Body::none, {{"limit", Q::integer}}},
      {"GET", "/api/v1/summary", Access::read, Body::none, {}},
      {"POST", "/api/v1/sweeps", Access::admin, Body::sweep, {}},
      {"GET",
       "/api/v1/sweeps",
       Access::read,
       Body::none,
       {{"limit", Q::integer}, {"before", Q::integer}}},
      {"GET", "/api/v1/sweeps/{id}", Access::read, Body::none, {}},
      {"GET", "/api/v1/report", Access::read, Body::none, {{"tag", Q::text}}},
      {"GET", "/", Access::open, Body::none, {}},
      {"GET", "/ui/", Access::open, Body::none, {}},
      {"GET", "/ui/{file}", Access::open, Body::none, {}},
      {"GET", "/ui/views/{file}", Access::open, Body::none, {}},
      {"POST", "/webhooks/green-api", Access::webhook, Body::webhook, {}},
  };
  return table;
}

// A minimal JSON value, so mutations can work on structure before bytes.
struct Json {
  enum Kind { null, boolean, number, string, array, object } kind = null;
  std::string text;  // number literal, string content (raw bytes), or "true"/"false"
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> fields;

  static Json str(std::string s) { return {string, std::move(s), {}, {}}; }
  static Json num(std::string s) { return {number, std::move(s), {}, {}}; }
  static Json obj(std::vector<std::pair<std::string, Json>> f) {
    return {object, {}, {}, std::move(f)};
  }
  static Json arr(std::vector<Json> i) { return {array, {}, std::move(i), {}}; }

  void write(std::string& out) const {
    switch (kind) {
      case null:
        out += "null";
        break;
      case boolean:
      case number:
        out += text;
        break;
      case string:
        writeString(out, text);
        break;
      case array:
        out += '[';
        for (std::size_t i = 0; i < items.size(); ++i) {
          if (i > 0) out += ',';
          items[i].write(out);
        }
        out += ']';
        break;
      case object:
        out += '{';
        for (std::size_t i = 0; i < fields.size(); ++i) {
          if (i > 0) out += ',';
          writeString(out, fields[i].first);
          out += ':';
          fields[i].second.write(out);
        }
        out += '}';
        break;
    }
  }
  static void writeString(std::string& out, const std::string& s) {
    out += '"';
    for (const char c : s) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;  // other bytes raw, control and invalid UTF-8 included: the fuzzer's point
    }
    out += '"';
  }
};

std::string toText(const Json& j) {
  std::string out;
  j.write(out);
  return out;
}

std::string percentEncode(const std::string& s) {
  std::string out;
  for (const unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

}  // namespace

RequestFuzzer::RequestFuzzer(std::uint64_t seed, FuzzKeys keys, std::vector<std::int64_t> ids,
                             int port)
    : rng_(seed), keys_(std::move(keys)), ids_(std::move(ids)), port_(port) {}

std::string RequestFuzzer::idText() {
  if (chance(0.6)) return std::to_string(pick(ids_));
  switch (below(12)) {
    case 0:
      return "0";
    case 1:
      return "-1";
    case 2:
      return "9223372036854775807";
    case 3:
      return "9223372036854775808";
    case 4:
      return "18446744073709551617";
    case 5:
      return "abc";
    case 6:
      return std::to_string(kFuzzIdBase + static_cast<std::int64_t>(below(200)));
    case 7:
      return std::to_string(1 + below(1000000));
    default:
      return std::to_string(pick(ids_));
  }
}

// Text that is wrong somewhere: empty, unicode, NUL, control bytes, invalid UTF-8, traversal,
// long.
std::string RequestFuzzer::badText() {
  static const std::vector<std::string> pool = {"",
                                                "\xc3\xa9",
                                                std::string("a\0b", 3),
                                                "\x01\x7f",
                                                "\xff\xfe",
                                                "\xc0\xaf",
                                                "\xed\xa0\x80",
                                                "../..",
                                                "%00",
                                                "<script>",
                                                "null",
                                                "\\u0000",
                                                " ",
                                                "\r\nX-Injected: 1"};
  switch (below(4)) {
    case 0:
      return std::string(1 + below(300), 'x');
    case 1:
      return std::string(5000 + below(5000), static_cast<char>('a' + below(26)));
    default:
      return pick(pool);
  }
}

std::string RequestFuzzer::number() {
  static const std::vector<std::string> pool = {"0",
                                                "-1",
                                                "1",
                                                "1.5",
                                                "1e308",
                                                "1e999",
                                                "-0",
                                                "9223372036854775807",
                                                "9223372036854775808",
                                                "18446744073709551617",
                                                "-9223372036854775809",
                                                "123456789012345678901234567890",
                                                "1E2",
                                                "0.0000001",
                                                "2",
                                                "1000",
                                                "100001"};
  if (chance(0.4)) return std::to_string(pick(ids_));
  return pick(pool);
}

std::string RequestFuzzer::pathFor(const Route& route, std::string& mutation) {
  std::string path;
  const std::string pattern = route.pattern;
  for (std::size_t i = 0; i < pattern.size();) {
    if (pattern[i] != '{') {
      path += pattern[i++];
      continue;
    }
    const auto end = pattern.find('}', i);
    const std::string name = pattern.substr(i + 1, end - i - 1);
    i = end + 1;
    if (name == "id") {
      path += idText();
    } else if (name == "action") {
      static const std::vector<std::string> actions = {
          "poll", "reboot", "logout", "scan-session", "POLL", "delete", "", "..", "poll%00"};
      path += pick(actions);
    } else {
      static const std::vector<std::string> files = {
          "index.html", "app.js",  "style.css", "missing.png", "..%2f..%2fetc%2fpasswd",
          "%2e%2e",     "a%00.js", "x.js%0a"};
      path += pick(files);
    }
  }
  if (!chance(0.25)) return path;
  switch (below(9)) {
    case 0:
      mutation += " path+/";
      return path + "/";
    case 1:
      mutation += " path//";
      return "/" + path;
    case 2:
      mutation += " path..";
      return path + "/../../etc/passwd";
    case 3:
      mutation += " path%00";
      return path + "%00";
    case 4:
      mutation += " path-unicode";
      return path + "/%C3%A9%E2%82%AC";
    case 5:
      mutation += " path-long";
      return path + "/" + std::string(2000 + below(20000), 'a');
    case 6:
      mutation += " path-badpct";
      return path + "%zz%";
    case 7:
      mutation += " path-encoded";
      return percentEncode(path);
    default:
      mutation += " path-raw-bytes";
      return path + "/\xff\x01";
  }
}

std::string RequestFuzzer::queryFor(const Route& route, std::string& mutation) {
  std::vector<std::string> parts;
  for (const auto& q : route.query) {
    if (!chance(0.4)) continue;
    std::string value;
    switch (q.kind) {
      case QueryParam::integer:
        value = std::to_string(1 + below(100));
        break;
      case QueryParam::text:
        value = percentEncode(pick(kTags));
        break;
      case QueryParam::state:
        value = pick(kStates);
        break;
      case QueryParam::attention:
        value = pick(kAttentions);
        break;
      case QueryParam::type:
        value = pick(kEventTypes);
        break;
      case QueryParam::format:
        value = chance(0.5) ? "png" : "json";
        break;
      case QueryParam::cursor:
        value = "i" + std::to_string(pick(ids_));
        break;
    }
    if (chance(0.2)) {
      mutation += fmt::format(" query-{}-bad", q.name);
      value = chance(0.5) ? percentEncode(badText()) : number();
    }
    parts.push_back(std::string(q.name) + "=" + value);
    if (chance(0.05)) {
      mutation += " query-repeated";
      parts.push_back(std::string(q.name) + "=" + value + "2");
    }
  }
  if (chance(0.08)) {
    static const std::vector<std::string> odd = {"unknown=1", "&&",    "=x",    "a==b",
                                                 "%zz=1",     "limit", "x=%00", "%C3%A9=%FF"};
    mutation += " query-odd";
    parts.push_back(pick(odd));
  }
  if (parts.empty()) return chance(0.02) ? "?" : "";
  std::string out = "?";
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i > 0 ? "&" : "") + parts[i];
  return out;
}

namespace {
Json instanceJson(std::int64_t id, bool full, std::mt19937_64& rng) {
  std::vector<std::pair<std::string, Json>> f = {{"id", Json::num(std::to_string(id))},
                                                 {"token", Json::str(kHexToken)}};
  if (full) {
    f.emplace_back("apiUrl", Json::str("http://127.0.0.1:9"));
    f.emplace_back("name", Json::str(fmt::format("fuzz {}", rng() % 1000)));
    f.emplace_back("tags", Json::arr({Json::str("eu"), Json::str("shop")}));
    f.emplace_back("enabled", Json{Json::boolean, rng() % 2 ? "true" : "false", {}, {}});
  }
  return Json::obj(std::move(f));
}
}  // namespace

std::string RequestFuzzer::bodyFor(const Route& route, std::string& mutation) {
  Json body;
  switch (route.body) {
    case Body::none:
      if (!chance(0.05)) return "";
      mutation += " unexpected-body";
      return R"({"x":1})";
    case Body::instance: {
      const auto id = [&] { return kFuzzIdBase + static_cast<std::int64_t>(below(200)); };
      if (chance(0.2)) {
        std::vector<Json> items;
        for (std::size_t n = 1 + below(5); n > 0; --n)
          items.push_back(instanceJson(id(), chance(0.5), rng_));
        body = Json::arr(std::move(items));
      } else {
        body = instanceJson(id(), chance(0.5), rng_);
      }
      break;
    }
    case Body::patch: {
      std::vector<std::pair<std::string, Json>> f;
      if (chance(0.5)) f.emplace_back("name", Json::str(fmt::format("renamed {}", below(100))));
      if (chance(0.3)) f.emplace_back("tags", Json::arr({Json::str(pick(kTags))}));
      if (chance(0.3)) f.emplace_back("enabled", Json{Json::boolean, "true", {}, {}});
      if (chance(0.2)) f.emplace_back("apiUrl", Json::str(pick(kApiUrls)));
      if (chance(0.1)) f.emplace_back("token", Json::str(kHexToken));
      body = Json::obj(std::move(f));
      break;
    }
    case Body::sweep: {
      std::vector<std::pair<std::string, Json>> f;
      if (chance(0.3)) f.emplace_back("tag", Json::str(pick(kTags)));
      if (chance(0.3)) f.emplace_back("state", Json::str(pick(kStates)));
      if (chance(0.2)) f.emplace_back("attention", Json::str(pick(kAttentions)));
      if (chance(0.5)) f.emplace_back("ids", Json::arr({Json::num(std::to_string(pick(ids_)))}));
      body = Json::obj(std::move(f));
      break;
    }
    case Body::webhook: {
      static const std::vector<std::string> types = {"stateInstanceChanged", "stateInstanceChanged",
                                                     "incomingMessageReceived", ""};
      body = Json::obj(
          {{"typeWebhook", Json::str(pick(types))},
           {"instanceData", Json::obj({{"idInstance", Json::num(std::to_string(pick(ids_)))},
                                       {"wid", Json::str("79001234567@c.us")},
                                       {"typeInstance", Json::str("whatsapp")}})},
           {"timestamp", Json::num("1767225600")},
           {"stateInstance", Json::str(pick(kStates))}});
      break;
    }
  }
  // Structural mutations on the value tree.
  Json* target = &body;
  if (body.kind == Json::array && !body.items.empty())
    target = &body.items[below(body.items.size())];
  if (target->kind == Json::object && !target->fields.empty() && chance(0.3)) {
    const std::size_t index = below(target->fields.size());
    auto& field = target->fields[index];
    const bool url = field.first == "apiUrl";
    switch (below(url ? 3 : 8)) {
      case 0:
        mutation += " field-null:" + field.first;
        field.second = Json{};
        break;
      case 1:
        mutation += " field-array:" + field.first;
        field.second = Json::arr({field.second});
        break;
      case 2:
        mutation += " field-object:" + field.first;
        field.second = Json::obj({{"v", field.second}});
        break;
      case 3:
        mutation += " field-number:" + field.first;
        field.second = Json::num(number());
        break;
      case 4:
        mutation += " field-text:" + field.first;
        field.second = Json::str(badText());
        break;
      case 5:
        mutation += " field-bool:" + field.first;
        field.second = Json{Json::boolean, "false", {}, {}};
        break;
      case 6:
        mutation += " field-dropped:" + field.first;
        target->fields.erase(target->fields.begin() + static_cast<long>(index));
        break;
      default: {
        mutation += " field-duplicated:" + field.first;
        auto copy = field;
        target->fields.push_back(std::move(copy));
        break;
      }
    }
  }
  if (chance(0.05)) {
    mutation += " unknown-field";
    if (target->kind == Json::object) target->fields.emplace_back("unknownField", Json::num("1"));
  }
  if (chance(0.04)) {
    mutation += " root-wrapped";
    body = chance(0.5) ? Json::arr({body}) : Json::obj({{"data", body}});
  }
  std::string text = toText(body);
  // Byte-level mutations: ones that cannot turn a refused apiUrl into an accepted one.
  if (chance(0.2)) {
    switch (below(9)) {
      case 0:
        mutation += " truncated";
        text.resize(below(text.size()));
        break;
      case 1:
        mutation += " empty";
        text.clear();
        break;
      case 2:
        mutation += " invalid-utf8";
        text.insert(below(text.size() + 1), "\xff\xc3");
        break;
      case 3:
        mutation += " control-byte";
        text.insert(below(text.size() + 1), std::string(1, static_cast<char>(below(32))));
        break;
      case 4: {
        const std::size_t depth = chance(0.5) ? 200 + below(2000) : 100000 + below(200000);
        mutation += fmt::format(" deep-nesting-{}", depth);
        text = std::string(depth, '[') + text + std::string(depth, ']');
        break;
      }
      case 5: {
        const std::size_t depth = 100 + below(5000);
        mutation += fmt::format(" deep-objects-{}", depth);
        std::string nested;
        for (std::size_t d = 0; d < depth; ++d) nested += "{\"a\":";
        text = nested + "1" + std::string(depth, '}');
        break;
      }
      case 6:
        mutation += " scalar-root";
        text = pick(std::vector<std::string>{"null", "1", "\"x\"", "true", "[]", "{}"});
        break;
      case 7: {
        const std::size_t size = chance(0.3) ? (1u << 20) + 10 : 100000 + below(400000);
        mutation += fmt::format(" huge-{}", size);
        text = R"({"name":")" + std::string(size, 'n') + R"("})";
        break;
      }
      default:
        mutation += " escaped-nul";
        text.insert(text.find('"') == std::string::npos ? 0 : text.find('"') + 1, "\\u0000\\ud800");
        break;
    }
  }
  return text;
}

void RequestFuzzer::addHeaders(const Route& route, FuzzRequest& r) {
  auto& h = r.headers;
  if (!chance(0.02)) h.emplace_back("Host", fmt::format("127.0.0.1:{}", port_));
  const double roll = std::uniform_real_distribution<double>(0, 1)(rng_);
  if (route.access == Access::webhook) {
    if (roll < 0.85)
      h.emplace_back("Authorization", "Bearer " + keys_.webhook);
    else if (roll < 0.9)
      h.emplace_back("Authorization", keys_.webhook);
    else if (roll < 0.95)
      h.emplace_back("Authorization", "Bearer wrong");
  } else if (roll < 0.75) {
    h.emplace_back("Authorization", "Bearer " + keys_.admin);
  } else if (roll < 0.9) {
    h.emplace_back("Authorization", "Bearer " + keys_.read);
  } else if (roll < 0.95) {
    static const std::vector<std::string> bad = {
        "Bearer", "Bearer ", "Basic Zm9vOmJhcg==", "Bearer \xff", "bearer x", "Token abc"};
    h.emplace_back("Authorization", pick(bad));
  }
  if (!r.body.empty() || chance(0.05)) {
    static const std::vector<std::string> types = {"application/json",
                                                   "application/json",
                                                   "application/json",
                                                   "application/json; charset=utf-8",
                                                   "APPLICATION/JSON",
                                                   "text/plain",
                                                   "application/json; charset=latin1",
                                                   ";;;",
                                                   "",
                                                   "application/jsonx",
                                                   "multipart/form-data; boundary=x"};
    if (chance(0.8)) {
      h.emplace_back("Content-Type", "application/json");
    } else if (!chance(0.05)) {
      r.mutation += " content-type";
      h.emplace_back("Content-Type", pick(types));
    }
  }
  if (chance(0.3)) {
    static const std::vector<std::string> encodings = {
        "gzip", "gzip, deflate, br", "*", "gzip;q=0", "identity", "br", ",,;q=", "GZIP;q=1.0"};
    h.emplace_back("Accept-Encoding", pick(encodings));
  }
  if (chance(0.15)) {
    static const std::vector<std::string> tags = {"*",    "\"abc\"", "W/\"abc\"",
                                                  "\"\"", "garbage", std::string(3000, '"')};
    h.emplace_back("If-None-Match", pick(tags));
  }
  if (chance(0.1)) {
    static const std::vector<std::string> accepts = {
        "image/png", "application/json", "*/*", "text/event-stream", "image/png, application/json"};
    h.emplace_back("Accept", pick(accepts));
  }
  if (chance(0.05)) h.emplace_back("Last-Event-ID", chance(0.5) ? "5" : badText());
  if (chance(0.04)) h.emplace_back("Origin", "http://127.0.0.1:1");
  if (chance(0.05)) {
    r.mutation += " duplicate-headers";
    if (!h.empty()) h.push_back(h[below(h.size())]);
  }
  if (chance(0.02)) {
    r.mutation += " huge-header";
    h.emplace_back("X-Big", std::string(chance(0.5) ? 8000 : 20000, 'h'));
  }
  if (chance(0.02)) {
    r.mutation += " many-headers";
    for (int i = 0; i < 300; ++i) h.emplace_back(fmt::format("X-H{}", i), "v");
  }
  if (chance(0.02)) {
    r.mutation += " odd-header";
    h.emplace_back(chance(0.5) ? "Bad Header" : "X-Ctl",
                   "a\x01"
                   "b");
  }
}

FuzzRequest RequestFuzzer::next() {
  const auto& route = pick(routes());
  FuzzRequest r;
  r.route = route.pattern;
  r.method = route.method;
  if (chance(0.08)) {
    static const std::vector<std::string> methods = {
        "GET",     "POST",  "PUT", "PATCH", "DELETE",  "HEAD",
        "OPTIONS", "TRACE", "get", "FOO",   "CONNECT", std::string(300, 'M')};
    r.method = pick(methods);
    r.mutation += " method:" + r.method.substr(0, 10);
  }
  r.target = pathFor(route, r.mutation) + queryFor(route, r.mutation);
  r.body = bodyFor(route, r.mutation);
  addHeaders(route, r);
  if (!r.body.empty() && chance(0.03)) {
    r.mutation += " chunked";
    r.chunked = true;
  }
  return r;
}

std::string FuzzRequest::wire() const {
  std::string out = method + " " + target + " HTTP/1.1\r\n";
  for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
  out += "Connection: close\r\n";
  if (chunked) {
    out += "Transfer-Encoding: chunked\r\n\r\n";
    out += fmt::format("{:x}\r\n{}\r\n0\r\n\r\n", body.size(), body);
  } else {
    if (!body.empty() || method == "POST" || method == "PATCH" || method == "PUT") {
      out += fmt::format("Content-Length: {}\r\n", body.size());
    }
    out += "\r\n" + body;
  }
  return out;
}

std::string FuzzRequest::describe() const {
  const auto cut = [](const std::string& s, std::size_t n) {
    std::string out;
    for (const unsigned char c : s.substr(0, n)) {
      out += (c < 0x20 || c >= 0x7f) ? fmt::format("\\x{:02x}", c)
                                     : std::string(1, static_cast<char>(c));
    }
    return s.size() > n ? out + fmt::format("...({} bytes)", s.size()) : out;
  };
  return fmt::format("{} {} [{}]{} body={}", cut(method, 10), cut(target, 120), route, mutation,
                     cut(body, 160));
}

namespace {
std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Reads from `socket` into `data` until it holds `size` bytes, the peer closes, or the deadline.
bool readUntilSize(RawSocket& socket, std::string& data, std::size_t size,
                   std::chrono::steady_clock::time_point deadline) {
  while (data.size() < size) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{socket.fd(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[65536];
    const ssize_t n = ::recv(socket.fd(), buf, sizeof buf, 0);
    if (n <= 0) return false;
    data.append(buf, static_cast<std::size_t>(n));
  }
  return true;
}

std::string dechunk(const std::string& raw, bool& complete) {
  std::string out;
  std::size_t at = 0;
  complete = false;
  while (true) {
    const auto eol = raw.find("\r\n", at);
    if (eol == std::string::npos) return out;
    const std::size_t size = std::stoul(raw.substr(at, eol - at), nullptr, 16);
    if (size == 0) {
      complete = true;
      return out;
    }
    if (raw.size() < eol + 2 + size + 2) return out;
    out += raw.substr(eol + 2, size);
    at = eol + 2 + size + 2;
  }
}
}  // namespace

FuzzAnswer exchangeRaw(int port, const FuzzRequest& request, int timeout_ms) {
  FuzzAnswer a;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  RawSocket socket(port);
  // A send may fail half-way when the server answers (413, 431) and closes before reading it all.
  socket.send(request.wire());
  std::string data = socket.receive(std::chrono::milliseconds(timeout_ms), "\r\n\r\n");
  const auto head_end = data.find("\r\n\r\n");
  if (head_end == std::string::npos) {
    a.transport_error = data.empty() ? "connection closed or reset without an answer"
                                     : "incomplete answer head: " + data.substr(0, 80);
    return a;
  }
  std::istringstream head(data.substr(0, head_end));
  std::string line;
  std::getline(head, line);
  if (line.rfind("HTTP/1.1 ", 0) != 0 || line.size() < 12) {
    a.transport_error = "bad status line: " + line.substr(0, 80);
    return a;
  }
  a.status = std::atoi(line.c_str() + 9);
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    a.headers[lower(line.substr(0, colon))] = value;
  }
  std::string body = data.substr(head_end + 4);
  const bool no_body =
      request.method == "HEAD" || a.status == 204 || a.status == 304 || a.status < 200;
  if (a.headers["content-type"].rfind("text/event-stream", 0) == 0) {
    a.streaming = true;
    return a;
  }
  if (!no_body) {
    if (const auto it = a.headers.find("content-length"); it != a.headers.end()) {
      const std::size_t length = std::stoul(it->second);
      if (!readUntilSize(socket, body, length, deadline)) {
        a.transport_error = fmt::format("body cut short: {} of {} bytes", body.size(), length);
        return a;
      }
      body.resize(length);
    } else if (lower(a.headers["transfer-encoding"]) == "chunked") {
      bool complete = false;
      std::string decoded = dechunk(body, complete);
      while (!complete && readUntilSize(socket, body, body.size() + 1, deadline)) {
        decoded = dechunk(body, complete);
      }
      if (!complete) {
        a.transport_error = "chunked body cut short";
        return a;
      }
      body = decoded;
    } else {
      a.transport_error = "answer without Content-Length or chunked encoding";
      return a;
    }
  }
  if (lower(a.headers["content-encoding"]) == "gzip" && !body.empty()) {
    try {
      std::istringstream in(body);
      Poco::InflatingInputStream inflate(in, Poco::InflatingStreamBuf::STREAM_GZIP);
      std::ostringstream out;
      out << inflate.rdbuf();
      body = out.str();
    } catch (const std::exception& e) {
      a.transport_error = std::string("gzip body does not inflate: ") + e.what();
      return a;
    }
  }
  a.body = std::move(body);
  return a;
}

namespace {
// docs/API.md, "Errors": the codes each status may carry.
const std::map<int, std::set<std::string>>& documentedCodes() {
  static const std::map<int, std::set<std::string>> codes = {
      {400,
       {"malformed_json", "duplicate_key", "invalid_type", "missing_field", "unknown_field",
        "unknown_parameter", "invalid_cursor", "empty_patch", "unexpected_body", "malformed_uri",
        "malformed_request", "invalid_last_event_id", "unsupported_action"}},
      {401, {"unauthorized"}},
      {403, {"forbidden", "webhooks_disabled", "cors_forbidden"}},
      {404, {"not_found"}},
      {405, {"method_not_allowed"}},
      {408, {"request_timeout"}},
      {409, {"conflict", "already_authorized", "not_needed", "no_qr_image"}},
      {411, {"length_required"}},
      {413, {"payload_too_large"}},
      {415, {"unsupported_media_type"}},
      {422, {"invalid_value"}},
      {429, {"rate_limited", "scan_cooldown", "scan_sessions_full"}},
      {431, {"header_too_large"}},
      {503,
       {"unavailable", "too_many_subscribers", "too_many_connections", "overloaded",
        "service_unavailable"}},
  };
  return codes;
}
}  // namespace

std::optional<std::string> answerProblem(const FuzzRequest& request, const FuzzAnswer& answer) {
  if (!answer.transport_error.empty()) return answer.transport_error;
  const int s = answer.status;
  if (s >= 200 && s < 400) return std::nullopt;
  if (s == 503 && request.route == "/readyz" &&
      answer.body.find("not ready") != std::string::npos) {
    return std::nullopt;
  }
  const auto codes = documentedCodes().find(s);
  if (codes == documentedCodes().end()) return fmt::format("status {} is not in the contract", s);
  if (request.method == "HEAD" && answer.body.empty()) return std::nullopt;
  try {
    Poco::JSON::Parser parser;
    const auto root = parser.parse(answer.body).extract<Poco::JSON::Object::Ptr>();
    const auto error = root->getObject("error");
    if (!error) return "no error object";
    if (!error->get("code").isString() || !error->get("message").isString() ||
        !error->has("field") || !(error->isNull("field") || error->get("field").isString())) {
      return "error object without code, message and field";
    }
    const auto code = error->getValue<std::string>("code");
    if (codes->second.count(code) == 0) return fmt::format("undocumented code {} for {}", code, s);
  } catch (const std::exception& e) {
    return fmt::format("{} answer is not the JSON error shape ({}): {}", s, e.what(),
                       answer.body.substr(0, 120));
  }
  if (answer.headers.count("content-type") == 0 ||
      answer.headers.at("content-type").rfind("application/json", 0) != 0) {
    return "error answer without Content-Type application/json";
  }
  return std::nullopt;
}

}  // namespace greenfleet::testing
