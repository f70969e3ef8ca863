// configure-webhook end to end: `greenfleet serve` (real binary, real SQLite file) sets each
// instance's webhook on the real emulator over loopback (setSettings, then getSettings), within
// Green API's limits; the emulator then announces state changes to greenfleet with each
// instance's own webhookUrlToken, and getSettings behind greenfleet's back shows up as mismatch.
#include <doctest/doctest.h>

#include <chrono>
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

constexpr int kTagged = 50;

// Probes only when asked (60 s intervals, and no confirming probe within the test: a probe that
// confirms one webhook could otherwise read the next change before its own webhook lands), so only
// a webhook can move an instance quickly.
Env quietEnv() {
  return greenfleet::testing::quietServerEnv({{"GREENFLEET_WEBHOOKS_CONFIGURE_PER_SECOND", "50"},
                                              {"GREENFLEET_SCHEDULER_CONFIRM_DELAY_S", "60"}});
}

std::string bearer(const std::string& token) { return "Bearer " + token; }

std::string stateWebhook(Id id, const std::string& state) {
  return fmt::format(
      R"({{"typeWebhook":"stateInstanceChanged","instanceData":{{"idInstance":{},"wid":"",)"
      R"("typeInstance":"whatsapp"}},"timestamp":1705902314,"stateInstance":"{}"}})",
      id, state);
}

// 52 notAuthorized instances on the emulator (the first 50 tagged "shop"), registered with a
// greenfleet that has no public.base_url yet; withBaseUrl() restarts it on the same port with
// public.base_url pointing at itself.
struct WebhookFleet {
  std::unique_ptr<EmulatorProcess> emu;
  std::unique_ptr<ServerFixture> server;
  std::vector<EmulatedCredentials> instances;

  WebhookFleet() {
    emu = std::make_unique<EmulatorProcess>(
        std::vector<std::string>{"--instances", std::to_string(kTagged + 2), "--state",
                                 "notAuthorized", "--reboot-ms", "300"});
    server = std::make_unique<ServerFixture>(std::vector<std::string>{}, quietEnv());
    instances = emu->instances();
    REQUIRE(instances.size() == kTagged + 2);
    std::string batch = "[";
    for (std::size_t i = 0; i < instances.size(); ++i) {
      batch += fmt::format(R"({}{{"id":{},"token":"{}","apiUrl":"{}","tags":[{}]}})", i ? "," : "",
                           instances[i].idInstance, instances[i].apiTokenInstance, emu->apiUrl(),
                           i < kTagged ? "\"shop\"" : "");
    }
    batch += "]";
    REQUIRE(http().post("/api/v1/instances", batch, key()).status == 201);
  }

  void withBaseUrl() {
    const int port = server->port();
    auto env = quietEnv();
    env["GREENFLEET_PUBLIC_BASE_URL"] = fmt::format("http://127.0.0.1:{}/", port);
    server->setEnv(env);
    server->setExtraArgs({"--port", std::to_string(port)});
    server->restart();
    REQUIRE(server->port() == port);
  }

  HttpClient http() const { return server->client(); }
  const std::string& key() const { return server->adminKey(); }

  Poco::JSON::Object::Ptr instance(Id id) const {
    const auto r = http().get(fmt::format("/api/v1/instances/{}", id), key());
    REQUIRE(r.status == 200);
    return parseObject(r.body);
  }
  std::string webhookOf(Id id) const { return instance(id)->getValue<std::string>("webhook"); }

  // What the emulator's getSettings shows, read on the wire like Green API's console would.
  Poco::JSON::Object::Ptr settingsOf(const EmulatedCredentials& c) const {
    HttpResponse r;
    // 1 getSettings per second per instance: a 429 right after greenfleet's call is retried.
    REQUIRE(waitFor(
        [&] {
          r = emu->http().get(emu->wirePath(c, "getSettings"));
          return r.status == 200;
        },
        5s, 100ms));
    return parseObject(r.body);
  }
  // setSettings on the wire, behind greenfleet's back.
  void setSettings(const EmulatedCredentials& c, const std::string& json) const {
    REQUIRE(waitFor(
        [&] { return emu->http().post(emu->wirePath(c, "setSettings"), json).status == 200; }, 5s,
        100ms));
  }
  // An action, retried while greenfleet's own spacing for the instance answers 429.
  HttpResponse action(Id id, const std::string& name) const {
    HttpResponse r;
    REQUIRE(waitFor(
        [&] {
          r = http().post(fmt::format("/api/v1/instances/{}/actions/{}", id, name), "", key());
          return r.status != 429;
        },
        5s, 100ms));
    return r;
  }
};

}  // namespace

TEST_CASE("configure-webhook needs public.base_url and says so") {
  WebhookFleet fleet;
  const Id id = fleet.instances.at(0).idInstance;
  for (const auto& [path, body] : std::vector<std::pair<std::string, std::string>>{
           {fmt::format("/api/v1/instances/{}/actions/configure-webhook", id), ""},
           {fmt::format("/api/v1/instances/{}/actions/verify-webhook", id), ""},
           {"/api/v1/webhooks/configure", R"({"tag":"shop"})"},
           {"/api/v1/webhooks/configure", R"({"all":true})"}}) {
    CAPTURE(path);
    const auto r = fleet.http().post(path, body, fleet.key());
    CHECK(r.status == 409);
    CHECK(errorCode(r.body) == "base_url_missing");
    CHECK(r.body.find("public.base_url") != std::string::npos);
  }
  // Nothing reached Green API.
  const auto methods = fleet.emu->counters()->getObject("methods");
  CHECK_FALSE(methods->has("setSettings"));
  CHECK_FALSE(methods->has("getSettings"));
  // Bad job bodies are refused before anything else.
  for (const std::string body : {R"({})", R"({"tag":"shop","all":true})", R"({"all":false})",
                                 R"({"tag":7})", R"({"tags":["shop"]})", "[]"}) {
    CAPTURE(body);
    const auto r = fleet.http().post("/api/v1/webhooks/configure", body, fleet.key());
    CHECK(r.status >= 400);
    CHECK(r.status < 500);
    CHECK(r.status != 409);
  }
  CHECK(fleet.http().post("/api/v1/webhooks/configure", R"({"all":true})", "").status == 401);
  CHECK(fleet.instance(id)->getValue<std::string>("webhook") == "unknown");
}

TEST_CASE(
    "configure-webhook for a tag of 50 instances stays within the limits, and each instance's "
    "own token then carries its state changes") {
  WebhookFleet fleet;
  fleet.withBaseUrl();
  fleet.emu->resetCounters();
  const auto http = fleet.http();

  const auto started = http.post("/api/v1/webhooks/configure", R"({"tag":"shop"})", fleet.key());
  REQUIRE(started.status == 202);
  const auto job = parseObject(started.body);
  CHECK(job->getValue<int>("total") == kTagged);
  CHECK(job->getValue<std::string>("webhookUrl") ==
        fmt::format("http://127.0.0.1:{}/webhooks/green-api", fleet.server->port()));
  CHECK(job->getValue<std::string>("notice").find("reboot") != std::string::npos);
  const auto job_path = started.header("Location");
  REQUIRE(job_path == fmt::format("/api/v1/webhooks/configure/{}", job->getValue<int>("id")));

  Poco::JSON::Object::Ptr progress;
  REQUIRE(waitFor(
      [&] {
        progress = parseObject(http.get(job_path, fleet.key()).body);
        return progress->getValue<std::string>("state") == "done";
      },
      30s, 100ms));
  CAPTURE(toJsonForCapture(progress));
  CHECK(progress->getValue<int>("processed") == kTagged);
  CHECK(progress->getValue<int>("configured") == kTagged);
  CHECK(progress->getValue<int>("failed") == 0);

  // Green API's limits held: one setSettings and one getSettings per instance, no 429. (Not
  // checked for getStateInstance: the restarted server's first probes follow the first server's
  // by less than a second, two processes each within its own limits.)
  const auto counters = fleet.emu->counters();
  const auto methods = counters->getObject("methods");
  for (const char* method : {"setSettings", "getSettings"}) {
    CAPTURE(method);
    REQUIRE(methods->has(method));
    const auto m = methods->getObject(method);
    CHECK(m->getValue<int>("requests") == kTagged);
    CHECK(m->getValue<int>("rateLimited") == 0);
    CHECK(m->getValue<int>("maxPerSecond") <= 1);
  }
  const Id untagged = fleet.instances.at(kTagged).idInstance;
  const auto per_instance = counters->getObject("instances");
  const bool untagged_set = per_instance->has(std::to_string(untagged)) &&
                            per_instance->getObject(std::to_string(untagged))->has("setSettings");
  CHECK_FALSE(untagged_set);

  // Shown per instance and counted.
  const auto& a = fleet.instances.at(0);
  const auto& b = fleet.instances.at(1);
  CHECK(fleet.webhookOf(a.idInstance) == "configured");
  CHECK(fleet.webhookOf(untagged) == "unknown");
  REQUIRE(waitFor(
      [&] {
        const auto by =
            parseObject(http.get("/api/v1/summary", fleet.key()).body)->getObject("byWebhook");
        return by->getValue<int>("configured") == kTagged && by->getValue<int>("unknown") == 2 &&
               by->getValue<int>("mismatch") == 0 && by->getValue<int>("missing") == 0;
      },
      5s, 100ms));

  // The emulator holds what greenfleet set: its URL, a token per instance, stateWebhook yes.
  const auto a_settings = fleet.settingsOf(a);
  const auto b_settings = fleet.settingsOf(b);
  CHECK(a_settings->getValue<std::string>("stateWebhook") == "yes");
  CHECK(a_settings->getValue<std::string>("webhookUrl") ==
        job->getValue<std::string>("webhookUrl"));
  const auto a_token = a_settings->getValue<std::string>("webhookUrlToken");
  const auto b_token = b_settings->getValue<std::string>("webhookUrlToken");
  CHECK(a_token.size() == 64);
  CHECK(a_token != b_token);

  // A state change in the emulator reaches greenfleet through a's own webhook (no global
  // webhooks.token is set, and no probe is due for 60 s).
  REQUIRE(waitFor([&] { return fleet.emu->stateOf(a.idInstance) == "notAuthorized"; }, 10s));
  REQUIRE(waitFor(
      [&] {
        return fleet.instance(a.idInstance)->getValue<std::string>("state") == "notAuthorized";
      },
      10s, 50ms));
  REQUIRE(fleet.emu->scan(a.idInstance) == 200);
  CHECK(waitFor(
      [&] { return fleet.instance(a.idInstance)->getValue<std::string>("state") == "authorized"; },
      10s, 50ms));
  // The event is committed by the status writer a batch later.
  const auto authorized_by_webhook = [&] {
    const auto events =
        parseObject(
            http.get(fmt::format("/api/v1/instances/{}/events", a.idInstance), fleet.key()).body)
            ->getArray("items");
    for (std::size_t i = 0; i < events->size(); ++i) {
      const auto e = events->getObject(static_cast<unsigned>(i));
      if (!e->isNull("toState") && e->getValue<std::string>("toState") == "authorized" &&
          e->getValue<std::string>("source") == "webhook") {
        return true;
      }
    }
    return false;
  };
  const bool by_webhook = waitFor(authorized_by_webhook, 5s, 50ms);
  CHECK(by_webhook);
  const auto webhooks = fleet.emu->counters()->getObject("webhooks");
  CHECK(webhooks->getValue<int>("sent") >= 1);
  CHECK(webhooks->getValue<int>("failed") == 0);

  // An instance's token vouches for that instance only; a wrong one is refused.
  auto post = [&](const std::string& body, const std::string& token) {
    HttpRequest r;
    r.method = "POST";
    r.path = "/webhooks/green-api";
    r.body = body;
    r.headers = {{"Content-Type", "application/json"}, {"Authorization", bearer(token)}};
    return http.send(r);
  };
  const auto blocked_a = stateWebhook(a.idInstance, "blocked");
  CHECK(post(blocked_a, b_token).status == 401);
  CHECK(post(blocked_a, std::string(64, '0')).status == 401);
  CHECK(post(blocked_a, a.apiTokenInstance).status == 401);
  CHECK(errorCode(post(blocked_a, b_token).body) == "unauthorized");
  const auto own = post(stateWebhook(a.idInstance, "authorized"), a_token);
  CHECK(own.status == 200);
  CHECK(parseObject(own.body)->getValue<std::string>("status") == "applied");
  CHECK(fleet.instance(a.idInstance)->getValue<std::string>("state") == "authorized");

  // Tokens never leave greenfleet: not in its answers, not in its log.
  const std::string answers = started.body + http.get(job_path, fleet.key()).body +
                              http.get("/api/v1/instances?limit=100", fleet.key()).body +
                              http.get("/api/v1/summary", fleet.key()).body +
                              http.get("/api/v1/webhooks/configure", fleet.key()).body;
  const auto log = fleet.server->log();
  for (const auto& secret : {a_token, b_token, a.apiTokenInstance}) {
    CHECK(answers.find(secret) == std::string::npos);
    CHECK(log.find(secret) == std::string::npos);
  }
}

TEST_CASE("settings changed behind greenfleet's back verify as mismatch or missing") {
  WebhookFleet fleet;
  fleet.withBaseUrl();
  const auto& c = fleet.instances.at(0);
  const auto& d = fleet.instances.at(1);
  const auto& fresh = fleet.instances.at(kTagged);

  // One instance at a time: configured, and a second configure at once is spaced (429).
  auto r = fleet.action(c.idInstance, "configure-webhook");
  REQUIRE(r.status == 200);
  auto o = parseObject(r.body);
  CHECK(o->getValue<std::string>("webhook") == "configured");
  CHECK(o->getValue<std::string>("notice").find("reboot") != std::string::npos);
  const auto again = fleet.http().post(
      fmt::format("/api/v1/instances/{}/actions/configure-webhook", c.idInstance), "", fleet.key());
  CHECK(again.status == 429);
  CHECK_FALSE(again.header("Retry-After").empty());
  REQUIRE(fleet.action(d.idInstance, "configure-webhook").status == 200);
  CHECK(fleet.webhookOf(c.idInstance) == "configured");
  const auto c_token = fleet.settingsOf(c)->getValue<std::string>("webhookUrlToken");

  // Someone points c's webhook elsewhere and clears d's in the console.
  fleet.setSettings(c, R"({"webhookUrl":"http://127.0.0.1:9/other","stateWebhook":"no"})");
  fleet.setSettings(d, R"({"webhookUrl":""})");
  CHECK(fleet.webhookOf(c.idInstance) == "configured");  // not known until verified
  r = fleet.action(c.idInstance, "verify-webhook");
  REQUIRE(r.status == 200);
  CHECK(parseObject(r.body)->getValue<std::string>("webhook") == "mismatch");
  CHECK(fleet.action(d.idInstance, "verify-webhook").status == 200);
  CHECK(fleet.webhookOf(c.idInstance) == "mismatch");
  CHECK(fleet.webhookOf(d.idInstance) == "missing");
  // Never configured by greenfleet, nothing set: missing.
  CHECK(fleet.action(fresh.idInstance, "verify-webhook").status == 200);
  CHECK(fleet.webhookOf(fresh.idInstance) == "missing");
  const auto listed = parseObject(fleet.http().get("/api/v1/instances?limit=100", fleet.key()).body)
                          ->getArray("items");
  std::map<std::string, int> seen;
  for (std::size_t i = 0; i < listed->size(); ++i) {
    seen[listed->getObject(static_cast<unsigned>(i))->getValue<std::string>("webhook")]++;
  }
  CHECK(seen["mismatch"] == 1);
  CHECK(seen["missing"] == 2);
  CHECK(seen["unknown"] == kTagged - 1);  // 52 instances: c, d and fresh were checked
  REQUIRE(waitFor(
      [&] {
        const auto by = parseObject(fleet.http().get("/api/v1/summary", fleet.key()).body)
                            ->getObject("byWebhook");
        return by->getValue<int>("mismatch") == 1 && by->getValue<int>("missing") == 2 &&
               by->getValue<int>("configured") == 0;
      },
      5s, 100ms));

  // Configuring again repairs it, with the instance's token of before.
  fleet.setSettings(c, R"({"webhookUrlToken":"someone-else"})");
  REQUIRE(fleet.action(c.idInstance, "configure-webhook").status == 200);
  CHECK(fleet.webhookOf(c.idInstance) == "configured");
  const auto repaired = fleet.settingsOf(c);
  CHECK(repaired->getValue<std::string>("webhookUrlToken") == c_token);
  CHECK(repaired->getValue<std::string>("stateWebhook") == "yes");
}
