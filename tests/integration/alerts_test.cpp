// Alerts out: the real server, the emulator and a receiver on loopback. One delivery per
// transition, the Slack form, retries while the receiver fails and nothing lost once it is back.

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "support/emulator_process.hpp"
#include "support/http_receiver.hpp"
#include "support/json.hpp"
#include "support/server_fixture.hpp"
#include "support/wait_for.hpp"

using namespace greenfleet::testing;
using namespace std::chrono_literals;

namespace {

struct Notice {
  std::string event;
  std::string attention;
  std::int64_t id = 0;
  std::string name;
};

std::vector<Notice> noticesAt(const HttpReceiver& receiver, const std::string& path,
                              bool delivered_only = true) {
  std::vector<Notice> out;
  for (const auto& r : receiver.requests()) {
    if (r.path != path || (delivered_only && r.answered != 200)) continue;
    const auto o = parseObject(r.body);
    const auto instance = o->getObject("instance");
    out.push_back(Notice{o->getValue<std::string>("event"), o->getValue<std::string>("attention"),
                         instance->getValue<std::int64_t>("id"),
                         instance->getValue<std::string>("name")});
  }
  return out;
}

std::size_t count(const std::vector<Notice>& notices, std::int64_t id, const std::string& event,
                  const std::string& attention) {
  return static_cast<std::size_t>(std::count_if(notices.begin(), notices.end(), [&](const auto& n) {
    return n.id == id && n.event == event && n.attention == attention;
  }));
}

}  // namespace

TEST_CASE(
    "alerts: one notice per transition to every target, retried until a failing receiver is back") {
  EmulatorProcess emu({"--instances", "3", "--state", "authorized"});
  const auto fleet = emu.instances();
  HttpReceiver receiver;
  ServerFixture server(
      {}, {{"GREENFLEET_SCHEDULER_INTERVAL_AUTHORIZED_S", "2"},
           {"GREENFLEET_SCHEDULER_INTERVAL_NOT_AUTHORIZED_S", "2"},
           {"GREENFLEET_SCHEDULER_STARTUP_SPREAD_S", "1"},
           {"GREENFLEET_SCHEDULER_CONFIRM_DELAY_S", "1"},
           {"GREENFLEET_ALERTS_TARGETS",
            fmt::format("{}, slack:{}", receiver.url("/hook"), receiver.url("/slack"))},
           {"GREENFLEET_ALERTS_RETRY_MIN_S", "0.2"},
           {"GREENFLEET_ALERTS_RETRY_MAX_S", "0.5"}});
  const auto http = server.client();
  for (std::size_t i = 0; i < fleet.size(); ++i) {
    const auto body = fmt::format(R"({{"id":{},"token":"{}","apiUrl":"{}","name":"shop \"{}\""}})",
                                  fleet[i].idInstance, fleet[i].apiTokenInstance, emu.apiUrl(), i);
    REQUIRE(http.post("/api/v1/instances", body, server.adminKey()).status == 201);
  }
  const auto a = fleet[0].idInstance;
  const auto b = fleet[1].idInstance;

  // Logged out: one "entered needs_scan" at each target, with the name as registered.
  REQUIRE(emu.setState(a, "notAuthorized") == 200);
  REQUIRE(
      waitFor([&] { return count(noticesAt(receiver, "/hook"), a, "entered", "needs_scan") == 1; },
              30s, 100ms));
  REQUIRE(waitFor(
      [&] {
        for (const auto& r : receiver.requests()) {
          if (r.path == "/slack" && r.body.find("needs a QR scan") != std::string::npos)
            return true;
        }
        return false;
      },
      10s, 100ms));
  const auto hook = noticesAt(receiver, "/hook");
  CHECK(std::find_if(hook.begin(), hook.end(), [&](const auto& n) {
          return n.id == a && n.name == "shop \"0\"";
        }) != hook.end());
  for (const auto& r : receiver.requests()) {
    CHECK(r.method == "POST");
    CHECK(r.content_type == "application/json");
    if (r.path == "/slack") CHECK(parseObject(r.body)->has("text"));
    for (const auto& c : fleet) CHECK(r.body.find(c.apiTokenInstance) == std::string::npos);
  }

  // Scanned again: one "left".
  REQUIRE(emu.scan(a) == 200);
  REQUIRE(waitFor([&] { return count(noticesAt(receiver, "/hook"), a, "left", "needs_scan") == 1; },
                  30s, 100ms));

  // The receiver fails: the notice is retried (several failed attempts), then delivered once
  // when it is back, nothing lost and nothing twice.
  receiver.answerWith(503);
  REQUIRE(emu.setState(b, "blocked") == 200);
  REQUIRE(waitFor(
      [&] {
        const auto all = noticesAt(receiver, "/hook", false);
        return count(all, b, "entered", "blocked") >= 3;
      },
      30s, 100ms));
  CHECK(count(noticesAt(receiver, "/hook"), b, "entered", "blocked") == 0);
  receiver.answerWith(200);
  REQUIRE(waitFor([&] { return count(noticesAt(receiver, "/hook"), b, "entered", "blocked") == 1; },
                  30s, 100ms));
  std::this_thread::sleep_for(1500ms);  // longer than the retry cap: a second copy would be here
  const auto final_hook = noticesAt(receiver, "/hook");
  CHECK(count(final_hook, b, "entered", "blocked") == 1);
  CHECK(count(final_hook, a, "entered", "needs_scan") == 1);
  CHECK(count(final_hook, a, "left", "needs_scan") == 1);

  // Every attempt is an event and a metric.
  const auto events = http.get("/api/v1/events?type=alert&limit=100", server.adminKey());
  REQUIRE(events.status == 200);
  CHECK(events.body.find("blocked entered: delivered to http://127.0.0.1:") != std::string::npos);
  CHECK(events.body.find("answered HTTP 503") != std::string::npos);
  const auto metrics = http.get("/metrics").body;
  CHECK(metrics.find(R"(greenfleet_alert_notices_total{result="delivered"})") != std::string::npos);
  CHECK(metrics.find(R"(greenfleet_alert_notices_total{result="failed"})") != std::string::npos);
}

TEST_CASE("alerts: a bad alerts.targets value stops start-up with a message that hides the URL") {
  ServerFixture server({}, {});
  server.stop();
  server.setEnv({{"GREENFLEET_ALERTS_TARGETS", "ftp://secret-hook-path.example/x"}});
  std::string output;
  const int code = server.runCommand({"serve", "--port", "0"}, output);
  CHECK(code != 0);
  CHECK(output.find("alerts.targets item 1") != std::string::npos);
  CHECK(output.find("secret-hook-path") == std::string::npos);
}
