// Issue 5 end to end: `greenfleet serve` polls a fleet of emulated Green API instances over real
// HTTP on loopback (real emulator binary, real SQLite file) and tells which need a QR scan —
// without ever tripping one of Green API's per-instance rate limits.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <set>
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
using Clock = std::chrono::steady_clock;

// Scheduler settings through GREENFLEET_<KEY>: every state's interval `interval_s` (≥ 1.25 s, the
// account methods' 0.8 rps), first probes spread over `spread_s`, alarms confirmed after
// `confirm_s`. Debug logging, so the token check below sees every line the server can write.
Env schedulerEnv(double interval_s, double spread_s = 1, double confirm_s = 1) {
  const std::string interval = fmt::format("{}", interval_s);
  return {{"GREENFLEET_SCHEDULER_INTERVAL_AUTHORIZED_S", interval},
          {"GREENFLEET_SCHEDULER_INTERVAL_NOT_AUTHORIZED_S", interval},
          {"GREENFLEET_SCHEDULER_INTERVAL_STARTING_S", interval},
          {"GREENFLEET_SCHEDULER_INTERVAL_BLOCKED_S", interval},
          {"GREENFLEET_SCHEDULER_INTERVAL_OTHER_S", interval},
          {"GREENFLEET_SCHEDULER_STARTUP_SPREAD_S", fmt::format("{}", spread_s)},
          {"GREENFLEET_SCHEDULER_CONFIRM_DELAY_S", fmt::format("{}", confirm_s)},
          {"GREENFLEET_LOG_LEVEL", "debug"}};
}

std::string idText(Id id) { return std::to_string(id); }

// Green API's limits, with greenfleet's margin for qr (it promises ≤ 2 rps of the allowed 3).
int limitOf(const std::string& method) { return method == "qr" ? 2 : 1; }

struct MethodCount {
  long long requests = 0;
  long long accepted = 0;
  long long rateLimited = 0;
  long long injectedFaults = 0;
  long long maxPerSecond = 0;
};
using Counters = std::map<Id, std::map<std::string, MethodCount>>;

Counters countersOf(const EmulatorProcess& emu) {
  Counters out;
  const auto instances = emu.counters()->getObject("instances");
  if (!instances) return out;
  for (const auto& [id, methods_var] : *instances) {
    const auto methods = methods_var.extract<Poco::JSON::Object::Ptr>();
    for (const auto& [method, var] : *methods) {
      const auto o = var.extract<Poco::JSON::Object::Ptr>();
      out[std::stoll(id)][method] = MethodCount{
          o->getValue<long long>("requests"), o->getValue<long long>("accepted"),
          o->getValue<long long>("rateLimited"), o->getValue<long long>("injectedFaults"),
          o->getValue<long long>("maxPerSecond")};
    }
  }
  return out;
}

MethodCount countOf(const Counters& c, Id id, const std::string& method) {
  const auto i = c.find(id);
  if (i == c.end()) return {};
  const auto m = i->second.find(method);
  return m == i->second.end() ? MethodCount{} : m->second;
}

long long sumOf(const Counters& c, const std::string& method, long long MethodCount::*field) {
  long long sum = 0;
  for (const auto& [id, methods] : c) {
    const auto m = methods.find(method);
    if (m != methods.end()) sum += m->second.*field;
  }
  return sum;
}

// Every (instance, method) the emulator saw: no real 429 (injected ones are counted apart) and
// never more accepted requests in one sliding second than the limit.
void checkNoLimitExceeded(const EmulatorProcess& emu) {
  std::vector<std::string> violations;
  for (const auto& [id, methods] : countersOf(emu)) {
    for (const auto& [method, c] : methods) {
      if (c.rateLimited != 0 || c.maxPerSecond > limitOf(method)) {
        violations.push_back(fmt::format("{} {}: rateLimited={} maxPerSecond={}", id, method,
                                         c.rateLimited, c.maxPerSecond));
      }
    }
  }
  INFO("violations: " << fmt::format("{}", fmt::join(violations, "; ")));
  CHECK(violations.empty());
}

// An emulator started from a scenario file, and a server with the given environment.
struct Fleet {
  TempDir dir;
  std::unique_ptr<EmulatorProcess> emu;
  std::unique_ptr<ServerFixture> server;
  std::vector<EmulatedCredentials> all;  // the emulator's fleet, in creation order

  Fleet(const std::string& scenario_json, Env env, std::vector<std::string> emulator_args = {}) {
    const std::string path = dir.file("scenario.json");
    std::ofstream(path) << scenario_json;
    emulator_args.insert(emulator_args.begin(), {"--scenario", path});
    emu = std::make_unique<EmulatorProcess>(std::move(emulator_args));
    server = std::make_unique<ServerFixture>(std::vector<std::string>{}, std::move(env));
    all = emu->instances();
  }

  HttpClient http() const { return server->client(); }
  const std::string& key() const { return server->adminKey(); }

  std::vector<EmulatedCredentials> inState(const std::string& state) const {
    std::vector<EmulatedCredentials> out;
    for (const auto& c : all) {
      if (c.state == state) out.push_back(c);
    }
    return out;
  }

  std::string instanceJson(const EmulatedCredentials& c, const std::string& api_url = {}) const {
    return fmt::format(R"({{"id":{},"token":"{}","apiUrl":"{}","name":"emulated {}"}})",
                       c.idInstance, c.apiTokenInstance, api_url.empty() ? emu->apiUrl() : api_url,
                       c.idInstance);
  }

  // One batch POST of all of `which`, served by `upstream` (default: this fleet's emulator).
  void registerAll(const std::vector<EmulatedCredentials>& which,
                   const EmulatorProcess* upstream = nullptr) const {
    const std::string api_url = (upstream != nullptr ? upstream : emu.get())->apiUrl();
    std::string batch = "[";
    for (std::size_t i = 0; i < which.size(); ++i) {
      batch += (i ? "," : "") + instanceJson(which[i], api_url);
    }
    batch += "]";
    const auto r = http().post("/api/v1/instances", batch, key());
    REQUIRE(r.status == 201);
    REQUIRE(parseObject(r.body)->getValue<std::size_t>("created") == which.size());
  }

  Poco::JSON::Object::Ptr instance(Id id) const {
    const auto r = http().get("/api/v1/instances/" + idText(id), key());
    REQUIRE(r.status == 200);
    return parseObject(r.body);
  }

  // The live state greenfleet shows; "" while it has none.
  std::string stateOf(Id id) const {
    const auto o = instance(id);
    return o->isNull("state") ? std::string() : o->getValue<std::string>("state");
  }

  bool checked(Id id) const { return !instance(id)->isNull("lastCheckedAt"); }

  // Every registered instance's stored lastError ("" when none), all pages of the list.
  std::map<Id, std::string> storedErrors() const {
    std::map<Id, std::string> out;
    std::string cursor;
    do {
      const auto r = http().get(
          "/api/v1/instances?limit=1000" + (cursor.empty() ? "" : "&cursor=" + cursor), key());
      REQUIRE(r.status == 200);
      const auto page = parseObject(r.body);
      const auto items = page->getArray("items");
      for (std::size_t i = 0; i < items->size(); ++i) {
        const auto o = items->getObject(static_cast<unsigned>(i));
        out[o->getValue<Id>("id")] =
            o->isNull("lastError") ? std::string() : o->getValue<std::string>("lastError");
      }
      cursor =
          page->isNull("nextCursor") ? std::string() : page->getValue<std::string>("nextCursor");
    } while (!cursor.empty());
    return out;
  }

  // The stored-status list filter's total.
  long long storedTotal(const std::string& state) const {
    const auto r = http().get("/api/v1/instances?limit=1&state=" + state, key());
    REQUIRE(r.status == 200);
    return parseObject(r.body)->getValue<long long>("total");
  }

  Poco::JSON::Object::Ptr needsScan() const {
    const auto r = http().get("/api/v1/needs-scan", key());
    REQUIRE(r.status == 200);
    return parseObject(r.body);
  }

  std::vector<Id> needsScanIds() const {
    std::vector<Id> ids;
    const auto items = needsScan()->getArray("items");
    for (std::size_t i = 0; i < items->size(); ++i) {
      ids.push_back(items->getObject(static_cast<unsigned>(i))->getValue<Id>("id"));
    }
    return ids;
  }

  // Stored totals per state agree with the emulator's fleet (every registered instance read).
  bool storedMatches(const std::vector<EmulatedCredentials>& registered) const {
    std::map<std::string, long long> want;
    for (const auto& c : registered) ++want[c.state];
    for (const auto& [state, n] : want) {
      if (storedTotal(state) != n) return false;
    }
    return true;
  }

  // Ids whose live state differs from the emulator's truth now.
  std::vector<std::string> liveMismatches(
      const std::vector<EmulatedCredentials>& registered) const {
    std::map<Id, std::string> truth;
    for (const auto& c : emu->instances()) truth[c.idInstance] = c.state;
    std::vector<std::string> out;
    for (const auto& c : registered) {
      const std::string ours = stateOf(c.idInstance);
      if (ours != truth[c.idInstance]) {
        out.push_back(
            fmt::format("{}: ours '{}' emulator '{}'", c.idInstance, ours, truth[c.idInstance]));
      }
    }
    return out;
  }

  // Stops the server and checks its log (every run) names no emulator token.
  void checkNoTokenInLog() {
    CHECK(server->stop() == 0);
    const std::string log = server->log();
    REQUIRE_FALSE(log.empty());
    std::vector<Id> leaked;
    for (const auto& c : emu->instances()) {
      if (log.find(c.apiTokenInstance) != std::string::npos) leaked.push_back(c.idInstance);
    }
    INFO("tokens of these instances are in the log: " << fmt::format("{}", fmt::join(leaked, ",")));
    CHECK(leaked.empty());
  }
};

std::string mixedFleetScenario() {
  // starting stays starting for the whole test; logged-out instances need a scan after 200 ms.
  return R"({"instances":{"authorized":120,"notAuthorized":40,"starting":20,"blocked":10,)"
         R"("suspended":10},)"
         R"("delays":{"startingMs":600000,"logoutMs":200}})";
}

HttpResponse getWith(const HttpClient& http, const std::string& path, const std::string& key,
                     const std::string& accept) {
  HttpRequest req;
  req.path = path;
  req.headers["Authorization"] = "Bearer " + key;
  if (!accept.empty()) req.headers["Accept"] = accept;
  return http.send(req);
}

}  // namespace

TEST_CASE("a fleet of 200 in mixed states converges to the emulator's truth") {
  Fleet fleet(mixedFleetScenario(), schedulerEnv(2));
  REQUIRE(fleet.all.size() == 200);
  fleet.registerAll(fleet.all);

  // Blocked, suspended and notAuthorized are worse readings: they are stored after the confirming
  // probe one confirm delay later.
  CHECK(waitFor([&] { return fleet.storedMatches(fleet.all); }, 30s, 200ms));
  CHECK(fleet.storedTotal("notAuthorized") == 40);
  CHECK(fleet.storedTotal("authorized") == 120);
  CHECK(fleet.storedTotal("starting") == 20);

  std::vector<std::string> mismatches;
  CHECK(
      waitFor([&] { return (mismatches = fleet.liveMismatches(fleet.all)).empty(); }, 10s, 200ms));
  INFO("mismatches: " << fmt::format("{}", fmt::join(mismatches, "; ")));
  CHECK(mismatches.empty());

  const auto one = fleet.instance(fleet.inState("blocked").front().idInstance);
  CHECK(one->getValue<std::string>("attention") == "blocked");
  CHECK_FALSE(one->isNull("lastCheckedAt"));
  CHECK_FALSE(one->isNull("nextCheckAt"));
  checkNoLimitExceeded(*fleet.emu);
  fleet.checkNoTokenInLog();
}

TEST_CASE("needs-scan lists exactly the notAuthorized instances, longest-waiting first") {
  Fleet fleet(mixedFleetScenario(), schedulerEnv(2));
  fleet.registerAll(fleet.all);
  std::set<Id> want;
  for (const auto& c : fleet.inState("notAuthorized")) want.insert(c.idInstance);
  REQUIRE(want.size() == 40);
  CHECK(waitFor(
      [&] {
        const auto ids = fleet.needsScanIds();
        return std::set<Id>(ids.begin(), ids.end()) == want;
      },
      30s, 100ms));

  // An authorized instance logged out now waits the shortest: it must come last.
  const Id late = fleet.inState("authorized").front().idInstance;
  REQUIRE(fleet.emu->http().post("/_emulator/instances/" + idText(late) + "/logout", "{}").status ==
          200);
  want.insert(late);
  CHECK(waitFor(
      [&] {
        const auto ids = fleet.needsScanIds();
        return std::set<Id>(ids.begin(), ids.end()) == want;
      },
      15s, 100ms));

  const auto body = fleet.needsScan();
  const auto items = body->getArray("items");
  CHECK(body->getValue<std::size_t>("total") == want.size());
  REQUIRE(items->size() == want.size());
  std::set<Id> seen;
  std::string previous_since;
  long long previous_wait = -1;
  for (std::size_t i = 0; i < items->size(); ++i) {
    const auto item = items->getObject(static_cast<unsigned>(i));
    const Id id = item->getValue<Id>("id");
    seen.insert(id);
    CHECK(item->getValue<std::string>("state") == "notAuthorized");
    CHECK(item->getValue<std::string>("qrUrl") == fmt::format("/api/v1/instances/{}/qr", id));
    const auto since = item->getValue<std::string>("stateSince");  // fixed-width RFC 3339 UTC
    CHECK(since >= previous_since);
    const auto waiting = item->getValue<long long>("waitingSeconds");
    if (previous_wait >= 0) CHECK(waiting <= previous_wait);
    previous_since = since;
    previous_wait = waiting;
  }
  CHECK(seen == want);
  CHECK(items->getObject(static_cast<unsigned>(items->size() - 1))->getValue<Id>("id") == late);
  checkNoLimitExceeded(*fleet.emu);
  fleet.checkNoTokenInLog();
}

TEST_CASE("scanning an instance in the emulator drops it from needs-scan within a few intervals") {
  Fleet fleet(R"({"instances":{"notAuthorized":5,"authorized":2}})", schedulerEnv(2));
  fleet.registerAll(fleet.all);
  std::set<Id> waiting;
  for (const auto& c : fleet.inState("notAuthorized")) waiting.insert(c.idInstance);
  REQUIRE(waitFor(
      [&] {
        const auto ids = fleet.needsScanIds();
        return std::set<Id>(ids.begin(), ids.end()) == waiting;
      },
      20s, 100ms));

  const Id scanned = *waiting.begin();
  REQUIRE(fleet.emu->scan(scanned) == 200);
  waiting.erase(scanned);
  const auto scanned_at = Clock::now();
  // One 2 s probe interval (or the scan session's next qr poll) plus jitter and slack.
  CHECK(waitFor(
      [&] {
        const auto ids = fleet.needsScanIds();
        return std::find(ids.begin(), ids.end(), scanned) == ids.end();
      },
      8s, 50ms));
  CHECK(Clock::now() - scanned_at < 4s);
  const auto ids = fleet.needsScanIds();
  CHECK(std::set<Id>(ids.begin(), ids.end()) == waiting);
  CHECK(waitFor([&] { return fleet.stateOf(scanned) == "authorized"; }, 5s));
  CHECK(fleet.instance(scanned)->getValue<std::string>("attention") == "none");
  checkNoLimitExceeded(*fleet.emu);
  fleet.checkNoTokenInLog();
}

TEST_CASE("a QR fetched through greenfleet decodes to the emulator's current payload") {
  // Rotation every 3 s, so the test also sees greenfleet follow a new QR.
  Fleet fleet(R"({"instances":{"notAuthorized":2,"authorized":1},"delays":{"qrRotationMs":3000}})",
              schedulerEnv(2));
  fleet.registerAll(fleet.all);
  const Id id = fleet.inState("notAuthorized").front().idInstance;
  const Id authorized = fleet.inState("authorized").front().idInstance;
  const auto http = fleet.http();
  const std::string path = "/api/v1/instances/" + idText(id) + "/qr";

  // The first QR of a session may still be on its way: 202 with Retry-After until it is there.
  HttpResponse r;
  REQUIRE(waitFor(
      [&] {
        r = getWith(http, path + "?format=json", fleet.key(), "");
        if (r.status == 202) {
          CHECK(r.header("Retry-After") == "1");
          CHECK(parseObject(r.body)->getValue<std::string>("status") == "pending");
        }
        return r.status == 200;
      },
      20s, 100ms));

  // The snapshot may be one rotation behind the payload read before it, or ahead of it.
  std::set<std::string> matched;
  const auto fetchMatches = [&](const std::string& query, const std::string& accept, bool json) {
    const std::string before = fleet.emu->qrPayloadOf(id);
    const auto resp = getWith(http, path + query, fleet.key(), accept);
    const std::string after = fleet.emu->qrPayloadOf(id);
    if (resp.status != 200) return false;
    std::string png;
    if (json) {
      const auto o = parseObject(resp.body);
      if (o->getValue<std::string>("type") != "qrCode") return false;
      png = base64Decode(o->getValue<std::string>("message"));
    } else {
      if (resp.header("Content-Type").rfind("image/png", 0) != 0) return false;
      png = resp.body;
    }
    for (const auto& p : {before, after}) {
      if (!p.empty() && pngEncodesPayload(png, p)) {
        matched.insert(p);
        return true;
      }
    }
    return false;
  };
  CHECK(waitFor([&] { return fetchMatches("?format=json", "", true); }, 10s, 100ms));
  CHECK(waitFor([&] { return fetchMatches("", "image/png", false); }, 10s, 100ms));
  CHECK(waitFor([&] { return fetchMatches("?format=png", "", false); }, 10s, 100ms));
  // After a rotation greenfleet serves the new code.
  CHECK(waitFor([&] { return fetchMatches("?format=png", "", false) && matched.size() >= 2; }, 12s,
                200ms));

  CHECK(waitFor([&] { return fleet.stateOf(authorized) == "authorized"; }, 10s));
  r = getWith(http, "/api/v1/instances/" + idText(authorized) + "/qr", fleet.key(), "image/png");
  CHECK(r.status == 409);
  CHECK(errorCode(r.body) == "already_authorized");
  CHECK(getWith(http, "/api/v1/instances/999/qr", fleet.key(), "").status == 404);
  CHECK(getWith(http, path + "?format=gif", fleet.key(), "").status == 422);
  checkNoLimitExceeded(*fleet.emu);
  fleet.checkNoTokenInLog();
}

TEST_CASE("the scheduler never trips an upstream rate limit, with slow answers or 429/5xx storms") {
  // Shortest allowed intervals and quick confirmations: the most pressure the config permits.
  Fleet fleet(R"({"instances":{"authorized":20,"notAuthorized":10},)"
              R"("delays":{"rebootMs":300,"logoutMs":200}})",
              schedulerEnv(1.25, 1, 0.5));
  const auto http = fleet.http();
  const Id poked = fleet.inState("authorized")[0].idInstance;
  const Id rebooted = fleet.inState("authorized")[1].idInstance;
  const Id logged_out = fleet.inState("authorized")[2].idInstance;
  const Id scanning = fleet.inState("notAuthorized")[0].idInstance;
  // Operators pile on: polls, reboots and QR fetches as fast as the test can send them. Each is
  // queued (202) or refused with a Retry-After (429) — never passed on early.
  std::vector<std::string> bad_answers;
  const auto pileOn = [&] {
    for (const auto& [id, action] : {std::pair{poked, "poll"}, std::pair{rebooted, "reboot"},
                                     std::pair{logged_out, "logout"}}) {
      const auto r =
          http.post(fmt::format("/api/v1/instances/{}/actions/{}", id, action), "", fleet.key());
      if (!(r.status == 202 || (r.status == 429 && !r.header("Retry-After").empty()))) {
        bad_answers.push_back(fmt::format("{} {}: {} {}", action, id, r.status, r.body));
      }
    }
    http.get(fmt::format("/api/v1/instances/{}/qr?format=json", scanning), fleet.key());
  };
  const auto runUntil = [&](long long state_requests, std::chrono::milliseconds deadline) {
    return waitFor(
        [&] {
          pileOn();
          return sumOf(countersOf(*fleet.emu), "getStateInstance", &MethodCount::requests) >=
                 state_requests;
        },
        deadline, 50ms);
  };

  SUBCASE("latency of 50-400 ms on every answer") {
    REQUIRE(fleet.emu->setFaults(R"({"latencyMinMs":50,"latencyMaxMs":400})") == 200);
    fleet.registerAll(fleet.all);
    CHECK(runUntil(4 * 30, 20s));  // four rounds, about 4 s
    const auto c = countersOf(*fleet.emu);
    // The scan session took its QR (over the scanqrcode socket by default).
    CHECK(sumOf(c, "qr", &MethodCount::accepted) + sumOf(c, "scanqrcode", &MethodCount::accepted) >
          0);
    CHECK(countOf(c, rebooted, "reboot").accepted >= 2);
    CHECK(countOf(c, logged_out, "logout").accepted >= 2);
  }
  SUBCASE("storms of injected 429, 500 and 502") {
    REQUIRE(
        fleet.emu->setFaults(R"({"errorRates":{"429":0.3,"500":0.2,"502":0.1},"latencyMinMs":5,)"
                             R"("latencyMaxMs":60})") == 200);
    fleet.registerAll(fleet.all);
    CHECK(runUntil(3 * 30, 20s));
    const auto c = countersOf(*fleet.emu);
    CHECK(sumOf(c, "getStateInstance", &MethodCount::injectedFaults) > 10);
  }
  INFO("bad answers: " << fmt::format("{}", fmt::join(bad_answers, "; ")));
  CHECK(bad_answers.empty());
  checkNoLimitExceeded(*fleet.emu);
  fleet.checkNoTokenInLog();
}

TEST_CASE("operator actions are queued within the limits and need an admin key") {
  Fleet fleet(R"({"instances":{"authorized":2},"delays":{"rebootMs":1000}})", schedulerEnv(2));
  fleet.registerAll(fleet.all);
  const Id id = fleet.all.front().idInstance;
  const auto http = fleet.http();
  const std::string reboot = fmt::format("/api/v1/instances/{}/actions/reboot", id);
  REQUIRE(waitFor([&] { return fleet.stateOf(id) == "authorized"; }, 10s));

  auto r = http.post(reboot, "", fleet.key());
  REQUIRE(r.status == 202);
  auto body = parseObject(r.body);
  CHECK(body->getValue<std::string>("status") == "queued");
  CHECK(body->getValue<std::string>("action") == "reboot");
  CHECK_FALSE(body->isNull("expectedAt"));

  // A second reboot right away is queued behind the first (spaced by the limit) or refused.
  r = http.post(reboot, "", fleet.key());
  long long expected_reboots = 1;
  if (r.status == 202) {
    const auto status = parseObject(r.body)->getValue<std::string>("status");
    CHECK((status == "queued" || status == "already_queued"));
    if (status == "queued") expected_reboots = 2;
  } else {
    CHECK(r.status == 429);
    CHECK_FALSE(r.header("Retry-After").empty());
  }

  // The emulator sees the reboot: starting, then back to authorized.
  CHECK(waitFor([&] { return fleet.emu->stateOf(id) == "starting"; }, 5s, 10ms));
  CHECK(waitFor(
      [&] {
        return countOf(countersOf(*fleet.emu), id, "reboot").accepted == expected_reboots &&
               fleet.emu->stateOf(id) == "authorized";
      },
      10s, 50ms));
  CHECK(countOf(countersOf(*fleet.emu), id, "reboot").requests == expected_reboots);
  CHECK(waitFor([&] { return fleet.stateOf(id) == "authorized"; }, 10s));

  std::string out;
  REQUIRE(fleet.server->runCommand({"keys", "create", "--name", "viewer", "--role", "read"}, out) ==
          0);
  const std::string read_key = out.substr(out.rfind("gf_"), 67);
  r = http.post(reboot, "", read_key);
  CHECK(r.status == 403);
  CHECK(errorCode(r.body) == "forbidden");
  r = http.post(fmt::format("/api/v1/instances/{}/actions/dance", id), "", fleet.key());
  CHECK(r.status == 404);
  r = http.post("/api/v1/instances/999/actions/reboot", "", fleet.key());
  CHECK(r.status == 404);
  r = http.post("/api/v1/instances/999/actions/poll", "", fleet.key());
  CHECK(r.status == 404);
  const auto c = countersOf(*fleet.emu);
  CHECK(countOf(c, id, "reboot").requests == expected_reboots);  // 403/404 reached nobody
  CHECK(countOf(c, fleet.all[1].idInstance, "reboot").requests == 0);
  checkNoLimitExceeded(*fleet.emu);
  fleet.checkNoTokenInLog();
}

TEST_CASE("registry changes take effect at once, and re-registering never outpaces the limit") {
  Fleet fleet(R"({"instances":{"authorized":5}})", schedulerEnv(1.25));
  const auto& all = fleet.all;
  fleet.registerAll({all[0], all[1], all[2], all[3]});
  const auto http = fleet.http();
  REQUIRE(waitFor(
      [&] {
        for (std::size_t i = 0; i < 4; ++i) {
          if (!fleet.checked(all[i].idInstance)) return false;
        }
        return true;
      },
      10s, 50ms));

  // Added while running: probed at once.
  const auto added_at = Clock::now();
  REQUIRE(http.post("/api/v1/instances", fleet.instanceJson(all[4]), fleet.key()).status == 201);
  CHECK(waitFor([&] { return fleet.checked(all[4].idInstance); }, 5s, 25ms));
  CHECK(Clock::now() - added_at < 2s);
  CHECK(fleet.stateOf(all[4].idInstance) == "authorized");

  // Deleted or disabled: no longer polled. all[3] keeps time.
  const Id deleted = all[0].idInstance;
  const Id disabled = all[1].idInstance;
  const Id clock_id = all[3].idInstance;
  REQUIRE(http.del("/api/v1/instances/" + idText(deleted), fleet.key()).status == 204);
  REQUIRE(http.patch("/api/v1/instances/" + idText(disabled), R"({"enabled":false})", fleet.key())
              .status == 200);
  const auto stateRequests = [&](Id id) {
    return countOf(countersOf(*fleet.emu), id, "getStateInstance").requests;
  };
  const auto waitTicks = [&](int n) {
    const auto start = stateRequests(clock_id);
    REQUIRE(waitFor([&] { return stateRequests(clock_id) >= start + n; }, 10s, 50ms));
  };
  const auto deleted_0 = stateRequests(deleted);
  const auto disabled_0 = stateRequests(disabled);
  waitTicks(1);  // a request already handed to a worker may still go out
  const auto deleted_1 = stateRequests(deleted);
  const auto disabled_1 = stateRequests(disabled);
  waitTicks(2);
  CHECK(deleted_1 <= deleted_0 + 1);
  CHECK(disabled_1 <= disabled_0 + 1);
  CHECK(stateRequests(deleted) == deleted_1);
  CHECK(stateRequests(disabled) == disabled_1);
  CHECK(http.get("/api/v1/needs-scan", fleet.key()).status == 200);

  // Deleted and registered again right after a probe: the new registration must still wait for
  // the instance's limit (the emulator would answer 429 otherwise).
  const Id again = all[2].idInstance;
  const auto before = stateRequests(again);
  REQUIRE(waitFor([&] { return stateRequests(again) > before; }, 10s, 5ms));
  REQUIRE(http.del("/api/v1/instances/" + idText(again), fleet.key()).status == 204);
  REQUIRE(http.post("/api/v1/instances", fleet.instanceJson(all[2]), fleet.key()).status == 201);
  // Same for disable/enable.
  const auto before_enable = stateRequests(clock_id);
  REQUIRE(waitFor([&] { return stateRequests(clock_id) > before_enable; }, 10s, 5ms));
  REQUIRE(http.patch("/api/v1/instances/" + idText(clock_id), R"({"enabled":false})", fleet.key())
              .status == 200);
  REQUIRE(http.patch("/api/v1/instances/" + idText(clock_id), R"({"enabled":true})", fleet.key())
              .status == 200);
  const auto again_0 = stateRequests(again);
  const auto clock_0 = stateRequests(clock_id);
  CHECK(waitFor(
      [&] { return stateRequests(again) >= again_0 + 2 && stateRequests(clock_id) >= clock_0 + 2; },
      10s, 50ms));
  checkNoLimitExceeded(*fleet.emu);
  fleet.checkNoTokenInLog();
}

TEST_CASE(
    "after kill -9 a restarted server keeps the registry and resumes from the stored status") {
  Fleet fleet(R"({"instances":{"authorized":12,"notAuthorized":6,"blocked":2}})", schedulerEnv(2));
  fleet.registerAll(fleet.all);
  REQUIRE(waitFor([&] { return fleet.storedMatches(fleet.all); }, 20s, 100ms));
  std::set<Id> not_authorized;
  for (const auto& c : fleet.inState("notAuthorized")) not_authorized.insert(c.idInstance);
  // Stored states and names as the list (which reads SQLite) shows them.
  std::map<Id, std::pair<std::string, std::string>> stored;
  {
    const auto r = fleet.http().get("/api/v1/instances?limit=1000", fleet.key());
    REQUIRE(r.status == 200);
    const auto items = parseObject(r.body)->getArray("items");
    REQUIRE(items->size() == 20);
    for (std::size_t i = 0; i < items->size(); ++i) {
      const auto o = items->getObject(static_cast<unsigned>(i));
      stored[o->getValue<Id>("id")] = {o->getValue<std::string>("state"),
                                       o->getValue<std::string>("name")};
    }
  }

  // Mid-run: scan sessions are polling qr for the notAuthorized ones.
  fleet.server->kill9();
  fleet.emu->resetCounters();
  auto slow = schedulerEnv(60, 30);
  fleet.server->setEnv(slow);
  fleet.server->start();

  // Before its first probes, the needs-scan list and the states come from SQLite.
  const auto ids = fleet.needsScanIds();
  std::map<Id, std::pair<std::string, std::string>> live;
  for (const auto& [id, s] : stored) {
    const auto o = fleet.instance(id);
    live[id] = {o->isNull("state") ? std::string() : o->getValue<std::string>("state"),
                o->getValue<std::string>("name")};
  }
  const auto c = countersOf(*fleet.emu);
  CHECK(std::set<Id>(ids.begin(), ids.end()) == not_authorized);
  CHECK(live == stored);
  std::size_t unprobed = 0;
  for (const Id id : ids) {
    if (countOf(c, id, "getStateInstance").requests == 0) ++unprobed;
  }
  // Most were listed before greenfleet asked the emulator anything (first probes are spread over
  // 60 s, none sooner than the 1.25 s limit period).
  CHECK(unprobed * 2 > ids.size());
  CHECK(fleet.storedTotal("notAuthorized") == 6);
  const auto list = fleet.http().get("/api/v1/instances?limit=1000", fleet.key());
  CHECK(parseObject(list.body)->getValue<long long>("total") == 20);
  checkNoLimitExceeded(*fleet.emu);
  fleet.checkNoTokenInLog();
}

TEST_CASE("no emulator token reaches the server log, even when error bodies echo it") {
  // Green API's error bodies echo the request path, token included; 40 % of answers are errors.
  Fleet fleet(R"({"instances":{"authorized":3,"notAuthorized":3},)"
              R"("faults":{"errorRates":{"429":0.2,"500":0.1,"502":0.05,"504":0.05}},)"
              R"("delays":{"rebootMs":200}})",
              schedulerEnv(1.25));
  fleet.registerAll(fleet.all);
  const auto http = fleet.http();
  const Id scanning = fleet.inState("notAuthorized").front().idInstance;
  CHECK(waitFor(
      [&] {
        http.post(fmt::format("/api/v1/instances/{}/actions/reboot", fleet.all[0].idInstance), "",
                  fleet.key());
        http.post(fmt::format("/api/v1/instances/{}/actions/logout", fleet.all[1].idInstance), "",
                  fleet.key());
        http.get(fmt::format("/api/v1/instances/{}/qr", scanning), fleet.key());
        return sumOf(countersOf(*fleet.emu), "getStateInstance", &MethodCount::injectedFaults) >= 5;
      },
      20s, 100ms));
  // Nor does any API answer carry one.
  std::vector<std::string> bodies{http.get("/api/v1/instances?limit=1000", fleet.key()).body,
                                  http.get("/api/v1/needs-scan", fleet.key()).body};
  for (const auto& c : fleet.all) {
    bodies.push_back(http.get("/api/v1/instances/" + idText(c.idInstance), fleet.key()).body);
  }
  for (const auto& b : bodies) {
    for (const auto& c : fleet.all) CHECK(b.find(c.apiTokenInstance) == std::string::npos);
  }
  fleet.server->restart();
  REQUIRE(fleet.http().del("/api/v1/instances/" + idText(scanning), fleet.key()).status != 500);
  checkNoLimitExceeded(*fleet.emu);
  fleet.checkNoTokenInLog();
}

TEST_CASE("a thousand hung instances end as timeouts while a thousand healthy ones stay current") {
  // The hung thousand live on their own upstream (an emulator whose every request hangs 3 s, one
  // thread each), as a stuck Green API host would; greenfleet gives up after 1 s. Both hosts'
  // caps are out of the way: this is about the engine holding 1,000 stuck transfers, not about
  // the per-host policy. The healthy emulator's first thousand ids are left out: the stuck
  // emulator uses the same ids. Both emulators hold a thread per open connection, so both get
  // enough threads for every connection greenfleet may open.
  auto env = schedulerEnv(1.25, 1.25, 0.5);
  env["GREENFLEET_LOG_LEVEL"] = "information";
  env["GREENFLEET_UPSTREAM_REQUEST_TIMEOUT_MS"] = "1000";
  env["GREENFLEET_UPSTREAM_MAX_IN_FLIGHT_PER_HOST"] = "4096";
  env["GREENFLEET_UPSTREAM_MAX_RPS"] = "100000";
  Fleet fleet(R"({"instances":{"authorized":2000}})", env, {"--threads", "1500"});
  const std::vector<EmulatedCredentials> healthy(fleet.all.begin() + 1000, fleet.all.end());
  EmulatorProcess stuck({"--instances", "1000", "--threads", "2500", "--hang-max-ms", "3000",
                         "--faults", R"({"hangProbability":1,"hangMs":3000})"});
  const auto hung = stuck.instances();
  REQUIRE(hung.size() == 1000);
  REQUIRE(hung.back().idInstance < healthy.front().idInstance);
  fleet.registerAll(healthy);
  fleet.registerAll(hung, &stuck);

  // Every hung request ends as a timeout and frees its slot: each hung instance is asked again.
  std::vector<std::string> not_timed_out;
  const bool hung_ended = waitFor(
      [&] {
        const auto errors = fleet.storedErrors();
        const auto c = countersOf(stuck);
        not_timed_out.clear();
        for (const auto& h : hung) {
          const auto it = errors.find(h.idInstance);
          const std::string error = it == errors.end() ? std::string() : it->second;
          if (error.find("timed out") == std::string::npos ||
              countOf(c, h.idInstance, "getStateInstance").requests < 2) {
            not_timed_out.push_back(fmt::format("{} '{}'", h.idInstance, error));
          }
        }
        return not_timed_out.empty();
      },
      60s, 500ms);
  INFO("hung instances without a timeout and a retry: "
       << not_timed_out.size() << " e.g. "
       << (not_timed_out.empty() ? std::string() : not_timed_out.front()));
  CHECK(hung_ended);

  // Meanwhile the healthy ones were polled round after round, and a change shows up.
  const auto before = countersOf(*fleet.emu);
  std::vector<Id> flipped;
  for (std::size_t i = 0; i < healthy.size(); i += 50) {
    REQUIRE(fleet.emu->setState(healthy[i].idInstance, "notAuthorized") == 200);
    flipped.push_back(healthy[i].idInstance);
  }
  CHECK(waitFor(
      [&] {
        return std::all_of(flipped.begin(), flipped.end(),
                           [&](Id id) { return fleet.stateOf(id) == "notAuthorized"; });
      },
      30s, 250ms));
  CHECK(waitFor(
      [&] {
        const auto now = countersOf(*fleet.emu);
        return std::all_of(healthy.begin(), healthy.end(), [&](const EmulatedCredentials& c) {
          return countOf(now, c.idInstance, "getStateInstance").accepted >=
                 countOf(before, c.idInstance, "getStateInstance").accepted + 2;
        });
      },
      30s, 250ms));
  std::vector<std::string> stale;
  for (const auto& c : healthy) {
    if (std::find(flipped.begin(), flipped.end(), c.idInstance) != flipped.end()) continue;
    if (fleet.stateOf(c.idInstance) != "authorized") stale.push_back(idText(c.idInstance));
  }
  INFO("healthy instances not shown authorized: " << fmt::format("{}", fmt::join(stale, ",")));
  CHECK(stale.empty());
  checkNoLimitExceeded(*fleet.emu);
  checkNoLimitExceeded(stuck);
  fleet.checkNoTokenInLog();
}
