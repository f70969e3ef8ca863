#include <doctest/doctest.h>

#include <Poco/JSON/Parser.h>

#include "base/clock.hpp"
#include "emulator/control_json.hpp"
#include "emulator/emulated_instance.hpp"
#include "emulator/rate_window.hpp"

using namespace greenfleet;
using namespace greenfleet::emulator;
using namespace std::chrono_literals;

namespace {
Poco::JSON::Object::Ptr parseObject(const std::string& text) {
  return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
}

std::string instanceText(EmulatedInstance& inst, base::SteadyTime now, bool with_counters) {
  std::string out;
  appendInstanceJson(out, jsonString("http://127.0.0.1:9/a\"b"), inst, now, with_counters);
  return out;
}
}  // namespace

TEST_CASE("an emulated instance stays small: a million of them fit in ~120 MB idle") {
  // Was ~330 bytes with its own mutex, a stored token, state strings and maps (issue 14).
  CHECK(sizeof(EmulatedInstance) <= 128);
}

TEST_CASE("the token is derived from seed and id, not stored") {
  base::ManualClock clock;
  EmulatorOptions o;
  o.seed = 9;
  EmulatedInstance inst(1101000007, states::kAuthorized, clock.steadyNow(), o);
  CHECK(inst.token() == tokenFor(9, 1101000007));
  CHECK(inst.tokenMatches(tokenFor(9, 1101000007)));
  CHECK_FALSE(inst.tokenMatches(tokenFor(9, 1101000008)));
  CHECK_FALSE(inst.tokenMatches(tokenFor(9, 1101000007).substr(0, 49)));
  CHECK_THROWS_AS(EmulatedInstance(1, "bogus", clock.steadyNow(), o), std::invalid_argument);
}

TEST_CASE("the control API's instance JSON carries token, URL, state, phone, QR and faults") {
  base::ManualClock clock;
  EmulatorOptions o;
  EmulatedInstance waiting(1101000001, states::kNotAuthorized, clock.steadyNow(), o);
  clock.advance(45s);
  const auto now = clock.steadyNow();
  auto j = parseObject(instanceText(waiting, now, false));
  CHECK(j->getValue<std::string>("apiTokenInstance") == tokenFor(o.seed, 1101000001));
  CHECK(j->getValue<std::string>("apiUrl") == "http://127.0.0.1:9/a\"b");  // escaped once
  CHECK(j->getValue<Poco::Int64>("idInstance") == 1101000001);
  CHECK(j->getValue<std::string>("state") == "notAuthorized");
  CHECK(j->getValue<std::string>("phone") == waiting.phone());
  CHECK(j->getValue<std::string>("wid").empty());
  CHECK(j->isNull("faults"));
  CHECK_FALSE(j->has("counters"));
  const auto qr = j->getObject("qr");
  REQUIRE(qr);
  CHECK(qr->getValue<std::string>("payload") == waiting.qrPayload(now));
  CHECK(qr->getValue<Poco::UInt64>("rotation") == 2);

  EmulatedInstance online(1101000002, states::kAuthorized, now, o);
  FaultProfile faults;
  faults.hangProbability = 0.5;
  online.faults = faults;
  online.admit("getStateInstance", now);
  online.admit("getStateInstance", now);
  online.countUnauthorized("sendmessage");
  j = parseObject(instanceText(online, now, true));
  CHECK(j->isNull("qr"));
  CHECK(j->getValue<std::string>("wid") == online.phone() + "@c.us");
  CHECK(j->getObject("faults")->getValue<double>("hangProbability") == doctest::Approx(0.5));
  const auto counters = j->getObject("counters");
  REQUIRE(counters);
  const auto gsi = counters->getObject("getStateInstance");
  CHECK(gsi->getValue<int>("requests") == 2);
  CHECK(gsi->getValue<int>("accepted") == 1);
  CHECK(gsi->getValue<int>("rateLimited") == 1);
  CHECK(gsi->getValue<int>("maxPerSecond") == 1);
  CHECK(counters->getObject("sendmessage")->getValue<int>("requests") == 1);
  online.resetCounters();
  CHECK(parseObject(instanceText(online, now, true))->getObject("counters")->size() == 0);
}

TEST_CASE("RateWindow beyond its inline slots: a limit of 5 and an unlimited window") {
  base::ManualClock clock;
  const auto t0 = clock.steadyNow();
  RateWindow five(5, 1s);
  for (int i = 0; i < 5; ++i) CHECK(five.tryAccept(t0 + i * 10ms));
  CHECK_FALSE(five.tryAccept(t0 + 100ms));
  CHECK(five.tryAccept(t0 + 1s));  // the first left the window
  CHECK(five.maxPerWindow() == 5);
  RateWindow unlimited(0, 1s);
  for (int i = 0; i < 20; ++i) CHECK(unlimited.tryAccept(t0));
  const RateWindow copy = unlimited;  // a copy holds its own ring
  CHECK(copy.maxPerWindow() == 20);
  RateWindow again = copy;
  CHECK(again.tryAccept(t0 + 2s));
  CHECK(again.maxPerWindow() == 20);
}
