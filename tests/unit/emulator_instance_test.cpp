#include <doctest/doctest.h>

#include <set>
#include <stdexcept>

#include <Poco/JSON/Parser.h>

#include "base/clock.hpp"
#include "emulator/controllable_clock.hpp"
#include "emulator/emulated_instance.hpp"
#include "emulator/fault_profile.hpp"
#include "emulator/rate_window.hpp"
#include "emulator/scenario.hpp"
#include "fleet/qr_png.hpp"
#include "support/qr_image.hpp"

using namespace greenfleet;
using namespace greenfleet::emulator;
using namespace std::chrono_literals;

namespace {

EmulatorOptions shortDelays() {
  EmulatorOptions o;
  o.delays.initializing = 2s;
  o.delays.starting = 3s;
  o.delays.logout = 1s;
  o.delays.reboot = 5s;
  o.delays.qrRotation = 20s;
  o.delays.qrQuirk = 300s;
  o.delays.qrQuirkGap = 30s;
  return o;
}

std::vector<std::string> targets(const std::vector<Transition>& ts) {
  std::vector<std::string> out;
  for (const auto& t : ts) out.push_back(t.to);
  return out;
}

}  // namespace

TEST_CASE("RateWindow accepts exactly N requests in any one-second window and never more") {
  base::ManualClock clock;
  RateWindow w(3, 1s);
  const auto t0 = clock.steadyNow();
  CHECK(w.tryAccept(t0));
  CHECK(w.tryAccept(t0 + 100ms));
  CHECK(w.tryAccept(t0 + 200ms));
  CHECK_FALSE(w.tryAccept(t0 + 300ms));  // 4th within (t-1s, t]
  CHECK_FALSE(w.tryAccept(t0 + 999ms));  // still 3 accepted in the window
  CHECK(w.tryAccept(t0 + 1000ms));       // t0 left the window
  CHECK_FALSE(w.tryAccept(t0 + 1050ms));
  CHECK(w.tryAccept(t0 + 1100ms));
  CHECK(w.maxPerWindow() == 3);
}

TEST_CASE("RateWindow at 1/s: rejected requests do not count, a paced client never trips it") {
  base::ManualClock clock;
  RateWindow w(1, 1s);
  const auto t0 = clock.steadyNow();
  CHECK(w.tryAccept(t0));
  for (int i = 1; i < 10; ++i) CHECK_FALSE(w.tryAccept(t0 + i * 99ms));
  CHECK(w.tryAccept(t0 + 1s));  // the 429s above did not extend the window
  for (int i = 2; i < 100; ++i) CHECK(w.tryAccept(t0 + i * 1s));
  CHECK(w.maxPerWindow() == 1);
}

TEST_CASE("a new instance initializes, starts, then waits for a scan; scan authorizes it") {
  base::ManualClock clock;
  const auto o = shortDelays();
  EmulatedInstance inst(1101000001, states::kNew, clock.steadyNow(), o);
  std::vector<Transition> tr;
  inst.advance(clock.steadyNow(), tr);
  CHECK(inst.state() == "new");
  clock.advance(1999ms);
  inst.advance(clock.steadyNow(), tr);
  CHECK(inst.state() == "new");
  clock.advance(1ms);
  inst.advance(clock.steadyNow(), tr);
  CHECK(inst.state() == "starting");
  CHECK_FALSE(inst.scan(clock.steadyNow(), tr));
  clock.advance(3s);
  inst.advance(clock.steadyNow(), tr);
  CHECK(inst.state() == "notAuthorized");
  CHECK(inst.wid().empty());
  CHECK(inst.scan(clock.steadyNow(), tr));
  CHECK(inst.state() == "authorized");
  CHECK(inst.wid() == "71101000001@c.us");
  CHECK(targets(tr) == std::vector<std::string>{"starting", "notAuthorized", "authorized"});
  CHECK(tr.back().wid == "71101000001@c.us");
}

TEST_CASE("logout takes effect after the logout delay; reboot returns to the previous state") {
  base::ManualClock clock;
  const auto o = shortDelays();
  EmulatedInstance inst(7, states::kAuthorized, clock.steadyNow(), o);
  std::vector<Transition> tr;
  CHECK(inst.logout(clock.steadyNow(), tr));
  CHECK(inst.state() == "authorized");
  clock.advance(1s);
  inst.advance(clock.steadyNow(), tr);
  CHECK(inst.state() == "notAuthorized");
  CHECK_FALSE(inst.logout(clock.steadyNow(), tr));

  SUBCASE("reboot of a notAuthorized instance") {
    inst.reboot(clock.steadyNow(), tr);
    CHECK(inst.state() == "starting");
    clock.advance(4999ms);
    inst.advance(clock.steadyNow(), tr);
    CHECK(inst.state() == "starting");
    clock.advance(1ms);
    inst.advance(clock.steadyNow(), tr);
    CHECK(inst.state() == "notAuthorized");
  }
  SUBCASE("reboot of a blocked instance comes back blocked") {
    inst.setState("blocked", clock.steadyNow(), tr);
    inst.reboot(clock.steadyNow(), tr);
    clock.advance(5s);
    inst.advance(clock.steadyNow(), tr);
    CHECK(inst.state() == "blocked");
  }
}

TEST_CASE("QR payload rotates every qrRotation and never repeats across notAuthorized periods") {
  base::ManualClock clock;
  const auto o = shortDelays();
  EmulatedInstance inst(42, states::kNotAuthorized, clock.steadyNow(), o);
  std::vector<Transition> tr;
  const std::string p0 = inst.qrPayload(clock.steadyNow());
  CHECK(p0.rfind("2@42-0-", 0) == 0);
  clock.advance(19999ms);
  CHECK(inst.qrPayload(clock.steadyNow()) == p0);
  clock.advance(1ms);
  const std::string p1 = inst.qrPayload(clock.steadyNow());
  CHECK(p1.rfind("2@42-1-", 0) == 0);
  std::set<std::string> seen{p0, p1};
  CHECK(inst.scan(clock.steadyNow(), tr));
  CHECK(inst.logout(clock.steadyNow(), tr));
  clock.advance(1s);
  inst.advance(clock.steadyNow(), tr);
  REQUIRE(inst.state() == "notAuthorized");
  CHECK(seen.count(inst.qrPayload(clock.steadyNow())) == 0);
  // Same seed and id → same payload: tests can predict it.
  EmulatedInstance twin(42, states::kNotAuthorized, clock.steadyNow(), o);
  CHECK(twin.qrPayload(clock.steadyNow()) == p0);
}

TEST_CASE("polling qr continuously for five minutes pushes the instance into starting (#285)") {
  base::ManualClock clock;
  const auto o = shortDelays();
  EmulatedInstance inst(5, states::kNotAuthorized, clock.steadyNow(), o);
  std::vector<Transition> tr;
  for (int i = 0; i < 300; ++i) {  // polls at 0 s … 299 s
    inst.noteQrPoll(clock.steadyNow(), tr);
    clock.advance(1s);
  }
  CHECK(inst.state() == "notAuthorized");
  inst.noteQrPoll(clock.steadyNow(), tr);
  CHECK(inst.state() == "starting");
  clock.advance(1h);
  inst.advance(clock.steadyNow(), tr);
  CHECK(inst.state() == "starting");  // stuck until rebooted, like upstream
  inst.reboot(clock.steadyNow(), tr);
  clock.advance(5s);
  inst.advance(clock.steadyNow(), tr);
  CHECK(inst.state() == "notAuthorized");

  SUBCASE("a pause longer than the gap restarts the five minutes") {
    for (int i = 0; i < 200; ++i) {
      inst.noteQrPoll(clock.steadyNow(), tr);
      clock.advance(1s);
    }
    clock.advance(31s);
    for (int i = 0; i < 200; ++i) {
      inst.noteQrPoll(clock.steadyNow(), tr);
      clock.advance(1s);
    }
    CHECK(inst.state() == "notAuthorized");
  }
}

TEST_CASE("admit counts requests, accepted, 429s and the peak per second per method") {
  base::ManualClock clock;
  const auto o = shortDelays();
  EmulatedInstance inst(5, states::kNotAuthorized, clock.steadyNow(), o);
  for (int i = 0; i < 5; ++i) inst.admit("qr", clock.steadyNow());
  for (int i = 0; i < 2; ++i) inst.admit("getStateInstance", clock.steadyNow());
  const auto& c = inst.counters();
  CHECK(c.at("qr").requests == 5);
  CHECK(c.at("qr").accepted == 3);
  CHECK(c.at("qr").rateLimited == 2);
  CHECK(c.at("qr").maxPerSecond == 3);
  CHECK(c.at("getStateInstance").accepted == 1);
  CHECK(c.at("getStateInstance").rateLimited == 1);
  inst.resetCounters();
  CHECK(inst.counters().empty());
}

TEST_CASE("tokens are 50 lowercase hex characters, deterministic from the seed") {
  const std::string a = tokenFor(1, 1101000001);
  CHECK(a.size() == 50);
  CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(tokenFor(1, 1101000001) == a);
  CHECK(tokenFor(2, 1101000001) != a);
  CHECK(tokenFor(1, 1101000002) != a);
}

TEST_CASE("renderQrPng produces a 256x256 PNG whose modules are the QR code of the payload") {
  const std::string payload = "2@1101000001-0-0123456789abcdef";
  const std::string png = fleet::renderQrPng(payload);
  const auto image = testing::readPng(png);
  REQUIRE(image.has_value());
  CHECK(image->width == 256);
  CHECK(image->height == 256);
  CHECK(testing::pngEncodesPayload(png, payload));
  CHECK_FALSE(testing::pngEncodesPayload(png, "2@1101000001-1-0123456789abcdef"));
  CHECK(testing::base64Decode(fleet::base64Encode(png)) == png);
  CHECK(testing::decodeWithZbar(png) == payload);
  // A missing decoder is a failure, never a skipped check.
  CHECK_THROWS_AS(testing::decodeWithZbar(png, "/nonexistent/zbarimg"), std::runtime_error);
}

TEST_CASE("FaultProfile parses strictly and its rolls follow the probabilities") {
  auto parse = [](const std::string& text) {
    return FaultProfile::fromJson(
        Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>());
  };
  CHECK_FALSE(parse(R"({"errorRates":{"abc":0.5}})").has_value());
  CHECK_FALSE(parse(R"({"errorRates":{"500":1.5}})").has_value());
  CHECK_FALSE(parse(R"({"bogus":1})").has_value());
  CHECK_FALSE(parse(R"({"latencyMs":"5"})").has_value());
  auto p = parse(R"({"errorRates":{"500":0.25,"429":0.25},"latencyMs":7,"methods":["QR"]})");
  REQUIRE(p.has_value());
  CHECK(p->latencyMinMs == 7);
  CHECK(p->appliesTo("qr"));
  CHECK_FALSE(p->appliesTo("getstateinstance"));
  std::mt19937_64 rng(7);
  std::map<int, int> seen;
  for (int i = 0; i < 4000; ++i) {
    const auto d = p->decide(rng, "qr");
    CHECK(d.latency == 7ms);
    seen[d.action == FaultAction::error ? d.status : 0]++;
  }
  CHECK(seen[500] > 850);
  CHECK(seen[500] < 1150);
  CHECK(seen[429] > 850);
  CHECK(seen[429] < 1150);
  CHECK(p->decide(rng, "getstateinstance").action == FaultAction::none);
  // Same seed, same rolls: fault runs are repeatable.
  std::mt19937_64 a(99), b(99);
  for (int i = 0; i < 50; ++i) CHECK(p->decide(a, "qr").status == p->decide(b, "qr").status);
}

TEST_CASE("Scenario reads instances by state, faults and delays, and rejects unknown fields") {
  EmulatorOptions o;
  auto s = Scenario::parse(
      R"({"instances":{"authorized":150,"notAuthorized":30,"starting":10,"blocked":5,)"
      R"("suspended":5},)"
      R"("faults":{"errorRates":{"502":0.01}},"delays":{"startingMs":500,"qrRotationMs":2000},)"
      R"("seed":9,"wsTimeoutType":"timeout"})",
      o);
  REQUIRE(s.has_value());
  int total = 0;
  for (const auto& [state, n] : s->instances) total += n;
  CHECK(total == 200);
  CHECK(s->instances.front() == std::pair<std::string, int>{"authorized", 150});
  REQUIRE(s->faults.has_value());
  CHECK(s->faults->errorRates.at(502) == doctest::Approx(0.01));
  CHECK(o.delays.starting == 500ms);
  CHECK(o.delays.qrRotation == 2000ms);
  CHECK(o.seed == 9);
  CHECK(o.wsTimeoutType == "timeout");
  CHECK_FALSE(Scenario::parse(R"({"instances":{"weird":1}})", o).has_value());
  CHECK_FALSE(Scenario::parse(R"({"delays":{"startingMs":-1}})", o).has_value());
  CHECK_FALSE(Scenario::parse(R"({"extra":1})", o).has_value());
  CHECK_FALSE(Scenario::parse("not json", o).has_value());
}

TEST_CASE("ControllableClock starts at its source's present and moves only when advanced") {
  base::ManualClock source;
  emulator::ControllableClock clock(source);
  const auto steady = clock.steadyNow();
  const auto wall = clock.wallNow();
  CHECK(steady == source.steadyNow());
  CHECK(wall == source.wallNow());
  source.advance(std::chrono::seconds(5));  // the source moving does not move it
  CHECK(clock.steadyNow() == steady);
  clock.advance(std::chrono::milliseconds(1020));
  CHECK(clock.steadyNow() - steady == std::chrono::milliseconds(1020));
  CHECK(clock.wallNow() - wall == std::chrono::milliseconds(1020));
  CHECK(clock.elapsed() == std::chrono::milliseconds(1020));
}
