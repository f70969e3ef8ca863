// Every string from outside has one limit (fleet/input_limits.hpp) and every entry enforces it:
// one byte over answers 422 invalid_value naming the field, the limit itself is accepted.

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "fleet/input_limits.hpp"
#include "support/json.hpp"
#include "support/server_fixture.hpp"

using namespace greenfleet::testing;
namespace fleet = greenfleet::fleet;

namespace {
const std::string kToken = "0123456789abcdef0123456789abcdef0123456789abcdef01";
constexpr std::int64_t kId = 1101000001;

struct Probe {
  std::string method;
  std::string path;
  std::string body;
  std::string field;  // expected error field when over the limit
};

std::string x(std::size_t n) { return std::string(n, 'x'); }

std::string webhook(const std::string& type, const std::string& wid, const std::string& state) {
  return fmt::format(R"({{"typeWebhook":"{}","instanceData":{{"idInstance":{},"wid":"{}"}},)"
                     R"("timestamp":1,"stateInstance":"{}"}})",
                     type, kId, wid, state);
}

// The request with a value `n` bytes long in the probed place.
std::vector<Probe> probes(std::size_t over_name, std::size_t over_tag, std::size_t over_state,
                          std::size_t over_wid, std::size_t over_type, std::size_t over_cursor) {
  const auto instance = [](const std::string& extra) {
    return fmt::format(R"({{"id":{},"token":"{}"{}}})", kId + 1, kToken, extra);
  };
  return {
      {"POST", "/api/v1/instances", instance(fmt::format(R"(,"name":"{}")", x(over_name))), "name"},
      {"POST", "/api/v1/instances", instance(fmt::format(R"(,"tags":["{}"])", x(over_tag))),
       "tags[0]"},
      {"POST", "/api/v1/instances",
       fmt::format(
           R"([{},{}])", instance(""),
           fmt::format(R"({{"id":{},"token":"{}","name":"{}"}})", kId + 2, kToken, x(over_name))),
       "[1].name"},
      {"PATCH", fmt::format("/api/v1/instances/{}", kId),
       fmt::format(R"({{"name":"{}"}})", x(over_name)), "name"},
      {"PATCH", fmt::format("/api/v1/instances/{}", kId),
       fmt::format(R"({{"tags":["a","{}"]}})", x(over_tag)), "tags[1]"},
      {"GET", "/api/v1/instances?tag=" + x(over_tag), "", "tag"},
      {"GET", "/api/v1/instances?q=" + x(over_name), "", "q"},
      {"GET", "/api/v1/instances?state=" + x(over_state), "", "state"},
      {"GET", "/api/v1/needs-scan?tag=" + x(over_tag), "", "tag"},
      {"GET", "/api/v1/report?tag=" + x(over_tag), "", "tag"},
      {"POST", "/api/v1/sweeps", fmt::format(R"({{"tag":"{}"}})", x(over_tag)), "tag"},
      {"POST", "/api/v1/sweeps", fmt::format(R"({{"state":"{}"}})", x(over_state)), "state"},
      {"POST", "/webhooks/green-api", webhook("stateInstanceChanged", "7@c.us", x(over_state)),
       "stateInstance"},
      {"POST", "/webhooks/green-api", webhook("stateInstanceChanged", x(over_wid), "authorized"),
       "instanceData.wid"},
      {"POST", "/webhooks/green-api", webhook(x(over_type), "7@c.us", "authorized"), "typeWebhook"},
      // The cursor is checked for length before it is decoded.
      {"GET", "/api/v1/instances?cursor=i" + std::string(over_cursor - 1, '1'), "", "cursor"},
  };
}

HttpResponse send(const ServerFixture& server, const Probe& p) {
  HttpRequest r;
  r.method = p.method;
  r.path = p.path;
  r.body = p.body;
  r.headers["Authorization"] =
      p.path.rfind("/webhooks/", 0) == 0 ? "Bearer hook" : "Bearer " + server.adminKey();
  return server.client().send(r);
}
}  // namespace

TEST_CASE("every string from outside is capped by one limit, answered 422 naming the field") {
  ServerFixture server({}, {{"GREENFLEET_WEBHOOKS_TOKEN", "hook"},
                            {"GREENFLEET_UPSTREAM_DEFAULT_API_URL", "http://127.0.0.1:9"}});
  REQUIRE(server.client()
              .post("/api/v1/instances", fmt::format(R"({{"id":{},"token":"{}"}})", kId, kToken),
                    server.adminKey())
              .status == 201);
  for (const auto& p :
       probes(fleet::kMaxNameLength + 1, fleet::kMaxTagLength + 1, fleet::kMaxStateLength + 1,
              fleet::kMaxWidLength + 1, fleet::kMaxTypeLength + 1, fleet::kMaxCursorLength + 1)) {
    CAPTURE(p.method);
    CAPTURE(p.path.substr(0, 60));
    CAPTURE(p.body.substr(0, 120));
    const auto r = send(server, p);
    CHECK(r.status == 422);
    CHECK(errorCode(r.body) == "invalid_value");
    CHECK(errorField(r.body) == p.field);
  }
  // Nothing over a limit was stored.
  const auto list = parseObject(server.client().get("/api/v1/instances", server.adminKey()).body);
  CHECK(list->getValue<int>("total") == 1);
  CHECK(server.client().get("/api/v1/events?limit=1000", server.adminKey()).body.find(x(65)) ==
        std::string::npos);

  // At the limit itself nothing is refused for its length (a cursor that long is still not one
  // this server issued: 400, not 422).
  for (const auto& p :
       probes(fleet::kMaxNameLength, fleet::kMaxTagLength, fleet::kMaxStateLength,
              fleet::kMaxWidLength, fleet::kMaxTypeLength, fleet::kMaxCursorLength)) {
    CAPTURE(p.method);
    CAPTURE(p.path.substr(0, 60));
    CAPTURE(p.body.substr(0, 120));
    const auto r = send(server, p);
    CHECK(r.status != 422);
    CHECK(r.status < 500);
    if (p.method == "POST" && p.path == "/api/v1/instances") {
      // Created at the limit: remove it again for the next probe.
      server.client().del(fmt::format("/api/v1/instances/{}", kId + 1), server.adminKey());
      server.client().del(fmt::format("/api/v1/instances/{}", kId + 2), server.adminKey());
    }
  }
}
