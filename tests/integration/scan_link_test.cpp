// Issue 16: public scan links and phone-number pairing, end to end — the real binary, the real
// emulator over loopback, a real SQLite file. The phone holder's side uses no API key.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "support/emulator_process.hpp"
#include "support/json.hpp"
#include "support/qr_image.hpp"
#include "support/server_fixture.hpp"
#include "support/temp_dir.hpp"
#include "support/wait_for.hpp"

using namespace greenfleet::testing;
using namespace std::chrono_literals;

namespace {

using Env = std::map<std::string, std::string>;
using Id = std::int64_t;

Env fastEnv(Env extra = {}) {
  Env env{{"GREENFLEET_SCHEDULER_INTERVAL_AUTHORIZED_S", "1.5"},
          {"GREENFLEET_SCHEDULER_INTERVAL_NOT_AUTHORIZED_S", "1.5"},
          {"GREENFLEET_SCHEDULER_INTERVAL_STARTING_S", "1.5"},
          {"GREENFLEET_SCHEDULER_INTERVAL_OTHER_S", "1.5"},
          {"GREENFLEET_SCHEDULER_STARTUP_SPREAD_S", "0.5"},
          {"GREENFLEET_SCHEDULER_CONFIRM_DELAY_S", "1"},
          {"GREENFLEET_LOG_LEVEL", "debug"}};
  for (auto& [k, v] : extra) env[k] = v;
  return env;
}

// An emulator with `scenario`, a server with `env`, every emulated instance registered.
struct LinkFleet {
  TempDir dir;
  std::unique_ptr<EmulatorProcess> emu;
  std::unique_ptr<ServerFixture> server;
  std::vector<EmulatedCredentials> all;

  LinkFleet(const std::string& scenario, Env env) {
    const std::string path = dir.file("scenario.json");
    std::ofstream(path) << scenario;
    emu = std::make_unique<EmulatorProcess>(std::vector<std::string>{"--scenario", path});
    server = std::make_unique<ServerFixture>(std::vector<std::string>{}, std::move(env));
    all = emu->instances();
    std::string batch = "[";
    for (std::size_t i = 0; i < all.size(); ++i) {
      batch +=
          fmt::format(R"({}{{"id":{},"token":"{}","apiUrl":"{}","name":"Shop \"{}\" <b>"}})",
                      i ? "," : "", all[i].idInstance, all[i].apiTokenInstance, emu->apiUrl(), i);
    }
    batch += "]";
    REQUIRE(http().post("/api/v1/instances", batch + "", key()).status == 201);
  }

  HttpClient http() const { return server->client(); }
  const std::string& key() const { return server->adminKey(); }
  Id inState(const std::string& state, std::size_t nth = 0) const {
    for (const auto& c : all) {
      if (c.state == state && nth-- == 0) return c.idInstance;
    }
    FAIL("no such instance");
    return 0;
  }
  // The name it was registered with, as given and as HTML shows it.
  std::size_t indexOf(Id id) const {
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (all[i].idInstance == id) return i;
    }
    FAIL("unknown id");
    return 0;
  }
  std::string liveState(Id id) const {
    const auto r = http().get(fmt::format("/api/v1/instances/{}", id), key());
    const auto o = parseObject(r.body);
    return o->isNull("state") ? std::string() : o->getValue<std::string>("state");
  }
  // inState(state, nth), once greenfleet shows it in that state too.
  Id awaitInState(const std::string& state, std::size_t nth = 0) const {
    const Id id = inState(state, nth);
    REQUIRE(waitFor([&] { return liveState(id) == state; }, 20s));
    return id;
  }
  Poco::JSON::Object::Ptr createLink(Id id, const std::string& body = {}) const {
    const auto r = http().post(fmt::format("/api/v1/instances/{}/scan-links", id), body, key());
    REQUIRE_MESSAGE(r.status == 201, r.body);
    return parseObject(r.body);
  }
  // The events of `id` of one type, oldest first, as "detail|actor".
  std::vector<std::string> events(Id id, const std::string& type) const {
    const auto r = http().get(fmt::format("/api/v1/events?id={}&type={}", id, type), key());
    REQUIRE(r.status == 200);
    std::vector<std::string> out;
    const auto items = parseObject(r.body)->getArray("items");
    for (std::size_t i = 0; i < items->size(); ++i) {
      const auto e = items->getObject(static_cast<unsigned>(i));
      out.push_back((e->isNull("detail") ? "" : e->getValue<std::string>("detail")) + "|" +
                    (e->isNull("actor") ? "" : e->getValue<std::string>("actor")));
    }
    return out;
  }
  void checkNoSecretInLog(const std::string& secret) const {
    const std::string log = server->log();
    CHECK(log.find(secret) == std::string::npos);
    for (const auto& c : all) CHECK(log.find(c.apiTokenInstance) == std::string::npos);
  }
};

std::string pathOf(const std::string& url) {
  static const std::regex kUrl(R"(^http://[^/]+(/s/[A-Za-z0-9_-]{43})$)");
  std::smatch m;
  REQUIRE_MESSAGE(std::regex_match(url, m, kUrl), url);
  return m[1];
}

std::string tokenOf(const std::string& url) { return pathOf(url).substr(3); }

std::string stateOfLink(const HttpClient& http, const std::string& path) {
  const auto r = http.get(path + "/state");
  if (r.status != 200) return std::to_string(r.status);
  return parseObject(r.body)->getValue<std::string>("state");
}

const char* kScenario = R"({"instances":{"notAuthorized":3,"authorized":1}})";

}  // namespace

TEST_CASE(
    "a scan link is made by an admin, opened without a key, shows the live QR, and revoked "
    "links and unknown ones get one neutral page") {
  LinkFleet fleet(kScenario, fastEnv());
  const auto http = fleet.http();
  const Id id = fleet.awaitInState("notAuthorized");
  const Id other = fleet.inState("notAuthorized", 1);

  // Only an admin key makes links.
  std::string read_key_out;
  REQUIRE(fleet.server->runCommand({"keys", "create", "--name", "viewer", "--role", "read"},
                                   read_key_out) == 0);
  std::smatch key_match;
  REQUIRE(std::regex_search(read_key_out, key_match, std::regex("gf_[0-9a-f]+")));
  const std::string read_key = key_match[0];
  const std::string create_path = fmt::format("/api/v1/instances/{}/scan-links", id);
  CHECK(http.post(create_path, "", read_key).status == 403);
  CHECK(http.post(create_path, "").status == 401);
  CHECK(http.post("/api/v1/instances/999/scan-links", "", fleet.key()).status == 404);
  CHECK(http.post(create_path, R"({"ttlSeconds":0})", fleet.key()).status == 422);
  CHECK(http.post(create_path, R"({"ttl":60})", fleet.key()).status == 400);

  const auto link = fleet.createLink(id);
  const std::string url = link->getValue<std::string>("url");
  const std::string path = pathOf(url);
  const std::string token = tokenOf(url);
  CHECK(url.rfind(fmt::format("http://127.0.0.1:{}/s/", fleet.server->port()), 0) == 0);
  CHECK(link->getValue<Id>("instanceId") == id);
  CHECK(link->getValue<std::string>("hint") == "…" + token.substr(token.size() - 4));
  CHECK(!link->getValue<std::string>("expiresAt").empty());
  const Id link_id = link->getValue<Id>("id");
  // The link comes with its own QR code, to photograph off the dashboard.
  CHECK(pngEncodesPayload(base64Decode(link->getValue<std::string>("qrPng")), url));

  // The list shows the link without its secret; a read key may look.
  auto listed = http.get(create_path, read_key);
  REQUIRE(listed.status == 200);
  CHECK(listed.body.find(token) == std::string::npos);
  auto items = parseObject(listed.body)->getArray("items");
  REQUIRE(items->size() == 1);
  CHECK(items->getObject(0)->getValue<Id>("id") == link_id);
  CHECK(items->getObject(0)->isNull("openedAt"));

  // The page needs no key, names the instance (escaped), and carries neither the token nor any
  // other instance's id; its CSP allows nothing from elsewhere.
  const auto page = http.get(path);
  REQUIRE(page.status == 200);
  CHECK(page.header("Content-Type").rfind("text/html", 0) == 0);
  const std::string csp = page.header("Content-Security-Policy");
  CHECK(csp.find("default-src 'none'") != std::string::npos);
  CHECK(csp.find("script-src 'self'") != std::string::npos);
  CHECK(csp.find("frame-ancestors 'none'") != std::string::npos);
  CHECK(page.header("Referrer-Policy") == "no-referrer");
  CHECK(page.header("Cache-Control") == "no-store");
  CHECK(page.body.find(fmt::format("Shop &quot;{}&quot; &lt;b&gt;", fleet.indexOf(id))) !=
        std::string::npos);
  CHECK(page.body.find("<b>\"") == std::string::npos);
  CHECK(page.body.find(token) == std::string::npos);
  CHECK(page.body.find(token.substr(0, 12)) == std::string::npos);
  for (const auto& c : fleet.all) {
    CHECK(page.body.find(std::to_string(c.idInstance)) == std::string::npos);
  }
  CHECK(page.body.find("Link with phone number instead") != std::string::npos);
  for (const char* asset : {"/s/assets/page.js", "/s/assets/page.css"}) {
    const auto a = http.get(asset);
    CHECK(a.status == 200);
    CHECK(a.body.find("http") == std::string::npos);  // no absolute URL: nothing off-origin
  }

  // The state starts the scan session; the QR image is the emulator's current code.
  // At the link's own rate (2 rps): a first QR slow to come on a loaded machine must not spend
  // the link's burst before the checks below.
  REQUIRE(waitFor([&] { return stateOfLink(http, path) == "qr"; }, 20s, 500ms));
  const auto state = parseObject(http.get(path + "/state").body);
  CHECK(state->getValue<std::string>("name") == fmt::format("Shop \"{}\" <b>", fleet.indexOf(id)));
  CHECK(state->getValue<int>("secondsLeft") > 800);
  CHECK(!state->has("id"));
  CHECK(waitFor(
      [&] {
        const std::string before = fleet.emu->qrPayloadOf(id);
        const auto png = http.get(path + "/qr.png");
        const std::string after = fleet.emu->qrPayloadOf(id);
        return png.status == 200 && png.header("Content-Type") == "image/png" &&
               (pngEncodesPayload(png.body, before) || pngEncodesPayload(png.body, after));
      },
      10s, 200ms));

  // First open, creation (with the key's name) are events; opening again adds none.
  CHECK(http.get(path).status == 200);
  const auto link_events = fleet.events(id, "scan_link");
  REQUIRE(link_events.size() == 2);
  CHECK(link_events[0] == fmt::format("created #{}|initial-admin", link_id));
  CHECK(link_events[1] == fmt::format("opened #{}|", link_id));
  listed = http.get(create_path, read_key);
  CHECK(!parseObject(listed.body)->getArray("items")->getObject(0)->isNull("openedAt"));

  // Unknown: 404; revoked: 410; the same neutral page, which says nothing else.
  const auto unknown = http.get("/s/" + std::string(43, 'A'));
  CHECK(unknown.status == 404);
  CHECK(http.get("/s/short").status == 404);
  CHECK(http.del(fmt::format("/api/v1/instances/{}/scan-links/{}", other, link_id), fleet.key())
            .status == 404);  // another instance's link
  CHECK(http.del(fmt::format("{}/{}", create_path, link_id), read_key).status == 403);
  CHECK(http.del(fmt::format("{}/{}", create_path, link_id), fleet.key()).status == 204);
  CHECK(http.del(fmt::format("{}/{}", create_path, link_id), fleet.key()).status == 404);
  const auto revoked = http.get(path);
  CHECK(revoked.status == 410);
  CHECK(revoked.body == unknown.body);
  CHECK(revoked.header("Content-Security-Policy") == csp);
  CHECK(http.get(path + "/state").status == 410);
  CHECK(http.get(path + "/qr.png").status == 410);
  CHECK(http.get(create_path, fleet.key()).body.find(std::to_string(link_id)) == std::string::npos);
  CHECK(fleet.events(id, "scan_link").back() == fmt::format("revoked #{}|initial-admin", link_id));
  fleet.checkNoSecretInLog(token);
}

TEST_CASE("a scan link ends when its instance is authorized, and says Connected to its page") {
  LinkFleet fleet(kScenario, fastEnv());
  const auto http = fleet.http();
  const Id id = fleet.awaitInState("notAuthorized");
  const Id authorized = fleet.awaitInState("authorized");
  // An authorized instance needs no link.
  const auto refused =
      http.post(fmt::format("/api/v1/instances/{}/scan-links", authorized), "", fleet.key());
  CHECK(refused.status == 409);

  const auto link = fleet.createLink(id);
  const std::string path = pathOf(link->getValue<std::string>("url"));
  REQUIRE(http.get(path).status == 200);
  // At the link's own rate (2 rps), so the 410 checks below are not answered 429 on a loaded
  // machine where the QR or the confirmation is slow to come.
  REQUIRE(waitFor([&] { return stateOfLink(http, path) == "qr"; }, 20s, 500ms));
  REQUIRE(fleet.emu->scan(id) == 200);

  CHECK(waitFor([&] { return stateOfLink(http, path) == "connected"; }, 20s, 500ms));
  CHECK(http.get(path).status == 410);
  CHECK(http.get(path + "/qr.png").status == 410);
  CHECK(parseObject(http.get(fmt::format("/api/v1/instances/{}/scan-links", id), fleet.key()).body)
            ->getArray("items")
            ->size() == 0);
  const auto events = fleet.events(id, "scan_link");
  REQUIRE(events.size() == 3);
  CHECK(events[2] == fmt::format("completed #{}|", link->getValue<Id>("id")));
}

TEST_CASE("with a public listener, scan links live there only; an expired link answers 410") {
  LinkFleet fleet(kScenario, fastEnv({{"GREENFLEET_PUBLIC_ENABLED", "true"},
                                      {"GREENFLEET_PUBLIC_HOST", "127.0.0.1"},
                                      {"GREENFLEET_PUBLIC_PORT", "0"}}));
  const int public_port = fleet.server->publicPort();
  REQUIRE(public_port != 0);
  const HttpClient pub("127.0.0.1", public_port);
  const Id id = fleet.awaitInState("notAuthorized");

  const auto link = fleet.createLink(id);
  const std::string url = link->getValue<std::string>("url");
  CHECK(url.rfind(fmt::format("http://127.0.0.1:{}/s/", public_port), 0) == 0);
  const std::string path = pathOf(url);
  CHECK(pub.get(path).status == 200);
  CHECK(pub.get("/s/assets/page.js").status == 200);
  CHECK(fleet.http().get(path).status == 404);  // not on the admin listener
  CHECK(pub.post(fmt::format("/api/v1/instances/{}/scan-links", id), "", fleet.key()).status ==
        404);  // and the admin API not on the public one

  const auto short_lived = fleet.createLink(id, R"({"ttlSeconds":1})");
  const std::string short_path = pathOf(short_lived->getValue<std::string>("url"));
  CHECK(waitFor([&] { return pub.get(short_path).status == 410; }, 5s, 100ms));
  CHECK(pub.get(short_path + "/state").status == 410);
}

TEST_CASE("scan link requests are rate-limited per link and per client address") {
  LinkFleet fleet(kScenario, fastEnv({{"GREENFLEET_SCAN_LINKS_LINK_RPS", "0.5"},
                                      {"GREENFLEET_SCAN_LINKS_CLIENT_RPS", "1"}}));
  const auto http = fleet.http();
  const Id id = fleet.awaitInState("notAuthorized");
  const std::string path = pathOf(fleet.createLink(id)->getValue<std::string>("url"));

  // Per link: a burst of 5 (10 s at 0.5/s), then 429 with Retry-After.
  int ok = 0;
  HttpResponse limited;
  for (int i = 0; i < 8 && limited.status == 0; ++i) {
    const auto r = http.get(path + "/state");
    if (r.status == 200) ++ok;
    if (r.status == 429) limited = r;
  }
  CHECK(ok == 5);
  REQUIRE(limited.status == 429);
  CHECK(std::stoi(limited.header("Retry-After")) >= 1);
  CHECK(limited.body.find("rate_limited") != std::string::npos);

  // Per client address: unknown tokens count too (a burst of 10 at 1/s, 5 spent above).
  int unknown = 0;
  int refused = 0;
  for (int i = 0; i < 12; ++i) {
    const auto r = http.get("/s/" + std::string(43, 'B'));
    if (r.status == 404) ++unknown;
    if (r.status == 429) ++refused;
  }
  CHECK(unknown <= 5);
  CHECK(refused >= 7);
}

TEST_CASE(
    "pairing codes: bad numbers are refused, a good one gets the emulator's code, and "
    "confirming it authorizes the instance") {
  LinkFleet fleet(kScenario, fastEnv());
  const auto http = fleet.http();
  const Id id = fleet.awaitInState("notAuthorized");
  const Id via_link = fleet.awaitInState("notAuthorized", 1);
  const Id authorized = fleet.awaitInState("authorized");
  const std::string path = fmt::format("/api/v1/instances/{}/pairing-code", id);

  for (const char* bad :
       {R"({"phoneNumber":"+441234567890"})", R"({"phoneNumber":"00441234567890"})",
        R"({"phoneNumber":123456789})", R"({"phoneNumber":1234567890123456})",
        R"({"phoneNumber":"44 1234 567890"})", R"({"phoneNumber":-441234567890})",
        R"({"phoneNumber":"0441234567"})"}) {
    CAPTURE(bad);
    const auto r = http.post(path, bad, fleet.key());
    CHECK(r.status == 422);
    CHECK(r.body.find("\"field\":\"phoneNumber\"") != std::string::npos);
  }
  CHECK(http.post(path, R"({"phoneNumber":true})", fleet.key()).status == 400);
  CHECK(http.post(path, R"({"phone":441234567890})", fleet.key()).status == 400);
  CHECK(http.post(path, "", fleet.key()).status == 400);
  CHECK(http.post(path, R"({"phoneNumber":441234567890})").status == 401);
  CHECK(http.post(fmt::format("/api/v1/instances/{}/pairing-code", authorized),
                  R"({"phoneNumber":441234567890})", fleet.key())
            .status == 409);
  // None of these reached Green API.
  CHECK(fleet.emu->instance(id)->isNull("pairingCode"));

  const auto r = http.post(path, R"({"phoneNumber":441234567890})", fleet.key());
  REQUIRE_MESSAGE(r.status == 200, r.body);
  const auto answer = parseObject(r.body);
  const auto pending = fleet.emu->instance(id)->getObject("pairingCode");
  REQUIRE(pending);
  CHECK(answer->getValue<std::string>("code") == pending->getValue<std::string>("code"));
  CHECK(pending->getValue<std::int64_t>("phoneNumber") == 441234567890);
  CHECK(answer->getValue<int>("lifetimeSeconds") == 150);
  CHECK(!answer->getValue<std::string>("expiresAt").empty());
  // One request per instance at a time, spaced: a second one at once is refused here.
  const auto again = http.post(path, R"({"phoneNumber":441234567890})", fleet.key());
  CHECK(again.status == 429);
  CHECK(std::stoi(again.header("Retry-After")) >= 1);
  CHECK(fleet.events(id, "pairing_code") == std::vector<std::string>{"api|initial-admin"});

  // The phone holder types the code: the emulator authorizes, greenfleet follows.
  CHECK(fleet.emu->http()
            .post(fmt::format("/_emulator/instances/{}/confirm-code", id), R"({"code":"WRONG123"})")
            .status == 409);
  CHECK(fleet.emu->http()
            .post(fmt::format("/_emulator/instances/{}/confirm-code", id),
                  fmt::format(R"({{"code":"{}"}})", answer->getValue<std::string>("code")))
            .status == 200);
  CHECK(waitFor([&] { return fleet.liveState(id) == "authorized"; }, 20s));

  // From a scan link's page, with no key.
  const std::string link_path = pathOf(fleet.createLink(via_link)->getValue<std::string>("url"));
  CHECK(http.post(link_path + "/pairing-code", R"({"phoneNumber":"+4412"})").status == 422);
  const auto from_page = http.post(link_path + "/pairing-code", R"({"phoneNumber":447700900123})");
  REQUIRE_MESSAGE(from_page.status == 200, from_page.body);
  CHECK(parseObject(from_page.body)->getValue<std::string>("code") ==
        fleet.emu->instance(via_link)->getObject("pairingCode")->getValue<std::string>("code"));
  CHECK(http.post("/s/" + std::string(43, 'C') + "/pairing-code", R"({"phoneNumber":447700900123})")
            .status == 404);
  const auto events = fleet.events(via_link, "pairing_code");
  REQUIRE(events.size() == 1);
  CHECK(events[0].rfind("scan link #", 0) == 0);
}
