// The event-driven HTTP front against misbehaving clients, on the real binary over loopback:
// unfinished and trickled heads, idle keep-alive connections and open event streams never take
// the API down; deadlines close what is slow; connection caps refuse without disturbing others;
// early errors answer without waiting for a body; the public listener serves only its routes.
// Resource facts are asserted (answered, closed, refused), never times.

#include <regex>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "support/emulator_process.hpp"
#include "support/json.hpp"
#include "support/process_limits.hpp"
#include "support/raw_socket.hpp"
#include "support/server_fixture.hpp"
#include "support/sse_client.hpp"
#include "support/wait_for.hpp"

using namespace greenfleet::testing;
using namespace std::chrono_literals;

namespace {

using Env = std::map<std::string, std::string>;

std::string get(const std::string& path, const std::string& key = "") {
  std::string head = fmt::format("GET {} HTTP/1.1\r\nHost: test\r\n", path);
  if (!key.empty()) head += fmt::format("Authorization: Bearer {}\r\n", key);
  return head + "\r\n";
}

int statusOf(const std::string& response) {
  static const std::regex kStatus(R"(^HTTP/1\.[01] (\d{3}) )");
  std::smatch m;
  return std::regex_search(response, m, kStatus) ? std::stoi(m[1]) : 0;
}

std::unique_ptr<SseClient> openStream(int port, const std::string& key) {
  SseOptions o;
  o.bearer = key;
  return std::make_unique<SseClient>("127.0.0.1", port, std::move(o));
}

}  // namespace

TEST_CASE(
    "slow heads, trickling clients, idle connections and open streams never take the API down") {
  REQUIRE(raiseOpenFileLimit(4096) >= 4096);
  ServerFixture server({}, Env{{"GREENFLEET_HTTP_HEADER_TIMEOUT_S", "2"},
                               {"GREENFLEET_HTTP_MAX_CONNECTIONS_PER_IP", "5000"},
                               {"GREENFLEET_EVENTS_MAX_STREAMS_PER_KEY", "64"},
                               {"GREENFLEET_LOG_LEVEL", "warning"}});
  const int port = server.port();

  std::vector<std::unique_ptr<RawSocket>> unfinished, trickling, idle;
  for (int i = 0; i < 1000; ++i) {
    unfinished.push_back(std::make_unique<RawSocket>(port));
    REQUIRE(unfinished.back()->send("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
  }
  for (int i = 0; i < 100; ++i) {
    trickling.push_back(std::make_unique<RawSocket>(port));
    REQUIRE(trickling.back()->send("GET /healthz HTTP/1.1\r\n"));
  }
  std::vector<std::unique_ptr<SseClient>> streams;
  for (int i = 0; i < 64; ++i) {
    streams.push_back(openStream(port, server.adminKey()));
    REQUIRE(streams.back()->status() == 200);
  }
  for (int i = 0; i < 500; ++i) {
    idle.push_back(std::make_unique<RawSocket>(port));
    // A finished request first, so the connection is a kept-alive one waiting for the next.
    REQUIRE(idle.back()->send(get("/healthz")));
    REQUIRE(statusOf(idle.back()->receiveResponse(10s)) == 200);
  }

  // Probes interleaved with one trickled header line per client.
  int answered = 0;
  int line = 0;
  for (int probe = 0; probe < 200; ++probe) {
    const auto r = probe % 2 == 0 ? server.client().get("/healthz")
                                  : server.client().get("/api/v1/summary", server.adminKey());
    if (r.status == 200) ++answered;
    if (probe % 20 == 0) {
      for (auto& t : trickling) t->send(fmt::format("X-Trickle-{}: {}\r\n", line, line));
      ++line;
    }
  }
  CHECK(answered == 200);

  // Past http.header_timeout_s every slow head is closed, however it trickles.
  std::size_t closed = 0;
  CHECK(waitFor(
      [&] {
        for (auto& t : trickling) t->send("X-More: 1\r\n");
        closed = 0;
        for (auto& s : trickling) closed += s->closedByPeer() ? 1 : 0;
        for (auto& s : unfinished) closed += s->closedByPeer() ? 1 : 0;
        return closed == trickling.size() + unfinished.size();
      },
      30s, 250ms));
  CHECK(closed == 1100);
  // The idle keep-alive connections and the streams are still open and working.
  for (std::size_t i = 0; i < idle.size(); i += 50) {
    REQUIRE(idle[i]->send(get("/healthz")));
    CHECK(statusOf(idle[i]->receiveResponse(10s)) == 200);
  }
  for (auto& s : streams) CHECK_FALSE(s->waitForEnd(0ms));
  CHECK(server.client().get("/healthz").status == 200);
}

TEST_CASE("an unfinished head gets 408 at the header deadline, a huge head 431, garbage 400") {
  ServerFixture server({}, Env{{"GREENFLEET_HTTP_HEADER_TIMEOUT_S", "1"}});
  RawSocket slow(server.port());
  REQUIRE(slow.send("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
  const auto timed_out = slow.receiveResponse(20s);
  CHECK(statusOf(timed_out) == 408);
  CHECK(timed_out.find("\"request_timeout\"") != std::string::npos);
  CHECK(slow.closedByPeer(10s));

  RawSocket huge(server.port());
  huge.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
  const auto too_large = huge.receiveResponse(20s);
  CHECK(statusOf(too_large) == 431);
  CHECK(too_large.find("application/json") != std::string::npos);

  RawSocket garbage(server.port());
  garbage.send("\x01\x02 nonsense\r\n\r\n");
  CHECK(statusOf(garbage.receiveResponse(20s)) == 400);

  RawSocket chunked(server.port());
  chunked.send("POST /api/v1/instances HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  CHECK(statusOf(chunked.receiveResponse(20s)) == 411);
  CHECK(server.client().get("/healthz").status == 200);
}

TEST_CASE("an unauthenticated request announcing a large body gets its 401 without sending it") {
  // With a long body deadline, an answer before the body can only be the early one.
  ServerFixture server({}, Env{{"GREENFLEET_HTTP_BODY_TIMEOUT_S", "3600"}});
  RawSocket s(server.port());
  REQUIRE(
      s.send("POST /api/v1/instances HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             "Content-Length: 1000000\r\n\r\n{\""));
  const auto r = s.receiveResponse(20s);
  CHECK(statusOf(r) == 401);
  CHECK(r.find("Connection: close") != std::string::npos);
  CHECK(r.find("\"unauthorized\"") != std::string::npos);
  CHECK(s.closedByPeer(10s));

  // An oversized body announced with a valid key: 413 at once, also without the body.
  RawSocket big(server.port());
  REQUIRE(
      big.send(fmt::format("POST /api/v1/instances HTTP/1.1\r\nHost: x\r\n"
                           "Authorization: Bearer {}\r\nContent-Type: application/json\r\n"
                           "Content-Length: 50000000\r\n\r\n",
                           server.adminKey())));
  CHECK(statusOf(big.receiveResponse(20s)) == 413);
}

TEST_CASE("connection number max_connections + 1 is refused and the others keep working") {
  ServerFixture server({}, Env{{"GREENFLEET_HTTP_MAX_CONNECTIONS", "40"}});
  std::vector<std::unique_ptr<RawSocket>> open;
  for (int i = 0; i < 40; ++i) open.push_back(std::make_unique<RawSocket>(server.port()));
  // Connections are counted once accepted: wait until one answers, so all 40 are in.
  REQUIRE(open.back()->send(get("/healthz")));
  REQUIRE(statusOf(open.back()->receiveResponse(10s)) == 200);

  RawSocket extra(server.port());
  const auto refused = extra.receive(10s);
  CHECK(statusOf(refused) == 503);
  CHECK(extra.closedByPeer(10s));
  for (auto& s : open) {
    REQUIRE(s->send(get("/healthz")));
    CHECK(statusOf(s->receiveResponse(10s)) == 200);
  }
  // A slot freed is a slot usable again.
  open.pop_back();
  CHECK(waitFor(
      [&] {
        RawSocket again(server.port());
        if (!again.send(get("/healthz"))) return false;
        return statusOf(again.receiveResponse(5s)) == 200;
      },
      10s, 50ms));
}

TEST_CASE("connections per client address are capped and another address is unaffected") {
  ServerFixture server({}, Env{{"GREENFLEET_HTTP_MAX_CONNECTIONS_PER_IP", "5"}});
  std::vector<std::unique_ptr<RawSocket>> open;
  for (int i = 0; i < 5; ++i) {
    open.push_back(std::make_unique<RawSocket>(server.port(), "127.0.0.1"));
    REQUIRE(open.back()->send(get("/healthz")));
    REQUIRE(statusOf(open.back()->receiveResponse(10s)) == 200);
  }
  RawSocket sixth(server.port(), "127.0.0.1");
  CHECK(statusOf(sixth.receive(10s)) == 503);
  RawSocket other(server.port(), "127.0.0.2");
  REQUIRE(other.send(get("/healthz")));
  CHECK(statusOf(other.receiveResponse(10s)) == 200);
}

TEST_CASE("pipelined requests are answered in order on one connection") {
  ServerFixture server;
  RawSocket s(server.port());
  REQUIRE(s.send(get("/healthz") + get("/api/v1/nothing", server.adminKey()) + get("/readyz")));
  CHECK(statusOf(s.receiveResponse(10s)) == 200);
  CHECK(statusOf(s.receiveResponse(10s)) == 404);
  const auto third = s.receiveResponse(10s);
  CHECK(statusOf(third) == 200);
  CHECK(third.find("ready") != std::string::npos);
}

TEST_CASE("the public listener serves only the webhook route, which leaves the admin listener") {
  ServerFixture server({}, Env{{"GREENFLEET_PUBLIC_ENABLED", "true"},
                               {"GREENFLEET_PUBLIC_HOST", "127.0.0.1"},
                               {"GREENFLEET_PUBLIC_PORT", "0"},
                               {"GREENFLEET_WEBHOOKS_TOKEN", "hook-secret"}});
  const int public_port = server.publicPort();
  REQUIRE(public_port != 0);
  REQUIRE(public_port != server.port());
  const HttpClient pub("127.0.0.1", public_port);
  HttpRequest hook;
  hook.method = "POST";
  hook.path = "/webhooks/green-api";
  hook.body = R"({"typeWebhook":"stateInstanceChanged","instanceData":{"idInstance":1},)"
              R"("timestamp":1,"stateInstance":"authorized"})";
  hook.headers = {{"Authorization", "Bearer hook-secret"}};
  CHECK(pub.send(hook).status == 200);
  CHECK(server.client().send(hook).status == 404);
  CHECK(pub.get("/healthz").status == 404);
  CHECK(pub.get("/api/v1/summary", server.adminKey()).status == 404);
  CHECK(server.client().get("/healthz").status == 200);
}

TEST_CASE(
    "summary and needs-scan carry an ETag, answer 304 to it, change it after a change, gzip on "
    "request") {
  ServerFixture server({}, Env{{"GREENFLEET_UPSTREAM_DEFAULT_API_URL", "http://127.0.0.1:9"}});
  const auto http = server.client();
  const auto& key = server.adminKey();
  for (const std::string path : {"/api/v1/summary", "/api/v1/needs-scan"}) {
    CAPTURE(path);
    const auto first = http.get(path, key);
    REQUIRE(first.status == 200);
    const std::string etag = first.header("ETag");
    REQUIRE(etag.size() > 2);
    HttpRequest again{
        "GET", path, "", {{"Authorization", "Bearer " + key}, {"If-None-Match", etag}}};
    const auto not_modified = http.send(again);
    // The snapshot may have been renewed in between (generatedAt moves): then a new tag.
    if (not_modified.status == 304) {
      CHECK(not_modified.body.empty());
      CHECK(not_modified.header("ETag") == etag);
    } else {
      CHECK(not_modified.status == 200);
      CHECK(not_modified.header("ETag") != etag);
    }
    HttpRequest stale{
        "GET", path, "", {{"Authorization", "Bearer " + key}, {"If-None-Match", "\"0\""}}};
    CHECK(http.send(stale).status == 200);
  }

  // A registry change is a new fleet: a new body, a new tag.
  const auto before = http.get("/api/v1/summary", key);
  REQUIRE(
      http.post("/api/v1/instances",
                R"({"id":1101000001,"token":"0123456789abcdef0123456789abcdef0123456789abcdef01"})",
                key)
          .status == 201);
  const auto after = http.get("/api/v1/summary", key);
  CHECK(after.header("ETag") != before.header("ETag"));
  HttpRequest conditional{
      "GET",
      "/api/v1/summary",
      "",
      {{"Authorization", "Bearer " + key}, {"If-None-Match", before.header("ETag")}}};
  CHECK(http.send(conditional).status == 200);

  // gzip on request (the raw bytes start with the gzip magic), plain otherwise.
  RawSocket raw(server.port());
  REQUIRE(
      raw.send(fmt::format("GET /api/v1/summary HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n"
                           "Accept-Encoding: gzip, deflate\r\n\r\n",
                           key)));
  const auto zipped = raw.receiveResponse(10s);
  REQUIRE(statusOf(zipped) == 200);
  CHECK(zipped.find("Content-Encoding: gzip") != std::string::npos);
  const auto body_at = zipped.find("\r\n\r\n") + 4;
  REQUIRE(zipped.size() > body_at + 2);
  CHECK(static_cast<unsigned char>(zipped[body_at]) == 0x1f);
  CHECK(static_cast<unsigned char>(zipped[body_at + 1]) == 0x8b);
  CHECK(http.get("/api/v1/summary", key).header("Content-Encoding").empty());
}

TEST_CASE("a large shared body and the answers pipelined behind it arrive whole and in order") {
  EmulatorProcess emu({"--instances", "200", "--state", "notAuthorized"});
  ServerFixture server({}, Env{{"GREENFLEET_UPSTREAM_DEFAULT_API_URL", emu.apiUrl()},
                               {"GREENFLEET_SCHEDULER_STARTUP_SPREAD_S", "0"},
                               {"GREENFLEET_SESSIONS_AUTO_START", "false"},
                               {"GREENFLEET_SCHEDULER_CONFIRM_DELAY_S", "0.2"},
                               {"GREENFLEET_LOG_LEVEL", "warning"}});
  std::string batch = "[";
  for (const auto& c : emu.instances()) {
    batch +=
        fmt::format(R"({}{{"id":{},"token":"{}","name":"a fairly long shop name {}"}})",
                    batch.size() > 1 ? "," : "", c.idInstance, c.apiTokenInstance, c.idInstance);
  }
  REQUIRE(server.client().post("/api/v1/instances", batch + "]", server.adminKey()).status == 201);
  REQUIRE(waitFor(
      [&] {
        const auto r = server.client().get("/api/v1/needs-scan", server.adminKey());
        return r.status == 200 && parseObject(r.body)->getValue<int>("total") == 200;
      },
      30s, 100ms));

  RawSocket s(server.port());
  const std::string ask = get("/api/v1/needs-scan", server.adminKey());
  REQUIRE(s.send(ask + get("/healthz") + ask));
  const auto first = s.receiveResponse(20s);
  const auto second = s.receiveResponse(20s);
  const auto third = s.receiveResponse(20s);
  REQUIRE(statusOf(first) == 200);
  CHECK(statusOf(second) == 200);
  CHECK(second.find("\"ok\"") != std::string::npos);
  CHECK(statusOf(third) == 200);
  const auto body = first.substr(first.find("\r\n\r\n") + 4);
  CHECK(body.size() > 16 * 1024);
  CHECK(parseObject(body)->getArray("items")->size() == 200);
  CHECK(parseObject(third.substr(third.find("\r\n\r\n") + 4))->getArray("items")->size() == 200);
}
