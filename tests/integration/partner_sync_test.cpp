// Issue 17, partner accounts end to end: `greenfleet serve` syncs a partner account against the
// emulator's Partner API over loopback (real binaries, real SQLite file) — registers, rotates,
// expires, skips, leaves hand registrations alone, paces getInstances, reads HTTP-200 errors.
#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "support/emulator_process.hpp"
#include "support/json.hpp"
#include "support/server_fixture.hpp"
#include "support/wait_for.hpp"

using namespace greenfleet::testing;
using namespace std::chrono_literals;

namespace {

using Env = std::map<std::string, std::string>;
using Id = std::int64_t;

Env partnerEnv(const std::string& sync_interval, const std::string& min_interval) {
  return {{"GREENFLEET_PARTNERS_SYNC_INTERVAL", sync_interval},
          {"GREENFLEET_PARTNERS_MIN_INTERVAL", min_interval},
          {"GREENFLEET_SCHEDULER_INTERVAL_AUTHORIZED_S", "1.25"},
          {"GREENFLEET_SCHEDULER_STARTUP_SPREAD_S", "1"},
          {"GREENFLEET_LOG_LEVEL", "debug"}};
}

struct PartnerWorld {
  std::unique_ptr<EmulatorProcess> emu;
  std::unique_ptr<ServerFixture> server;
  std::vector<EmulatedCredentials> all;
  std::string partner_token;

  PartnerWorld(int instances, Env env) {
    emu = std::make_unique<EmulatorProcess>(std::vector<std::string>{
        "--instances", std::to_string(instances), "--state", "authorized"});
    server = std::make_unique<ServerFixture>(std::vector<std::string>{}, std::move(env));
    all = emu->instances();
    partner_token = parseObject(emu->http().get("/_emulator/instances").body)
                        ->getValue<std::string>("partnerToken");
  }
  HttpClient http() const { return server->client(); }
  const std::string& key() const { return server->adminKey(); }

  std::string partnerJson(const std::string& name, const std::string& token) const {
    return fmt::format(
        R"({{"name":"{}","partnerToken":"{}","partnerApiUrl":"{}","tags":["partner"],)"
        R"("apiUrlTemplate":"{}"}})",
        name, token, emu->apiUrl(), emu->apiUrl());
  }
  Poco::JSON::Object::Ptr partner(Id id) const {
    const auto r = http().get("/api/v1/partners/" + std::to_string(id), key());
    REQUIRE(r.status == 200);
    return parseObject(r.body);
  }
  // The account's last sync once there is one.
  Poco::JSON::Object::Ptr lastSyncOf(Id id) const {
    Poco::JSON::Object::Ptr out;
    REQUIRE(waitFor([&] {
      const auto p = partner(id);
      if (p->isNull("lastSync")) return false;
      out = p->getObject("lastSync");
      return true;
    }));
    return out;
  }
  Poco::JSON::Object::Ptr instance(Id id) const {
    const auto r = http().get("/api/v1/instances/" + std::to_string(id), key());
    REQUIRE(r.status == 200);
    return parseObject(r.body);
  }
  int setListing(Id id, const std::string& json) const {
    return emu->http().post(fmt::format("/_emulator/instances/{}/partner", id), json).status;
  }
  long long partnerCalls() const {
    return emu->counters()->getObject("partner")->getValue<long long>("getInstances");
  }
  // Accepted (authenticated) and total getStateInstance calls of one instance since the reset.
  std::pair<long long, long long> stateCalls(Id id) const {
    const auto instances = emu->counters()->getObject("instances");
    if (!instances || !instances->has(std::to_string(id))) return {0, 0};
    const auto m = instances->getObject(std::to_string(id))->getObject("getStateInstance");
    if (!m) return {0, 0};
    return {m->getValue<long long>("accepted"), m->getValue<long long>("requests")};
  }
};

bool hasEvent(const PartnerWorld& w, Id id, const std::string& type) {
  const auto r = w.http().get(fmt::format("/api/v1/events?type={}", type), w.key());
  REQUIRE(r.status == 200);
  const auto items = parseObject(r.body)->getArray("items");
  for (std::size_t i = 0; i < items->size(); ++i) {
    const auto e = items->getObject(static_cast<unsigned>(i));
    if (e->getValue<Id>("id") == id && e->getValue<std::string>("source") == "partner") return true;
  }
  return false;
}

}  // namespace

TEST_CASE(
    "a partner sync registers, rotates, expires and skips, and never touches hand registrations") {
  PartnerWorld w(6, partnerEnv("3600", "0.2"));
  const auto& all = w.all;
  const Id telegram = all[4].idInstance;
  const Id by_hand = all[5].idInstance;
  REQUIRE(w.setListing(telegram, R"({"typeInstance":"telegram"})") == 200);
  REQUIRE(w.http()
              .post("/api/v1/instances",
                    fmt::format(
                        R"({{"id":{},"token":"{}","apiUrl":"{}","name":"mine","tags":["own"]}})",
                        by_hand, all[5].apiTokenInstance, w.emu->apiUrl()),
                    w.key())
              .status == 201);

  auto r = w.http().post("/api/v1/partners", w.partnerJson("main", w.partner_token), w.key());
  REQUIRE(r.status == 201);
  CHECK(r.header("Location") == "/api/v1/partners/1");
  auto body = parseObject(r.body);
  CHECK(body->getValue<std::string>("tokenHint") ==
        "\u2026" + w.partner_token.substr(w.partner_token.size() - 4));
  CHECK_FALSE(body->has("partnerToken"));

  // A new account is synced at once.
  auto sync = w.lastSyncOf(1);
  CHECK(sync->getValue<bool>("ok"));
  CHECK(sync->getValue<int>("listed") == 6);
  CHECK(sync->getValue<int>("added") == 4);
  CHECK(sync->getValue<int>("notManaged") == 1);
  REQUIRE(sync->getArray("skipped")->size() == 1);
  CHECK(sync->getArray("skipped")->getObject(0)->getValue<Id>("id") == telegram);
  CHECK(sync->getArray("skipped")->getObject(0)->getValue<std::string>("typeInstance") ==
        "telegram");
  CHECK(w.partner(1)->getValue<int>("instances") == 4);

  const auto added = w.instance(all[0].idInstance);
  CHECK(added->getValue<std::string>("apiUrl") == w.emu->apiUrl());
  CHECK(added->getValue<std::string>("name") == fmt::format("Instance {}", all[0].idInstance));
  CHECK(added->getArray("tags")->getElement<std::string>(0) == "partner");
  CHECK(w.http().get("/api/v1/instances/" + std::to_string(telegram), w.key()).status == 404);
  const auto mine = w.instance(by_hand);
  CHECK(mine->getValue<std::string>("name") == "mine");
  CHECK(mine->getArray("tags")->getElement<std::string>(0) == "own");
  // lastSync is committed with the registry; the events follow through the status writer.
  CHECK(waitFor([&] { return hasEvent(w, all[0].idInstance, "partner_instance_added"); }));
  // Polled: the registered instances reach their live state.
  REQUIRE(waitFor([&] {
    const auto o = w.instance(all[1].idInstance);
    return !o->isNull("state") && o->getValue<std::string>("state") == "authorized";
  }));

  // Upstream: a token rotated, one instance deleted, one expired; the hand-registered one deleted.
  const Id rotated = all[1].idInstance, deleted = all[2].idInstance, expired = all[3].idInstance;
  REQUIRE(w.setListing(rotated, R"({"rotateToken":true})") == 200);
  REQUIRE(w.setListing(deleted, R"({"deleted":true})") == 200);
  REQUIRE(w.setListing(expired, R"({"isExpired":true})") == 200);
  REQUIRE(w.setListing(by_hand, R"({"deleted":true})") == 200);
  const std::string new_token = w.emu->instance(rotated)->getValue<std::string>("apiTokenInstance");
  REQUIRE(new_token != all[1].apiTokenInstance);

  HttpResponse answer;
  REQUIRE(waitFor([&] {
    answer = w.http().post("/api/v1/partners/1/sync", "", w.key());
    return answer.status != 429;
  }));
  REQUIRE(answer.status == 200);
  sync = parseObject(answer.body);
  CHECK(sync->getValue<int>("added") == 0);
  CHECK(sync->getValue<int>("updated") == 1);
  CHECK(sync->getValue<int>("expired") == 2);
  CHECK(sync->getValue<int>("unchanged") == 1);
  CHECK(sync->getValue<int>("notManaged") == 1);

  for (const Id id : {deleted, expired}) {
    const auto o = w.instance(id);
    CHECK(o->getValue<std::string>("attention") == "expired");
    CHECK_FALSE(o->getValue<bool>("enabled"));
    CHECK(hasEvent(w, id, "partner_instance_expired"));
  }
  CHECK(hasEvent(w, rotated, "partner_token_rotated"));
  CHECK(w.instance(by_hand)->getValue<bool>("enabled"));  // hand registration untouched
  r = w.http().get("/api/v1/instances?attention=expired", w.key());
  REQUIRE(r.status == 200);
  CHECK(parseObject(r.body)->getValue<int>("total") == 2);
  CHECK(w.partner(1)->getValue<int>("expiredInstances") == 2);

  // Polling goes on with the new token, and stops for the expired ones.
  w.emu->resetCounters();
  REQUIRE(waitFor([&] { return w.stateCalls(rotated).first >= 2; }));
  CHECK(w.stateCalls(rotated).first == w.stateCalls(rotated).second);  // no 401 with an old token
  CHECK(w.stateCalls(deleted).second == 0);
  CHECK(w.stateCalls(expired).second == 0);

  r = w.http().get("/api/v1/summary", w.key());
  REQUIRE(r.status == 200);
  const auto partners = parseObject(r.body)->getObject("partners");
  REQUIRE(partners);
  CHECK(partners->getValue<int>("accounts") == 1);
  CHECK(partners->getValue<int>("expired") == 2);
  CHECK(partners->getValue<int>("updated") == 1);
  CHECK_FALSE(partners->isNull("lastSyncAt"));

  // History is kept across a restart; expired ones stay unpolled.
  w.server->restart();
  CHECK(w.instance(deleted)->getValue<std::string>("attention") == "expired");

  const std::string log = w.server->log();
  CHECK(log.find(w.partner_token) == std::string::npos);
  CHECK(log.find(new_token) == std::string::npos);
  for (const auto& c : all) CHECK(log.find(c.apiTokenInstance) == std::string::npos);
  r = w.http().get("/api/v1/partners", w.key());
  CHECK(r.body.find(w.partner_token) == std::string::npos);
}

TEST_CASE(
    "getInstances is never called faster than partners.min_interval; a partner 401 is an error") {
  // Periodic syncs every 50 ms, but at most one call per account per hour.
  PartnerWorld w(2, partnerEnv("0.05", "3600"));
  const std::string wrong = "gac.000000000000000000000000000000000000000000";
  auto r = w.http().post("/api/v1/partners", w.partnerJson("wrong", wrong), w.key());
  REQUIRE(r.status == 201);
  const auto failed = w.lastSyncOf(1);
  CHECK_FALSE(failed->getValue<bool>("ok"));
  REQUIRE(failed->getArray("errors")->size() == 1);
  const auto error = failed->getArray("errors")->getElement<std::string>(0);
  CHECK(error.find("401") != std::string::npos);
  CHECK(error.find(wrong) == std::string::npos);
  CHECK(w.http().get("/api/v1/instances", w.key()).body.find("\"total\":0") != std::string::npos);

  for (int i = 0; i < 5; ++i) {
    r = w.http().post("/api/v1/partners/1/sync", "", w.key());
    CHECK(r.status == 429);
    CHECK(errorCode(r.body) == "sync_too_soon");
    CHECK(std::stoi(r.header("Retry-After")) > 3000);
  }
  // A fixed token is a change, not a licence to call sooner.
  REQUIRE(w.http()
              .patch("/api/v1/partners/1",
                     fmt::format(R"({{"partnerToken":"{}"}})", w.partner_token), w.key())
              .status == 200);
  CHECK(w.http().post("/api/v1/partners/1/sync", "", w.key()).status == 429);

  // A second account syncs once; meanwhile the first, due every 50 ms, was held back.
  REQUIRE(
      w.http().post("/api/v1/partners", w.partnerJson("right", w.partner_token), w.key()).status ==
      201);
  CHECK(w.lastSyncOf(2)->getValue<int>("added") == 2);
  CHECK(w.partnerCalls() == 2);
  r = w.http().get("/api/v1/summary", w.key());
  const auto partners = parseObject(r.body)->getObject("partners");
  CHECK(partners->getValue<int>("accounts") == 2);
  CHECK(partners->getValue<int>("failing") == 1);
  CHECK(partners->getValue<int>("errors") == 1);
  CHECK(w.server->log().find(wrong) == std::string::npos);
}

TEST_CASE(
    "a partner instance whose templated apiUrl upstream.allowed_hosts refuses is an error, not a "
    "registration") {
  PartnerWorld w(2, partnerEnv("3600", "0.2"));
  // The fixture allows loopback hosts only: Green API's own hosts are refused here.
  const auto json = fmt::format(R"({{"name":"main","partnerToken":"{}","partnerApiUrl":"{}",)"
                                R"("apiUrlTemplate":"https://{{first4}}.api.green-api.com"}})",
                                w.partner_token, w.emu->apiUrl());
  REQUIRE(w.http().post("/api/v1/partners", json, w.key()).status == 201);
  const auto sync = w.lastSyncOf(1);
  CHECK(sync->getValue<bool>("ok"));
  CHECK(sync->getValue<int>("listed") == 2);
  CHECK(sync->getValue<int>("added") == 0);
  const auto errors = sync->getArray("errors");
  REQUIRE(errors->size() == 2);
  for (std::size_t i = 0; i < errors->size(); ++i) {
    const auto e = errors->getElement<std::string>(static_cast<unsigned>(i));
    CAPTURE(e);
    CHECK(e.find(fmt::format("instance {}: apiUrl", w.all[i].idInstance)) != std::string::npos);
    CHECK(e.find("allowed_hosts") != std::string::npos);
    CHECK(e.find(w.all[i].apiTokenInstance) == std::string::npos);
    CHECK(e.find(w.partner_token) == std::string::npos);
    CHECK(w.http().get(fmt::format("/api/v1/instances/{}", w.all[i].idInstance), w.key()).status ==
          404);
  }
  CHECK(w.partner(1)->getValue<int>("instances") == 0);
}

TEST_CASE("partner account API validates its input and keeps the token write-only") {
  ServerFixture server({}, partnerEnv("3600", "3600"));
  const auto http = server.client();
  const auto& key = server.adminKey();
  const std::string token = "gac.02dff0c4fa944bc882bf207d379d9e3f0123456789";
  const auto post = [&](const std::string& json) {
    return http.post("/api/v1/partners", json, key);
  };
  struct Case {
    std::string json;
    int status;
    std::string code;
    std::string field;
  };
  const std::vector<Case> cases = {
      {R"({"partnerToken":"gac.1"})", 422, "invalid_value", "name"},
      {R"({"name":"a"})", 422, "invalid_value", "partnerToken"},
      {R"({"name":"","partnerToken":"gac.1"})", 422, "invalid_value", "name"},
      {R"({"name":"a","partnerToken":"has space"})", 422, "invalid_value", "partnerToken"},
      {R"({"name":"a","partnerToken":"gac.1","partnerApiUrl":"ftp://x"})", 422, "invalid_value",
       "partnerApiUrl"},
      {R"({"name":"a","partnerToken":"gac.1","apiUrlTemplate":"https://{id}.x"})", 422,
       "invalid_value", "apiUrlTemplate"},
      {R"({"name":"a","partnerToken":"gac.1","apiUrlTemplate":"ftp://{first4}.x"})", 422,
       "invalid_value", "apiUrlTemplate"},
      {R"({"name":"a","partnerToken":"gac.1","apiUrlTemplate":"https://x?y={first4}"})", 422,
       "invalid_value", "apiUrlTemplate"},
      {R"({"name":"a","partnerToken":"gac.1","partnerApiUrl":"https://elsewhere.example"})", 422,
       "invalid_value", "partnerApiUrl"},
      {R"({"name":"a","partnerToken":"gac.1","tags":[""]})", 422, "invalid_value", "tags[0]"},
      {R"({"name":"a","partnerToken":"gac.1","extra":1})", 400, "unknown_field", "extra"},
      {R"({"name":1,"partnerToken":"gac.1"})", 400, "invalid_type", "name"},
      {R"([1])", 400, "invalid_type", ""},
  };
  for (const auto& c : cases) {
    CAPTURE(c.json);
    const auto r = post(c.json);
    CHECK(r.status == c.status);
    CHECK(errorCode(r.body) == c.code);
    if (!c.field.empty())
      CHECK(parseObject(r.body)->getObject("error")->getValue<std::string>("field") == c.field);
  }
  auto r = post(fmt::format(R"({{"name":"main","partnerToken":"{}"}})", token));
  REQUIRE(r.status == 201);
  auto body = parseObject(r.body);
  // upstream.default_api_url of the fixture (a closed loopback port): the partner API's default.
  CHECK(body->getValue<std::string>("partnerApiUrl") == kClosedLoopbackApiUrl);
  CHECK(body->getValue<std::string>("apiUrlTemplate") == "https://{first4}.api.green-api.com");
  CHECK(post(fmt::format(R"({{"name":"main","partnerToken":"{}"}})", token)).status == 409);
  CHECK(http.get("/api/v1/partners/abc", key).status == 404);
  CHECK(http.get("/api/v1/partners/99", key).status == 404);
  r = http.patch("/api/v1/partners/1", "{}", key);
  CHECK(r.status == 422);
  r = http.patch("/api/v1/partners/1", R"({"partnerApiUrl":"https://elsewhere.example"})", key);
  CHECK(r.status == 422);
  CHECK(parseObject(r.body)->getObject("error")->getValue<std::string>("field") == "partnerApiUrl");
  r = http.patch("/api/v1/partners/1", R"({"name":"renamed","tags":["a"]})", key);
  REQUIRE(r.status == 200);
  CHECK(parseObject(r.body)->getValue<std::string>("name") == "renamed");
  CHECK(http.post("/api/v1/partners/99/sync", "", key).status == 404);
  for (const auto& path : {"/api/v1/partners", "/api/v1/partners/1"}) {
    r = http.get(path, key);
    CHECK(r.status == 200);
    CHECK(r.body.find(token) == std::string::npos);
  }
  CHECK(http.del("/api/v1/partners/1", key).status == 204);
  CHECK(http.get("/api/v1/partners/1", key).status == 404);
  CHECK(http.del("/api/v1/partners/1", key).status == 404);
  CHECK(server.log().find(token) == std::string::npos);
}
