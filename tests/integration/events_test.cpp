// The event log end to end: `greenfleet serve` on loopback (real binary, real SQLite file) watching
// the real emulator, read through GET /api/v1/events, the SSE stream (Last-Event-ID, heartbeats,
// subscriber limits), moved by Green API webhooks, and reachable from a browser through CORS.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "support/emulator_process.hpp"
#include "support/json.hpp"
#include "support/server_fixture.hpp"
#include "support/sse_client.hpp"
#include "support/wait_for.hpp"

using namespace greenfleet::testing;
using namespace std::chrono_literals;

namespace {

using Env = std::map<std::string, std::string>;
using Id = std::int64_t;

constexpr const char* kWebhookToken = "wh-4c1f0e9d7b2a4e58";

// The quiet server of the support code: probes only when asked, events committed every 20 ms.
Env quietEnv(const Env& extra = {}) { return greenfleet::testing::quietServerEnv(extra); }

Env withWebhooks(Env env) {
  env["GREENFLEET_WEBHOOKS_TOKEN"] = kWebhookToken;
  return env;
}

struct Event {
  long long seq = 0;
  Id id = 0;
  std::string at, type, from, to, source, detail, actor;
};

std::string optText(const Poco::JSON::Object::Ptr& o, const std::string& name) {
  return o->isNull(name) ? std::string() : o->getValue<std::string>(name);
}

Event eventOf(const Poco::JSON::Object::Ptr& o) {
  Event e;
  e.seq = o->getValue<long long>("seq");
  e.id = o->getValue<Id>("id");
  e.at = o->getValue<std::string>("at");
  e.type = o->getValue<std::string>("type");
  e.from = optText(o, "fromState");
  e.to = optText(o, "toState");
  e.source = o->getValue<std::string>("source");
  e.detail = optText(o, "detail");
  e.actor = optText(o, "actor");
  return e;
}

std::vector<Event> eventsOf(const std::string& body) {
  std::vector<Event> out;
  const auto items = parseObject(body)->getArray("items");
  for (std::size_t i = 0; i < items->size(); ++i) {
    out.push_back(eventOf(items->getObject(static_cast<unsigned>(i))));
  }
  return out;
}

std::vector<long long> seqsOf(const std::vector<Event>& events) {
  std::vector<long long> out;
  for (const auto& e : events) out.push_back(e.seq);
  return out;
}

// "3,4,5": seq lists compared as text, so a failure shows them.
std::string listed(const std::vector<long long>& seqs) {
  return fmt::format("{}", fmt::join(seqs, ","));
}

std::string stateWebhook(Id id, const std::string& state) {
  return fmt::format(
      R"({{"typeWebhook":"stateInstanceChanged","instanceData":{{"idInstance":{},"wid":"7{}@c.us",)"
      R"("typeInstance":"whatsapp"}},"timestamp":1705902314,"stateInstance":"{}"}})",
      id, id, state);
}

// An emulator with `emulator_args` and a server with `env`; the server starts first so the
// emulator can be pointed at its webhook URL.
struct Fleet {
  std::unique_ptr<ServerFixture> server;
  std::unique_ptr<EmulatorProcess> emu;

  Fleet(std::vector<std::string> emulator_args, Env env, bool emulator_sends_webhooks = false) {
    server = std::make_unique<ServerFixture>(std::vector<std::string>{}, std::move(env));
    if (emulator_sends_webhooks) {
      emulator_args.insert(
          emulator_args.end(),
          {"--webhook-url", fmt::format("http://127.0.0.1:{}/webhooks/green-api", server->port()),
           "--webhook-token", kWebhookToken});
    }
    emu = std::make_unique<EmulatorProcess>(std::move(emulator_args));
  }

  HttpClient http() const { return server->client(); }
  const std::string& key() const { return server->adminKey(); }

  // Registers the emulator's instances with greenfleet; returns them.
  std::vector<EmulatedCredentials> registerAll() const {
    const auto all = emu->instances();
    std::string batch = "[";
    for (std::size_t i = 0; i < all.size(); ++i) {
      batch += fmt::format(R"({}{{"id":{},"token":"{}","apiUrl":"{}","name":"emulated {}"}})",
                           i ? "," : "", all[i].idInstance, all[i].apiTokenInstance, emu->apiUrl(),
                           all[i].idInstance);
    }
    batch += "]";
    const auto r = http().post("/api/v1/instances", batch, key());
    REQUIRE(r.status == 201);
    return all;
  }

  Poco::JSON::Object::Ptr instance(Id id) const {
    const auto r = http().get(fmt::format("/api/v1/instances/{}", id), key());
    REQUIRE(r.status == 200);
    return parseObject(r.body);
  }
  std::string stateOf(Id id) const { return optText(instance(id), "state"); }

  std::vector<Event> events(const std::string& query = "") const {
    const auto r = http().get("/api/v1/events?limit=1000" + query, key());
    REQUIRE(r.status == 200);
    return eventsOf(r.body);
  }

  // Waits for the first event matching `pred` in the log.
  std::optional<Event> waitForEvent(const std::function<bool(const Event&)>& pred,
                                    const std::string& query = "",
                                    std::chrono::milliseconds timeout = 10s) const {
    std::optional<Event> found;
    waitFor(
        [&] {
          for (const auto& e : events(query)) {
            if (pred(e)) {
              found = e;
              return true;
            }
          }
          return false;
        },
        timeout, 50ms);
    return found;
  }

  // POST .../actions/poll with `key`; the status.
  int poll(Id id, const std::string& with_key) const {
    return http().post(fmt::format("/api/v1/instances/{}/actions/poll", id), "", with_key).status;
  }

  // Polls once and waits until that action's event is in the log; returns it. Everything
  // enqueued before it (the writer keeps order) is then in the log too.
  Event sentinel(Id id) const {
    const auto before = events();
    const long long after = before.empty() ? 0 : before.back().seq;
    REQUIRE(poll(id, key()) == 202);
    const auto e = waitForEvent(
        [&](const Event& ev) { return ev.type == "action" && ev.id == id && ev.seq > after; },
        fmt::format("&after={}", after));
    REQUIRE(e);
    return *e;
  }
};

std::string createKey(const ServerFixture& server, const std::string& name,
                      const std::string& role) {
  std::string out;
  REQUIRE(server.runCommand({"keys", "create", "--name", name, "--role", role}, out) == 0);
  const auto at = out.rfind("gf_");
  REQUIRE(at != std::string::npos);
  return out.substr(at, 67);
}

HttpResponse postWebhook(const HttpClient& http, const std::string& body,
                         const std::optional<std::string>& authorization) {
  HttpRequest r;
  r.method = "POST";
  r.path = "/webhooks/green-api";
  r.body = body;
  r.headers["Content-Type"] = "application/json; charset=utf-8";
  if (authorization) r.headers["Authorization"] = *authorization;
  return http.send(r);
}

std::string bearer(const std::string& token) { return "Bearer " + token; }

std::string statusOf(const HttpResponse& r) {
  try {
    return parseObject(r.body)->getValue<std::string>("status");
  } catch (...) {
    return "";
  }
}

std::unique_ptr<SseClient> openStream(const ServerFixture& server, const std::string& key,
                                      std::optional<std::string> last_event_id = std::nullopt,
                                      std::map<std::string, std::string> headers = {}) {
  SseOptions o;
  o.bearer = key;
  o.last_event_id = std::move(last_event_id);
  o.headers = std::move(headers);
  return std::make_unique<SseClient>("127.0.0.1", server.port(), std::move(o));
}

// The first frame of a fresh stream is the reconnect delay.
void expectRetryFrame(SseClient& stream) {
  const auto first = stream.next(5s);
  REQUIRE(first);
  CHECK(first->retry == 2000);
}

// Reads events from `stream` until one matches `pred`, or the deadline; keeps all it read.
std::optional<Event> nextMatching(SseClient& stream, std::vector<SseFrame>& read,
                                  const std::function<bool(const Event&)>& pred,
                                  std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    const auto f = stream.nextEvent(left);
    if (!f) return std::nullopt;
    read.push_back(*f);
    const Event e = eventOf(parseObject(f->data));
    if (pred(e)) return e;
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("a state change in the emulator appears in the event log and on an open event stream") {
  Fleet fleet({"--instances", "1", "--state", "authorized"},
              quietEnv({{"GREENFLEET_SCHEDULER_INTERVAL_AUTHORIZED_S", "1.25"}}));
  const Id id = fleet.registerAll().at(0).idInstance;
  REQUIRE(waitFor([&] { return fleet.stateOf(id) == "authorized"; }, 10s, 50ms));
  const std::string read_key = createKey(*fleet.server, "dashboard", "read");

  auto stream = openStream(*fleet.server, read_key);
  REQUIRE(stream->status() == 200);
  CHECK(stream->header("Content-Type").rfind("text/event-stream", 0) == 0);
  CHECK(stream->header("Cache-Control") == "no-store");
  expectRetryFrame(*stream);

  REQUIRE(fleet.emu->setState(id, "blocked") == 200);

  std::vector<SseFrame> frames;
  const auto live = nextMatching(*stream, frames, [&](const Event& e) {
    return e.type == "state_changed" && e.id == id && e.to == "blocked";
  });
  REQUIRE(live);
  CHECK(live->from == "authorized");
  CHECK(live->source == "poll");
  CHECK(frames.back().event == "state_changed");
  CHECK(frames.back().id == std::to_string(live->seq));
  CHECK(fleet.stateOf(id) == "blocked");

  // The same event, with the same seq, in the paged log and in the instance's history.
  const auto logged = fleet.events(fmt::format("&type=state_changed&id={}", id));
  REQUIRE_FALSE(logged.empty());
  const Event& last = logged.back();
  CHECK(last.seq == live->seq);
  CHECK(last.from == "authorized");
  CHECK(last.to == "blocked");
  CHECK(last.source == "poll");
  CHECK(last.at == live->at);
  CHECK(last.actor.empty());
  for (const auto& e : logged) CHECK(e.type == "state_changed");

  const auto r = fleet.http().get(fmt::format("/api/v1/instances/{}/events", id), read_key);
  REQUIRE(r.status == 200);
  const auto history = eventsOf(r.body);
  REQUIRE_FALSE(history.empty());
  CHECK(std::is_sorted(history.begin(), history.end(),
                       [](const Event& a, const Event& b) { return a.seq > b.seq; }));
  CHECK(std::find_if(history.begin(), history.end(),
                     [&](const Event& e) { return e.seq == live->seq; }) != history.end());
  CHECK(fleet.http().get("/api/v1/instances/42/events", read_key).status == 404);
  CHECK(errorField(fleet.http().get("/api/v1/events?type=bogus", read_key).body) == "type");
}

TEST_CASE("reconnecting with Last-Event-ID replays exactly the events after it, then goes live") {
  Fleet fleet({"--instances", "1", "--state", "authorized"}, quietEnv());
  const Id id = fleet.registerAll().at(0).idInstance;
  REQUIRE(waitFor([&] { return fleet.stateOf(id) == "authorized"; }, 10s, 50ms));
  for (int i = 0; i < 4; ++i) REQUIRE(fleet.poll(id, fleet.key()) == 202);
  REQUIRE(waitFor([&] { return fleet.events("&type=action").size() == 4; }, 10s, 50ms));

  const auto actions = fleet.events("&type=action");
  const long long resume_after = actions[1].seq;
  const auto expected = seqsOf(fleet.events(fmt::format("&after={}", resume_after)));
  REQUIRE(expected.size() >= 2);

  auto stream = openStream(*fleet.server, fleet.key(), std::to_string(resume_after));
  REQUIRE(stream->status() == 200);
  expectRetryFrame(*stream);
  std::vector<long long> received;
  while (received.size() < expected.size()) {
    const auto f = stream->nextEvent(5s);
    if (!f) break;
    CHECK(f->id == std::to_string(eventOf(parseObject(f->data)).seq));
    received.push_back(std::stoll(f->id));
  }
  CHECK(listed(received) == listed(expected));

  // Live after the backlog: the next action arrives, and the whole sequence read from this
  // stream equals the log after resume_after — no gap and no duplicate at the seam.
  REQUIRE(fleet.poll(id, fleet.key()) == 202);
  const auto live = stream->nextEvent(10s);
  REQUIRE(live);
  received.push_back(std::stoll(live->id));
  CHECK(eventOf(parseObject(live->data)).type == "action");
  const auto log_after = seqsOf(fleet.events(fmt::format("&after={}", resume_after)));
  while (received.size() < log_after.size()) {
    const auto f = stream->nextEvent(5s);
    if (!f) break;
    received.push_back(std::stoll(f->id));
  }
  CHECK(listed(received) == listed(log_after));

  // Resuming from the newest seq replays nothing, and the next event is the next one.
  auto tail = openStream(*fleet.server, fleet.key(), std::to_string(received.back()));
  REQUIRE(tail->status() == 200);
  expectRetryFrame(*tail);
  const auto next = fleet.sentinel(id);
  const auto f = tail->nextEvent(10s);
  REQUIRE(f);
  CHECK(f->id == std::to_string(next.seq));

  // An event committed just before a reconnect is in the backlog and may also reach the new
  // subscription live: it must arrive once.
  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    const auto fresh = fleet.sentinel(id);
    auto again = openStream(*fleet.server, fleet.key(), std::to_string(fresh.seq - 1));
    REQUIRE(again->status() == 200);
    const auto mark = fleet.sentinel(id);
    std::vector<long long> got;
    while (got.empty() || got.back() < mark.seq) {
      const auto e = again->nextEvent(5s);
      if (!e) break;
      got.push_back(std::stoll(e->id));
    }
    CHECK(listed(got) == listed(seqsOf(fleet.events(fmt::format("&after={}", fresh.seq - 1)))));
  }

  auto bad = openStream(*fleet.server, fleet.key(), std::string("yesterday"));
  CHECK(bad->status() == 400);
  CHECK(errorCode(bad->body()) == "invalid_last_event_id");
}

TEST_CASE("an idle event stream carries a heartbeat every events.heartbeat_s") {
  ServerFixture server({}, quietEnv());
  auto unauthenticated = openStream(server, "");
  CHECK(unauthenticated->status() == 401);

  auto stream = openStream(server, server.adminKey());
  REQUIRE(stream->status() == 200);
  expectRetryFrame(*stream);
  // Five beats, each well within the default's 15 s: the 0.2 s setting is the one in use.
  for (int beats = 0; beats < 5; ++beats) {
    const auto f = stream->next(3s);
    REQUIRE(f);
    CHECK(f->isComment("heartbeat"));
  }
}

TEST_CASE("a webhook that an instance is authorized applies at once and ends its scan session") {
  Fleet fleet({"--instances", "1", "--state", "notAuthorized"}, withWebhooks(quietEnv()));
  const Id id = fleet.registerAll().at(0).idInstance;
  REQUIRE(waitFor([&] { return fleet.stateOf(id) == "notAuthorized"; }, 10s, 50ms));
  REQUIRE(fleet.waitForEvent(
      [&](const Event& e) { return e.type == "scan_session_started" && e.id == id; }));

  const auto r = postWebhook(fleet.http(), stateWebhook(id, "authorized"), bearer(kWebhookToken));
  CHECK(r.status == 200);
  CHECK(statusOf(r) == "applied");
  // Better news needs no confirmation: the very next read shows it.
  CHECK(fleet.stateOf(id) == "authorized");
  // Upstream agrees, so the confirming probe keeps it.
  REQUIRE(fleet.emu->scan(id) == 200);

  const auto changed = fleet.waitForEvent([&](const Event& e) {
    return e.type == "state_changed" && e.id == id && e.to == "authorized";
  });
  REQUIRE(changed);
  CHECK(changed->from == "notAuthorized");
  CHECK(changed->source == "webhook");
  const auto ended = fleet.waitForEvent(
      [&](const Event& e) { return e.type == "scan_session_ended" && e.id == id; });
  REQUIRE(ended);
  CHECK(ended->source == "webhook");
  CHECK(ended->detail == "stateChanged");

  const auto needs_scan = parseObject(fleet.http().get("/api/v1/needs-scan", fleet.key()).body);
  CHECK(needs_scan->getValue<int>("total") == 0);
  CHECK(waitFor(
      [&] {
        return optText(fleet.instance(id), "lastObservedState") == "authorized" &&
               fleet.stateOf(id) == "authorized";
      },
      5s, 50ms));
}

TEST_CASE("a webhook reporting a worse state is applied only when a probe confirms it") {
  Fleet fleet({"--instances", "1", "--state", "authorized"}, withWebhooks(quietEnv()));
  const Id id = fleet.registerAll().at(0).idInstance;
  REQUIRE(waitFor([&] { return fleet.stateOf(id) == "authorized"; }, 10s, 50ms));
  const std::string checked_before = optText(fleet.instance(id), "lastCheckedAt");

  SUBCASE("upstream still says authorized: the state stays authorized") {
    const auto r = postWebhook(fleet.http(), stateWebhook(id, "blocked"), bearer(kWebhookToken));
    CHECK(r.status == 200);
    CHECK(statusOf(r) == "applied");
    CHECK(fleet.stateOf(id) == "authorized");
    // The confirming probe runs now (the authorized interval is 60 s) and disagrees.
    CHECK(waitFor(
        [&] {
          const auto o = fleet.instance(id);
          return optText(o, "lastCheckedAt") != checked_before &&
                 optText(o, "lastObservedState") == "authorized";
        },
        10s, 50ms));
    CHECK(fleet.stateOf(id) == "authorized");
    fleet.sentinel(id);
    for (const auto& e : fleet.events(fmt::format("&id={}&type=state_changed", id))) {
      CHECK(e.to != "blocked");
    }
  }

  SUBCASE("upstream says blocked too: the probe confirms it within seconds") {
    REQUIRE(fleet.emu->setState(id, "blocked") == 200);
    const auto r = postWebhook(fleet.http(), stateWebhook(id, "blocked"), bearer(kWebhookToken));
    CHECK(r.status == 200);
    CHECK(waitFor([&] { return fleet.stateOf(id) == "blocked"; }, 10s, 50ms));
    const auto changed = fleet.waitForEvent([&](const Event& e) {
      return e.type == "state_changed" && e.id == id && e.to == "blocked";
    });
    REQUIRE(changed);
    CHECK(changed->from == "authorized");
  }
}

TEST_CASE("the emulator's own stateInstanceChanged webhook moves an instance after a scan") {
  Fleet fleet({"--instances", "1", "--state", "notAuthorized"},
              withWebhooks(quietEnv({{"GREENFLEET_SESSIONS_AUTO_START", "false"}})),
              /*emulator_sends_webhooks=*/true);
  const Id id = fleet.registerAll().at(0).idInstance;
  REQUIRE(waitFor([&] { return fleet.stateOf(id) == "notAuthorized"; }, 10s, 50ms));

  REQUIRE(fleet.emu->scan(id) == 200);
  // No probe is due for 60 s and no scan session polls: only the webhook can tell.
  CHECK(waitFor([&] { return fleet.stateOf(id) == "authorized"; }, 5s, 50ms));
  const auto changed = fleet.waitForEvent([&](const Event& e) {
    return e.type == "state_changed" && e.id == id && e.to == "authorized";
  });
  REQUIRE(changed);
  CHECK(changed->from == "notAuthorized");
  CHECK(changed->source == "webhook");
  const auto webhooks = fleet.emu->counters()->getObject("webhooks");
  CHECK(webhooks->getValue<int>("sent") >= 1);
  CHECK(webhooks->getValue<int>("failed") == 0);
}

TEST_CASE("malformed or unauthenticated webhooks are refused and change nothing") {
  Fleet fleet({"--instances", "1", "--state", "authorized"}, withWebhooks(quietEnv()));
  const Id id = fleet.registerAll().at(0).idInstance;
  REQUIRE(waitFor([&] { return fleet.stateOf(id) == "authorized"; }, 10s, 50ms));
  const auto baseline = fleet.sentinel(id);
  const auto http = fleet.http();
  const std::string blocked = stateWebhook(id, "blocked");

  struct Refused {
    std::string name, body;
    std::optional<std::string> authorization;
    int status;
    std::string code;
  };
  const std::vector<Refused> refused = {
      {"truncated JSON", R"({"typeWebhook":"stateInstanceChanged",)", bearer(kWebhookToken), 400,
       "malformed_json"},
      {"not an object", "[1,2]", bearer(kWebhookToken), 400, "invalid_type"},
      {"no instanceData", R"({"typeWebhook":"stateInstanceChanged","stateInstance":"blocked"})",
       bearer(kWebhookToken), 400, "missing_field"},
      {"idInstance as text",
       R"({"typeWebhook":"stateInstanceChanged","instanceData":{"idInstance":"x"},)"
       R"("stateInstance":"blocked"})",
       bearer(kWebhookToken), 400, "invalid_type"},
      {"no token", blocked, std::nullopt, 401, "unauthorized"},
      {"wrong token", blocked, bearer("wh-0000000000000000"), 401, "unauthorized"},
      {"token with a suffix", blocked, bearer(std::string(kWebhookToken) + "x"), 401,
       "unauthorized"},
      {"token prefix only", blocked, bearer(std::string(kWebhookToken).substr(0, 8)), 401,
       "unauthorized"},
      {"an API key instead", blocked, bearer(fleet.key()), 401, "unauthorized"},
  };
  for (const auto& c : refused) {
    CAPTURE(c.name);
    const auto r = postWebhook(http, c.body, c.authorization);
    CHECK(r.status == c.status);
    CHECK(errorCode(r.body) == c.code);
    if (c.status == 401) CHECK_FALSE(r.header("WWW-Authenticate").empty());
  }

  // Authenticated and well-formed but nothing to do: 200 so Green API does not retry for 24 h.
  const std::string unknown = stateWebhook(999999, "blocked");
  for (const auto& auth :
       {bearer(kWebhookToken), "Basic " + std::string(kWebhookToken), std::string(kWebhookToken)}) {
    CAPTURE(auth.substr(0, 6));
    const auto r = postWebhook(http, unknown, auth);
    CHECK(r.status == 200);
    CHECK(statusOf(r) == "unknown_instance");
  }
  for (const std::string type : {"incomingMessageReceived", "statusInstanceChanged"}) {
    const auto r = postWebhook(
        http,
        fmt::format(
            R"({{"typeWebhook":"{}","instanceData":{{"idInstance":{},"wid":"",)"
            R"("typeInstance":"whatsapp"}},"timestamp":1705902314,"statusInstance":"offline"}})",
            type, id),
        bearer(kWebhookToken));
    CHECK(r.status == 200);
    CHECK(statusOf(r) == "ignored");
  }

  // Nothing moved: the state and the raw reading are unchanged, and the only event since the
  // baseline is the sentinel written after all of the above.
  const auto o = fleet.instance(id);
  CHECK(optText(o, "state") == "authorized");
  CHECK(optText(o, "lastObservedState") == "authorized");
  const auto after = fleet.sentinel(id);
  const auto since = fleet.events(fmt::format("&after={}", baseline.seq));
  REQUIRE(since.size() == 1);
  CHECK(since[0].seq == after.seq);
  CHECK(fleet.stateOf(id) == "authorized");
}

TEST_CASE(
    "with no webhook token and no CORS origins, webhooks get 403 and no CORS header is sent") {
  ServerFixture server({}, quietEnv());
  const auto http = server.client();
  for (const auto& auth :
       std::vector<std::optional<std::string>>{std::nullopt, bearer("anything")}) {
    const auto r = postWebhook(http, stateWebhook(1101000001, "blocked"), auth);
    CHECK(r.status == 403);
    CHECK(errorCode(r.body) == "webhooks_disabled");
  }
  HttpRequest req;
  req.path = "/api/v1/events";
  req.headers = {{"Authorization", bearer(server.adminKey())}, {"Origin", "http://dash.example"}};
  const auto r = http.send(req);
  CHECK(r.status == 200);
  CHECK(r.header("Access-Control-Allow-Origin").empty());
}

TEST_CASE("CORS headers go only to configured origins, and a preflight is answered 204") {
  ServerFixture server(
      {}, quietEnv({{"GREENFLEET_HTTP_CORS_ORIGINS", "http://dash.example, http://ops.example"}}));
  const auto http = server.client();
  const auto get = [&](const std::string& path, const std::string& origin, bool with_key = true) {
    HttpRequest req;
    req.path = path;
    if (with_key) req.headers["Authorization"] = bearer(server.adminKey());
    if (!origin.empty()) req.headers["Origin"] = origin;
    return http.send(req);
  };
  const auto preflight = [&](const std::string& path, const std::string& origin,
                             const std::string& method) {
    HttpRequest req;
    req.method = "OPTIONS";
    req.path = path;
    req.headers = {{"Origin", origin},
                   {"Access-Control-Request-Method", method},
                   {"Access-Control-Request-Headers", "authorization"}};
    return http.send(req);
  };

  for (const std::string origin : {"http://dash.example", "http://ops.example"}) {
    const auto r = get("/api/v1/events", origin);
    CHECK(r.status == 200);
    CHECK(r.header("Access-Control-Allow-Origin") == origin);
    CHECK(r.header("Vary").find("Origin") != std::string::npos);
  }
  // Errors carry it too, or the browser hides the 401 from the dashboard.
  auto r = get("/api/v1/events", "http://dash.example", false);
  CHECK(r.status == 401);
  CHECK(r.header("Access-Control-Allow-Origin") == "http://dash.example");
  r = get("/api/v1/events", "http://evil.example");
  CHECK(r.status == 200);
  CHECK(r.header("Access-Control-Allow-Origin").empty());
  CHECK(get("/api/v1/events", "").header("Access-Control-Allow-Origin").empty());

  r = preflight("/api/v1/events", "http://dash.example", "GET");
  CHECK(r.status == 204);
  CHECK(r.body.empty());
  CHECK(r.header("Access-Control-Allow-Origin") == "http://dash.example");
  CHECK(r.header("Access-Control-Allow-Methods").find("GET") != std::string::npos);
  CHECK(r.header("Access-Control-Allow-Headers").find("Authorization") != std::string::npos);
  r = preflight("/api/v1/instances/5/actions/poll", "http://dash.example", "POST");
  CHECK(r.status == 204);
  CHECK(r.header("Access-Control-Allow-Methods").find("POST") != std::string::npos);
  r = preflight("/api/v1/events", "http://evil.example", "GET");
  CHECK(r.status == 403);
  CHECK(r.header("Access-Control-Allow-Origin").empty());

  auto stream =
      openStream(server, server.adminKey(), std::nullopt, {{"Origin", "http://dash.example"}});
  CHECK(stream->status() == 200);
  CHECK(stream->header("Access-Control-Allow-Origin") == "http://dash.example");
}

TEST_CASE("an operator action is an event naming the key that asked for it") {
  Fleet fleet({"--instances", "1", "--state", "authorized"}, quietEnv());
  const Id id = fleet.registerAll().at(0).idInstance;
  REQUIRE(waitFor([&] { return fleet.stateOf(id) == "authorized"; }, 10s, 50ms));
  const std::string alice = createKey(*fleet.server, "ops-alice", "admin");
  const std::string reader = createKey(*fleet.server, "dashboard", "read");

  CHECK(fleet.poll(id, reader) == 403);
  REQUIRE(fleet.poll(id, alice) == 202);
  const auto e = fleet.waitForEvent([&](const Event& ev) { return ev.type == "action"; },
                                    fmt::format("&id={}&type=action", id));
  REQUIRE(e);
  CHECK(e->id == id);
  CHECK(e->detail == "poll");
  CHECK(e->actor == "ops-alice");
  CHECK(e->source == "action");
  CHECK(e->from.empty());
  CHECK(e->to.empty());

  // The refused read key left no trace; the next action names its own key.
  const auto next = fleet.sentinel(id);
  CHECK(next.actor == "initial-admin");
  const auto actions = fleet.events(fmt::format("&id={}&type=action", id));
  REQUIRE(actions.size() == 2);
  CHECK(actions[0].actor == "ops-alice");

  const auto r = fleet.http().get(fmt::format("/api/v1/instances/{}/events?limit=1", id), reader);
  REQUIRE(r.status == 200);
  const auto newest = eventsOf(r.body);
  REQUIRE(newest.size() == 1);
  CHECK(newest[0].seq == next.seq);
}

TEST_CASE("twenty streams all get the same event, one more gets 503, and SIGTERM ends them all") {
  Fleet fleet({"--instances", "1", "--state", "authorized"},
              quietEnv({{"GREENFLEET_EVENTS_MAX_SUBSCRIBERS", "20"},
                        {"GREENFLEET_EVENTS_MAX_STREAMS_PER_KEY", "20"}}));
  const Id id = fleet.registerAll().at(0).idInstance;
  REQUIRE(waitFor([&] { return fleet.stateOf(id) == "authorized"; }, 10s, 50ms));
  // The first reading's event is committed before the streams open, so they start quiet.
  REQUIRE(fleet.waitForEvent([&](const Event& e) { return e.type == "state_changed"; }));

  std::vector<std::unique_ptr<SseClient>> streams;
  for (int i = 0; i < 20; ++i) {
    streams.push_back(openStream(*fleet.server, fleet.key()));
    REQUIRE(streams.back()->status() == 200);
  }
  for (auto& s : streams) expectRetryFrame(*s);

  auto refused = openStream(*fleet.server, fleet.key());
  CHECK(refused->status() == 503);
  CHECK(errorCode(refused->body()) == "too_many_subscribers");
  CHECK_FALSE(refused->header("Retry-After").empty());
  // Twenty open streams; the rest of the API still answers.
  CHECK(fleet.http().get("/healthz").status == 200);

  const auto sent = fleet.sentinel(id);
  for (std::size_t i = 0; i < streams.size(); ++i) {
    CAPTURE(i);
    const auto f = streams[i]->nextEvent(10s);
    REQUIRE(f);
    CHECK(f->id == std::to_string(sent.seq));
    CHECK(f->event == "action");
    const Event e = eventOf(parseObject(f->data));
    CHECK(e.actor == "initial-admin");
  }

  // Closed streams free their slots once the server notices.
  for (int i = 0; i < 3; ++i) {
    streams.back()->close();
    streams.pop_back();
  }
  std::unique_ptr<SseClient> again;
  CHECK(waitFor(
      [&] {
        again = openStream(*fleet.server, fleet.key());
        return again->status() == 200;
      },
      5s, 50ms));

  const auto stopping = std::chrono::steady_clock::now();
  CHECK(fleet.server->stop() == 0);
  CHECK(std::chrono::steady_clock::now() - stopping < 10s);
  for (auto& s : streams) CHECK(s->waitForEnd(5s));
  CHECK(again->waitForEnd(5s));
}

TEST_CASE("event streams never take every HTTP thread: with the defaults the API stays reachable") {
  ServerFixture server({}, quietEnv({{"GREENFLEET_EVENTS_HEARTBEAT_S", "15"}}));
  // Defaults: events.max_streams_per_key 8 for the one key used here.
  std::vector<std::unique_ptr<SseClient>> streams;
  int refused_status = 0;
  for (int i = 0; i < 64 && refused_status == 0; ++i) {
    SseOptions o;
    o.bearer = server.adminKey();
    o.connect_timeout = 5s;
    auto s = std::make_unique<SseClient>("127.0.0.1", server.port(), std::move(o));
    if (s->status() == 200) {
      streams.push_back(std::move(s));
    } else {
      refused_status = s->status();
    }
  }
  CHECK(refused_status == 503);
  CHECK(streams.size() < 16);
  CHECK(server.client().get("/healthz").status == 200);
  CHECK(server.client().get("/api/v1/events", server.adminKey()).status == 200);
}

TEST_CASE("no instance token or secret appears in events, stream frames or the server log") {
  Fleet fleet({"--instances", "2", "--state", "notAuthorized"}, withWebhooks(quietEnv()),
              /*emulator_sends_webhooks=*/true);
  auto stream = openStream(*fleet.server, fleet.key());
  REQUIRE(stream->status() == 200);
  const auto all = fleet.registerAll();
  for (const auto& c : all) {
    REQUIRE(waitFor([&] { return fleet.stateOf(c.idInstance) == "notAuthorized"; }, 10s, 50ms));
  }
  // A QR fetched, a scan announced by the emulator's webhook, one posted by hand, an action.
  CHECK(fleet.http()
                .get(fmt::format("/api/v1/instances/{}/qr", all[0].idInstance), fleet.key())
                .status /
            100 ==
        2);
  REQUIRE(fleet.emu->scan(all[0].idInstance) == 200);
  REQUIRE(fleet.emu->scan(all[1].idInstance) == 200);
  CHECK(postWebhook(fleet.http(), stateWebhook(all[1].idInstance, "authorized"),
                    bearer(kWebhookToken))
            .status == 200);
  for (const auto& c : all) {
    CHECK(waitFor([&] { return fleet.stateOf(c.idInstance) == "authorized"; }, 10s, 50ms));
  }
  const auto last = fleet.sentinel(all[0].idInstance);

  std::string seen = fleet.http().get("/api/v1/events?limit=1000", fleet.key()).body;
  for (const auto& c : all) {
    seen += fleet.http()
                .get(fmt::format("/api/v1/instances/{}/events", c.idInstance), fleet.key())
                .body;
  }
  int frames = 0;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto f = stream->next(1s);
    if (!f) break;
    seen += f->data;
    for (const auto& c : f->comments) seen += c;
    if (f->isEvent()) ++frames;
    if (f->id == std::to_string(last.seq)) break;
  }
  CHECK(frames >= 4);
  REQUIRE(fleet.server->stop() == 0);
  const std::string log = fleet.server->log();
  REQUIRE_FALSE(log.empty());
  for (const auto& c : all) {
    CAPTURE(c.idInstance);
    CHECK(seen.find(c.apiTokenInstance) == std::string::npos);
    CHECK(log.find(c.apiTokenInstance) == std::string::npos);
  }
  CHECK(log.find(kWebhookToken) == std::string::npos);
  CHECK(log.find(fleet.key()) == std::string::npos);
}
